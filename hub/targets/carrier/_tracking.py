"""Tracking: status from the carrier's signed webhook events, and polling for trackers they left quiet."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from canonical.errors import HubError
from connectors.easypost import Tracker
from hub import store as st

_log = logging.getLogger(__name__)

TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})
"""EasyPost Event ``description`` values that carry a tracker in ``result``."""


class TrackerService(Protocol):
    """What polling needs of a carrier API (``connectors.easypost.EasyPostClient``)."""

    def retrieve_tracker(self, tracker_id: str) -> Tracker: ...
    def create_tracker(self, tracking_code: str, carrier: str | None = None) -> Tracker: ...


@dataclass(frozen=True)
class EventOutcome:
    """What one webhook event did: ``applied`` (rows updated), ``duplicate`` or ``ignored``."""

    outcome: str
    updated: int = 0


def apply_tracker_event(conn: Any, event: dict[str, Any]) -> EventOutcome:
    """Apply one EasyPost Event (already verified) once: a replayed event id changes nothing."""
    event_id = event.get("id")
    result = event.get("result")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
        raise ValueError("the event has no id")
    if event.get("description") not in TRACKER_EVENTS or not isinstance(result, dict):
        return EventOutcome("ignored")
    tracker_id, code, status = result.get("id"), result.get("tracking_code"), result.get("status")
    if not isinstance(status, str) or not status:
        raise ValueError("the tracker has no status")
    if not st.record_carrier_event(conn, event_id, tracker_id=str(tracker_id)[:64] if tracker_id else None):
        return EventOutcome("duplicate")
    updated = st.record_tracking(conn, tracker_id=str(tracker_id)[:64] if tracker_id else None,
                                 tracking_code=str(code)[:80] if code else None, status=status)
    return EventOutcome("applied", updated)


@dataclass
class PollResult:
    """What one polling pass did."""

    polled: int = 0
    updated: int = 0
    failed: int = 0


def poll_stale_trackers(store: st.HubStore, service: TrackerService, target: str, *, quiet_for: dt.timedelta,
                        now: dt.datetime | None = None, limit: int = 500) -> PollResult:
    """Retrieve the trackers of ``target`` not updated for ``quiet_for`` (webhooks lost or late); record each."""
    now = now or dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        rows = st.stale_trackers(conn, target, older_than=now - quiet_for, limit=limit)
    result = PollResult()
    for row in rows:
        result.polled += 1
        try:
            tracker = (service.retrieve_tracker(row.tracker_id) if row.tracker_id
                       else service.create_tracker(str(row.tracking_code), row.carrier))
        except HubError as exc:  # one tracker the carrier will not show must not stop the others
            result.failed += 1
            _log.warning("%s: tracker of shipment row %s not polled: %s", target, row.id, type(exc).__name__)
            continue
        with store.transaction() as conn:
            result.updated += st.record_tracking(conn, tracker_id=tracker.id, tracking_code=row.tracking_code,
                                                 status=tracker.status, clock=now)
    return result
