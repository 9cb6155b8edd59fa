"""Replaying the exception queue after a fix: reprocess the raw document, or deliver the order again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub import store as st
from hub.delivery import requeue_failed_delivery
from hub.delivery._acks import ACK_NOT_SENT, replay_unsent_ack
from hub.intake import UNREADABLE_PAGE
from hub.sources import CannotMapAgain, source_of_channel
from mappings.profiles import PartnerDirectory


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay did, in words for the operator."""

    exception_id: int
    done: bool
    message: str


def _map_again(store: st.HubStore, partners: PartnerDirectory, queued: st.QueuedException,
               receipt_id: int, now: dt.datetime) -> ReplayOutcome:
    """The receipt's source maps its archived document again; done when that closed the exception."""
    source = source_of_channel(queued.channel)
    assert source is not None
    try:
        message = source.map_again(store, partners, receipt_id, now=now)
    except CannotMapAgain as exc:
        return ReplayOutcome(queued.id, False, str(exc))
    with store.transaction() as conn:
        after = st.get_exception(conn, queued.id)
    if after is not None and after.state == st.REPLAYED:
        return ReplayOutcome(queued.id, True, message)
    return ReplayOutcome(queued.id, False, f"still failing: {after.reason if after else 'unknown'}")


def replay_exception(
    store: st.HubStore, partners: PartnerDirectory, exception_id: int, *, now: dt.datetime | None = None
) -> ReplayOutcome:
    """Replay one queued exception. Safe to repeat: nothing is created twice."""
    now = now or st.utcnow()
    with store.transaction() as conn:
        queued = st.get_exception(conn, exception_id)
    if queued is None:
        return ReplayOutcome(exception_id, False, "no such exception")
    if queued.state != st.OPEN:
        return ReplayOutcome(exception_id, False, f"already {queued.state}")
    with store.transaction() as conn:
        target = requeue_failed_delivery(conn, queued, now=now)
    if target is not None:
        # The next push pass makes the target match the order as stored now (create, update or cancel).
        return ReplayOutcome(exception_id, True, f"delivery queued again; it closes when {target} matches the order")
    if queued.kind == UNREADABLE_PAGE:
        # Nothing in the archived body to map again: the cursor was held, so the account's next sync
        # reads the same window from the channel and settles this exception itself.
        return ReplayOutcome(exception_id, False, "the archived answer is not an orders page: the account's next "
                             "sync reads its window again and closes this exception")
    if queued.kind == ACK_NOT_SENT:
        return ReplayOutcome(exception_id, *replay_unsent_ack(store, queued, now=now))
    if queued.kind in (st.ExceptionKind.OUTBOUND_INVALID, st.ExceptionKind.ACK_OVERDUE,
                       st.ExceptionKind.OUTBOUND_REJECTED):
        return ReplayOutcome(exception_id, False, "nothing to replay: the outbound asset (edi_po_acknowledgments "
                             "for an 855, edi_invoices_810 for an 810, edi_ship_notices for an 856) builds an invalid "
                             "document again each run, and ack_overdue closes when the partner's 997 arrives; a "
                             "rejected 855, 810 or 856 is closed by hand (`hub exceptions resolve`) once agreed with "
                             "the partner")
    if queued.receipt_id is not None and source_of_channel(queued.channel) is not None:
        return _map_again(store, partners, queued, queued.receipt_id, now)
    if queued.kind in (st.ExceptionKind.QUARANTINED_FILE, st.ExceptionKind.QUARANTINED_FOLDER):
        return ReplayOutcome(exception_id, False, "nothing was read: rename or remove the entry on the SFTP server "
                             "(see the runbook); the inbox sensor closes this exception on its next tick")
    return ReplayOutcome(exception_id, False,
                         "nothing to replay: the file was never archived; ask the partner to resend it")
