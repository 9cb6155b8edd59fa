"""What is new since the last look: the cursors of the alert sensors and the checks that move them.

Both cursors are JSON kept by the caller (a Dagster sensor's cursor), so alerting needs no table of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from hub import store as st
from hub.alerts._alert import Alert
from hub.alerts._compose import new_exceptions_alert, overdue_acks_alert
from hub.alerts._settings import AlertConfig

GAP_WAIT = dt.timedelta(hours=1)
"""How long an id below the high-water mark is watched for: on PostgreSQL a transaction that took id 10 can
commit after one that took id 11, so id 10 appears late (or never, if rolled back)."""
MAX_GAPS = 1000
MAX_WATCHED_ACKS = 5000  # overdue documents remembered in the cursor (the oldest first)


@dataclass
class ExceptionCursor:
    """The highest exception id looked at, and lower ids not seen yet that may still commit."""

    after_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    """Id -> when it was first missed (POSIX seconds)."""

    @classmethod
    def load(cls, raw: str | None) -> ExceptionCursor:
        """The cursor a previous tick dumped (a fresh one if none)."""
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(int(data["after_id"]), {int(k): float(v) for k, v in data.get("gaps", {}).items()})

    def dump(self) -> str:
        """JSON for the sensor's cursor."""
        return json.dumps({"after_id": self.after_id, "gaps": {str(k): v for k, v in sorted(self.gaps.items())}})


def check_new_exceptions(
    store: st.HubStore, cursor: ExceptionCursor, settings: AlertConfig, *, now: dt.datetime
) -> tuple[Alert | None, ExceptionCursor]:
    """An alert for the exceptions queued (and still open) since ``cursor``, and the cursor after them."""
    stamp, expired = now.timestamp(), (now - GAP_WAIT).timestamp()
    watched = {i: t for i, t in cursor.gaps.items() if t > expired}
    with store.transaction() as conn:
        found = st.exceptions_since(conn, after_id=cursor.after_id, also_ids=watched, limit=settings.max_items)
        files = st.exception_files(conn, found.items)
    seen = set(found.seen_ids)
    after_id = max([cursor.after_id, *seen])
    gaps = {i: t for i, t in watched.items() if i not in seen}
    gaps.update({i: stamp for i in range(max(cursor.after_id + 1, after_id - MAX_GAPS), after_id) if i not in seen})
    gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
    alert = None
    if found.items:
        alert = new_exceptions_alert(found.items, files, more=found.more, kinds=found.kinds, ui_url=settings.ui_url,
                                     deployment=settings.deployment)
    return alert, ExceptionCursor(after_id, gaps)


@dataclass
class AckCursor:
    """The overdue outbound documents already alerted, with the state they were alerted in."""

    alerted: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: str | None) -> AckCursor:
        """The cursor a previous tick dumped (a fresh one if none)."""
        return cls({int(k): v for k, v in json.loads(raw)["alerted"].items()} if raw else {})

    def dump(self) -> str:
        """JSON for the sensor's cursor."""
        return json.dumps({"alerted": {str(k): v for k, v in sorted(self.alerted.items())}})


def check_overdue_acks(
    store: st.HubStore, cursor: AckCursor, settings: AlertConfig, *, now: dt.datetime
) -> tuple[Alert | None, AckCursor]:
    """An alert for acks overdue and not alerted in their present state, and the cursor after them.

    A document is alerted once while it stays overdue in the same state; sent, it leaves the cursor; failed
    after pending (or pending again after a requeue), it is alerted again.
    """
    older = now - dt.timedelta(minutes=settings.ack_overdue_minutes)
    with store.transaction() as conn:
        overdue = st.overdue_outbound(conn, created_before=older, limit=MAX_WATCHED_ACKS)
    fresh = [doc for doc in overdue if cursor.alerted.get(doc.id) != doc.state]
    alert = None
    if fresh:
        alert = overdue_acks_alert(fresh, max_items=settings.max_items, minutes=settings.ack_overdue_minutes,
                                   deployment=settings.deployment)
    return alert, AckCursor({doc.id: str(doc.state) for doc in overdue})
