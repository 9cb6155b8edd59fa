"""Orders held for approval: the draft, the decision (compare-and-set, so a decision is taken once) and its audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select, update

from hub.store._tables import approval_audit, approvals, inserted_id, orders


class ApprovalState(StrEnum):
    """Where a held order stands (``approvals.state``)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


AWAITING_APPROVAL = "awaiting approval"
"""``orders.not_pushed_reason`` of a held order: no target is expected to hold it, unless one holds an earlier
version (``hub.reconciliation``)."""
REJECTED_BY = "rejected on approval"
"""``orders.not_pushed_reason`` prefix of a rejected order."""


@dataclass(frozen=True)
class Approval:
    """One held order and its decision."""

    id: int
    order_id: int
    partner_id: str
    source: str
    source_ref: str
    state: ApprovalState
    findings: list[dict[str, Any]]
    targets: list[str]
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    note: str | None
    reply: str | None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to an approval, when and why."""

    action: str
    actor: str
    at: dt.datetime
    note: str | None


def hold_order(conn: Connection, *, order_id: int, partner_id: str, source: str, source_ref: str,
               findings: list[dict[str, Any]], targets: list[str], now: dt.datetime, note: str | None = None) -> int:
    """Hold an order for approval (its findings replaced if it is held already); the approval's id."""
    conn.execute(update(orders).where(orders.c.id == order_id).values(not_pushed_reason=AWAITING_APPROVAL))
    existing = conn.execute(select(approvals.c.id, approvals.c.state).where(approvals.c.order_id == order_id)).first()
    if existing is not None:
        if existing.state == ApprovalState.PENDING:
            conn.execute(update(approvals).where(approvals.c.id == existing.id).values(findings=findings))
        return int(existing.id)
    approval_id = int(inserted_id(conn.execute(approvals.insert().values(
        order_id=order_id, partner_id=partner_id, source=source, source_ref=source_ref,
        state=ApprovalState.PENDING, findings=findings, targets=targets, created_at=now))))
    _audit(conn, approval_id, "held", "hub", now, note or f"{len(findings)} rule(s) broken")
    return approval_id


def decide_approval(conn: Connection, approval_id: int, *, state: ApprovalState, by: str, note: str | None,
                    now: dt.datetime) -> bool:
    """Approve or reject a pending approval; False if it was decided already (nothing changes then)."""
    changed = conn.execute(
        update(approvals).where((approvals.c.id == approval_id) & (approvals.c.state == ApprovalState.PENDING))
        .values(state=state, decided_at=now, decided_by=by, note=note)
    ).rowcount
    if not changed:
        return False
    order_id = conn.execute(select(approvals.c.order_id).where(approvals.c.id == approval_id)).scalar_one()
    held = None if state == ApprovalState.APPROVED else f"{REJECTED_BY}: {note or 'no reason given'}"
    conn.execute(update(orders).where(orders.c.id == order_id).values(not_pushed_reason=held))
    _audit(conn, approval_id, state.value, by, now, note)
    return True


def record_reply(conn: Connection, approval_id: int, reply: str, *, now: dt.datetime) -> None:
    """What became of the channel's rejection message (sent, not sent and why)."""
    conn.execute(update(approvals).where(approvals.c.id == approval_id).values(reply=reply))
    _audit(conn, approval_id, "reply", "hub", now, reply)


def keep_held(conn: Connection, order_id: int) -> bool:
    """For a new version of an order: True (and the order marked not for delivery again) if it is held or rejected."""
    state = conn.execute(select(approvals.c.state, approvals.c.note).where(approvals.c.order_id == order_id)).first()
    if state is None or state.state == ApprovalState.APPROVED:
        return False
    reason = AWAITING_APPROVAL if state.state == ApprovalState.PENDING else f"{REJECTED_BY}: {state.note}"
    conn.execute(update(orders).where(orders.c.id == order_id).values(not_pushed_reason=reason))
    return True


def approval_of_order(conn: Connection, order_id: int) -> Approval | None:
    """The approval of an order (one at most), or None when it was never held."""
    row = conn.execute(select(approvals).where(approvals.c.order_id == order_id)).first()
    return None if row is None else _approval(row)


def hold_again(conn: Connection, approval_id: int, *, findings: list[dict[str, Any]], now: dt.datetime,
               note: str) -> None:
    """A new version of the order breaks rules: pending again with its findings (any earlier decision was for
    other content), the order not for delivery until a person decides; audited."""
    conn.execute(update(approvals).where(approvals.c.id == approval_id).values(
        state=ApprovalState.PENDING, findings=findings, decided_at=None, decided_by=None, note=None, reply=None))
    order_id = conn.execute(select(approvals.c.order_id).where(approvals.c.id == approval_id)).scalar_one()
    conn.execute(update(orders).where(orders.c.id == order_id).values(not_pushed_reason=AWAITING_APPROVAL))
    _audit(conn, approval_id, "revalidated", "hub", now, note)


def get_approval(conn: Connection, approval_id: int) -> Approval | None:
    """One approval, or None."""
    row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
    return None if row is None else _approval(row)


def list_approvals(conn: Connection, *, state: ApprovalState | None = ApprovalState.PENDING,
                   limit: int = 1000) -> list[Approval]:
    """Approvals in ``state`` (every state when None), oldest first."""
    query = select(approvals).order_by(approvals.c.created_at, approvals.c.id).limit(limit)
    if state is not None:
        query = query.where(approvals.c.state == state)
    return [_approval(row) for row in conn.execute(query)]


def approval_history(conn: Connection, approval_id: int) -> list[AuditEntry]:
    """The audit trail of an approval, oldest first."""
    cols = approval_audit.c
    rows = conn.execute(select(cols.action, cols.actor, cols.at, cols.note)
                        .where(cols.approval_id == approval_id).order_by(cols.id)).all()
    return [AuditEntry(*row) for row in rows]


def _audit(conn: Connection, approval_id: int, action: str, actor: str, now: dt.datetime, note: str | None) -> None:
    conn.execute(approval_audit.insert().values(approval_id=approval_id, action=action, actor=actor[:120], at=now,
                                                note=note))


def _approval(row: Any) -> Approval:
    return Approval(id=row.id, order_id=row.order_id, partner_id=row.partner_id, source=row.source,
                    source_ref=row.source_ref, state=ApprovalState(row.state), findings=list(row.findings),
                    targets=list(row.targets), created_at=row.created_at, decided_at=row.decided_at,
                    decided_by=row.decided_by, note=row.note, reply=row.reply)
