"""Target kinds by name: how a profile's ``targets: [{kind: odoo, name: erp}]`` entry becomes a connection.

A kind registers once (``register_target_kind``), from its own module: the Odoo kind from
``hub.targets.odoo``, a new one from wherever it lives (a test folder, a plugin). Nothing else
names kinds: the Dagster definitions build one push asset per configured target from here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from canonical.errors import ConfigurationError
from hub.targets._protocol import OrderTarget
from mappings.profiles import PartnerProfile

ERP_TARGET = "erp"
"""The outbox target name of the Odoo ERP every profile delivers to unless it lists its targets."""


class TargetConnection(Protocol):
    """A configured target (a Dagster resource): opens the target for one delivery pass."""

    def target(self, name: str) -> AbstractContextManager[OrderTarget]:
        """The target, connected, named ``name`` in the outbox."""
        ...

    def write_settle(self) -> dt.timedelta:
        """How long a write sent without an answer (or by a run that died) may still commit in the target."""
        ...


@dataclass(frozen=True)
class TargetKind:
    """One kind of target system: how to connect to one (``connection(name)``) and what it holds."""

    kind: str
    connection: Callable[..., Any]  # target name -> a TargetConnection (a Dagster ConfigurableResource)
    records: str = "orders"  # what the target keeps our orders as: names its asset ``<name>_<records>``
    description: str = ""
    # Takes the profiles' delivery settings as keyword arguments of ``connection`` (``DELIVERY_SETTINGS``).
    batches: bool = False
    # The accounting kind the profiles invoice this target's orders in (``accounting: {kind: ...}``); None: its own.
    accounting: str | None = None

    def asset_name(self, name: str) -> str:
        """The Dagster asset of target ``name``, e.g. ``erp_sales_orders``."""
        return f"{name}_{self.records}"


_KINDS: dict[str, TargetKind] = {}


def register_target_kind(kind: TargetKind) -> TargetKind:
    """Make ``kind`` usable in profiles' ``targets``; registering the same kind again replaces it."""
    _KINDS[kind.kind] = kind
    return kind


def target_kind(kind: str) -> TargetKind:
    """The registered kind, or a configuration error naming the known ones."""
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ConfigurationError(f"unknown target kind {kind!r} (registered: {known})") from None


def delivery_targets(profile: PartnerProfile | None) -> tuple[str, ...]:
    """The outbox target names each new order of ``profile`` is delivered to (the ERP without a profile)."""
    if profile is None:
        return (ERP_TARGET,)
    return tuple(target.name for target in profile.targets)


DELIVERY_SETTINGS = ("batch_size", "in_flight", "confirm_orders")
"""A profile's target settings that tune delivery to a kind that ``batches``."""


def configured_targets(profiles: Iterable[PartnerProfile]) -> dict[str, TargetKind]:
    """Every target name the profiles deliver to, with its kind; one name must mean one kind everywhere.

    A target's delivery settings (``batch_size``, ``in_flight``, ``confirm_orders``) may be set in any
    profile naming it, but must agree where several set them; its kind's ``connection`` then takes them.
    """
    found: dict[str, tuple[str, str]] = {}  # name -> (kind, first profile naming it)
    invoiced_in: dict[str, tuple[str, str]] = {}  # name -> (accounting kind, first profile choosing it)
    settings: dict[str, dict[str, tuple[Any, str]]] = {}  # name -> setting -> (value, profile setting it)
    for profile in profiles:
        for target in profile.targets:
            kind, first = found.setdefault(target.name, (target.kind, profile.id))
            if kind != target.kind:
                raise ConfigurationError(f"partner profile {profile.id!r}: target {target.name!r} is of kind "
                                         f"{target.kind!r} but {first!r} says {kind!r}")
            if target.accounting is not None:
                invoiced, where = invoiced_in.setdefault(target.name, (target.accounting.kind, profile.id))
                if invoiced != target.accounting.kind:
                    raise ConfigurationError(f"partner profile {profile.id!r}: target {target.name!r} is invoiced in "
                                             f"{target.accounting.kind!r} but {where!r} says {invoiced!r}")
            for key in DELIVERY_SETTINGS:
                value = getattr(target, key, None)
                if value is None:
                    continue
                known, where = settings.setdefault(target.name, {}).setdefault(key, (value, profile.id))
                if known != value:
                    raise ConfigurationError(f"partner profile {profile.id!r}: target {target.name!r} {key} is "
                                             f"{value!r} but {where!r} says {known!r}")
    kinds: dict[str, TargetKind] = {}
    for name, (kind_name, first) in sorted(found.items()):
        registered = target_kind(kind_name)
        chosen = {key: value for key, (value, _) in settings.get(name, {}).items()}
        if chosen and not registered.batches:
            raise ConfigurationError(f"partner profile {first!r}: target {name!r} of kind {kind_name!r} takes no "
                                     f"delivery settings ({', '.join(sorted(chosen))})")
        kinds[name] = (replace(registered, connection=functools.partial(registered.connection, **chosen))
                       if chosen else registered)
        if name in invoiced_in:
            kinds[name] = replace(kinds[name], accounting=invoiced_in[name][0])
    return kinds
