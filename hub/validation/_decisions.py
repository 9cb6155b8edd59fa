"""A person's decision on a held order: approve (its deliveries are queued, once) or reject (never delivered)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub import store as st
from hub.store._tables import orders
from hub.validation._replies import Rejection, send_rejection
from mappings.profiles import PartnerDirectory


@dataclass(frozen=True)
class Decision:
    """What a decision did: ``done`` False when the approval was not pending (nothing changed)."""

    approval: st.Approval
    done: bool
    reply: str | None = None


class ApprovalNotFound(LookupError):
    """No approval has this id."""


def approve(store: st.HubStore, approval_id: int, *, by: str, note: str | None = None,
            now: dt.datetime | None = None) -> Decision:
    """Approve a held order: its deliveries are queued in the same transaction; a second approval changes nothing."""
    now = now or st.utcnow()
    with store.transaction() as conn:
        approval = _pending(conn, approval_id)
        done = st.decide_approval(conn, approval_id, state=st.ApprovalState.APPROVED, by=by, note=note, now=now)
        if done:
            status = conn.execute(orders.select().with_only_columns(orders.c.status)
                                  .where(orders.c.id == approval.order_id)).scalar_one()
            # Cancelled by the customer while it waited: nothing to deliver (the target never saw it).
            if status == st.OrderStatus.OPEN:
                for target in approval.targets:
                    st.enqueue_delivery(conn, order_id=approval.order_id, target=target, now=now)
                    # Held again on a new version: paused (skipped), or the target has the earlier one (done).
                    delivery = st.delivery_of(conn, order_id=approval.order_id, target=target)
                    if delivery is not None and delivery.state in (st.SKIPPED, st.DONE):
                        st.requeue_delivery(conn, order_id=approval.order_id, target=target, now=now)
            st.add_event(conn, approval.order_id, "approved", {"by": by, "note": note}, now=now)
        return Decision(_get(conn, approval_id), done)


def reject(store: st.HubStore, approval_id: int, *, by: str, note: str, now: dt.datetime | None = None,
           partners: PartnerDirectory | None = None) -> Decision:
    """Reject a held order: never delivered; the channel's rejection is sent where one exists, and recorded.

    ``partners``: the profiles the rejection is answered with (an EDI partner's 855 settings);
    None reads ``HUB_PARTNERS_DIR`` when a channel needs them.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        approval = _pending(conn, approval_id)
        done = st.decide_approval(conn, approval_id, state=st.ApprovalState.REJECTED, by=by, note=note, now=now)
        if done:
            st.add_event(conn, approval.order_id, "rejected", {"by": by, "note": note}, now=now)
            order = st.load_order(conn, approval.order_id)
            raw_sha = conn.execute(orders.select().with_only_columns(orders.c.raw_sha256)
                                   .where(orders.c.id == approval.order_id)).scalar_one_or_none()
            raw = st.raw_content(conn, raw_sha) if raw_sha else None
    if not done:
        return Decision(approval, False)
    # Sent after the commit: a rejection is recorded even if the mail server is down (then "not sent").
    reply = send_rejection(Rejection(order=order, order_id=approval.order_id, raw=raw, note=note, store=store, now=now,
                                     partners=partners))
    with store.transaction() as conn:
        st.record_reply(conn, approval_id, reply, now=now)
        return Decision(_get(conn, approval_id), True, reply)


def _pending(conn, approval_id: int) -> st.Approval:
    approval = st.get_approval(conn, approval_id)
    if approval is None:
        raise ApprovalNotFound(f"no approval {approval_id}")
    return approval


def _get(conn, approval_id: int) -> st.Approval:
    approval = st.get_approval(conn, approval_id)
    assert approval is not None
    return approval
