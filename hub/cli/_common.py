"""What the command groups share: the store, who runs a command, and lists printed as JSON or not at all."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.store import HubStore


def open_store() -> HubStore:
    """The hub store at the configured URL (imported on use: `hub --help` loads no SQLAlchemy)."""
    from hub.settings import resolve_database_url
    from hub.store import HubStore

    return HubStore(resolve_database_url())


def who_runs(given: str | None = None) -> str:
    """Who decides: ``given`` (``--by``), else ``HUB_USER`` (a shared account), else $USER, else the login."""
    who = (given or os.environ.get("HUB_USER") or os.environ.get("USER") or "").strip()
    if not who:
        try:
            who = getpass.getuser()
        except (OSError, KeyError):
            who = "unknown"
    return who


def printed_as_json_or_none(rows: Sequence[Any], as_json: bool, none: str) -> bool:
    """Print ``rows`` as a JSON array (``--json``), or ``none`` when there are none; True when that was all."""
    if as_json:
        print(json.dumps([row.__dict__ for row in rows], default=str, indent=2))
        return True
    if not rows:
        print(none)
        return True
    return False
