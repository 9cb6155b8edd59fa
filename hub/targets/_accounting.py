"""Accounting kinds by name, like order target kinds: how an accounting target is connected.

A kind registers once (``register_accounting_kind``) from its own module; the Odoo kind from
``hub.targets.odoo_accounting``. The invoicing asset (``hub/defs/accounting``) builds its connection
from here, so nothing else names kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from canonical.errors import ConfigurationError


@dataclass(frozen=True)
class AccountingKind:
    """One kind of accounting system: ``connection(name)`` is its Dagster resource, whose ``accounting(name)``
    opens an :class:`hub.targets.AccountingTarget` for one pass."""

    kind: str
    connection: Callable[..., Any]
    description: str = ""
    # True: the order target's resource (under the target's name) opens it too, as Odoo's does; False: the
    # invoicing asset gets ``connection(name)`` as its own resource ``<name>_accounting``.
    shares_target_connection: bool = False


_KINDS: dict[str, AccountingKind] = {}


def register_accounting_kind(kind: AccountingKind) -> AccountingKind:
    """Make ``kind`` usable; registering the same kind again replaces it."""
    _KINDS[kind.kind] = kind
    return kind


def accounting_kind(kind: str) -> AccountingKind:
    """The registered kind, or a configuration error naming the known ones."""
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ConfigurationError(f"unknown accounting kind {kind!r} (registered: {known})") from None
