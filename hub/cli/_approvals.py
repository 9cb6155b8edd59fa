"""``hub approvals list|show|approve|reject``: orders held by a validation rule, decided by a person."""

from __future__ import annotations

import datetime as dt
import sys

import click

from hub.cli._common import open_store, printed_as_json_or_none, who_runs

_STATES = ("pending", "approved", "rejected", "all")


_store = open_store
_actor = who_runs


def _age(created: dt.datetime, now: dt.datetime) -> str:
    minutes = int((now - created).total_seconds() // 60)
    return f"{minutes // 1440}d{minutes % 1440 // 60}h" if minutes >= 1440 else f"{minutes // 60}h{minutes % 60:02d}m"


def _rules(findings: list[dict]) -> str:
    return ",".join(dict.fromkeys(f["rule"] for f in findings))


@click.group("approvals", context_settings={"help_option_names": ["-h", "--help"]})
def approvals_command() -> None:
    """Orders held because they broke a validation rule, waiting for a person's decision."""


@approvals_command.command("list", epilog="""\b
Examples:
  hub approvals list
  hub approvals list --state all --json""")
@click.option("--state", type=click.Choice(_STATES), default="pending", show_default=True, help="which approvals")
@click.option("--json", "as_json", is_flag=True, help="print them as a JSON array")
def approvals_list(state: str, as_json: bool) -> int:
    """List held orders (pending ones by default), oldest first."""
    from hub import store as st

    with _store().transaction() as conn:
        rows = st.list_approvals(conn, state=None if state == "all" else st.ApprovalState(state))
    if printed_as_json_or_none(rows, as_json, "no approvals" if state == "all" else f"no {state} approvals"):
        return 0
    now = st.utcnow()
    print(f"{'id':>5}  {'state':9} {'customer':12} {'PO':20} {'age':7} rules broken")
    for r in rows:
        print(f"{r.id:>5}  {r.state:9} {r.partner_id[:12]:12} {r.source_ref[:20]:20} {_age(r.created_at, now):7} "
              f"{_rules(r.findings)}")
    return 0


@approvals_command.command("show", epilog="\b\nExample:\n  hub approvals show 3")
@click.argument("approval_id", metavar="ID", type=int)
def approvals_show(approval_id: int) -> int:
    """One held order: its findings (rule, line, expected, found), its lines and its audit trail."""
    from hub import store as st

    with _store().transaction() as conn:
        row = st.get_approval(conn, approval_id)
        if row is None:
            print(f"no approval {approval_id}", file=sys.stderr)
            return 1
        order = st.load_order(conn, row.order_id)
        history = st.approval_history(conn, approval_id)
    print(f"approval {row.id}: {row.state}  customer {row.partner_id}  PO {row.source_ref}  ({row.source})")
    print(f"order total {order.total} {order.currency}, {len(order.lines)} lines; held {row.created_at:%Y-%m-%d %H:%M}")
    if order.references.get("sender"):  # an email order: who sent it (findings name the domain only)
        print(f"sent by {order.references['sender']}")
    print("\nrules broken:")
    for f in row.findings:
        where = f"line {f['line']}" if f["line"] else "order"
        print(f"  {f['rule']:18} {where:10} expected {f['expected']}; found {f['found']}")
    print("\nlines:")
    for line in order.lines:
        print(f"  {line.line_no:>4} {line.sku or '-':16} {line.quantity} {line.uom} @ {line.unit_price}")
    print("\naudit:")
    for entry in history:
        print(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.action:9} {entry.actor:16} {entry.note or ''}")
    if row.state == st.ApprovalState.PENDING:
        print(f"\nDecide: hub approvals approve {row.id} --note TEXT   or   hub approvals reject {row.id} --note TEXT")
    return 0


def _decide(approval_ids: tuple[int, ...], note: str | None, by: str | None, *, approving: bool) -> int:
    from hub.validation import ApprovalNotFound, approve, reject

    store = _store()
    actor = _actor(by)
    failed = 0
    for approval_id in approval_ids:
        try:
            if approving:
                decision = approve(store, approval_id, by=actor, note=note)
            else:
                decision = reject(store, approval_id, by=actor, note=note or "")
        except ApprovalNotFound:
            print(f"approval {approval_id}: not found")
            failed += 1
            continue
        if not decision.done:
            print(f"approval {approval_id}: already {decision.approval.state}; nothing changed")
            failed += 1
            continue
        what = "approved: queued for delivery" if approving else "rejected: never delivered"
        print(f"approval {approval_id}: {what}" + (f"; reply {decision.reply}" if decision.reply else ""))
    return 1 if failed else 0


@approvals_command.command("approve", epilog="""\b
Example:
  hub approvals approve 3 --note 'price agreed by phone with the buyer'""")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option("--note", default=None, help="why (kept in the audit trail)")
@click.option("--by", default=None, help="who decides (default: $USER)")
def approvals_approve(ids: tuple[int, ...], note: str | None, by: str | None) -> int:
    """Approve held orders: each is queued for delivery once (approving again changes nothing)."""
    return _decide(ids, note.strip() if note else None, by, approving=True)


@approvals_command.command("reject", epilog="""\b
Example:
  hub approvals reject 3 --note 'SKU discontinued; customer told to reorder'""")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option("--note", required=True, help="why (kept, and sent in the email reply to email orders)")
@click.option("--by", default=None, help="who decides (default: $USER)")
def approvals_reject(ids: tuple[int, ...], note: str, by: str | None) -> int:
    """Reject held orders: never delivered; the channel's rejection is sent where one exists."""
    note = note.strip()
    if not note:
        raise click.BadParameter("say why: --note TEXT", param_hint="--note")
    return _decide(ids, note, by, approving=False)
