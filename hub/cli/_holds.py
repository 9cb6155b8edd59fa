"""``hub holds``: invoices the three-way match held, and their release by a person with a reason.

``hub match`` is a plain command (exports in, report out), so the holds have their own group. A release
only marks the invoice released (audited: who, when, why); the invoicing asset sends it on its next run,
so this command needs no ERP credentials.
"""

from __future__ import annotations

import click

from hub.cli._common import open_store, printed_as_json_or_none, who_runs

_STATES = ("held", "released", "sending", "posted", "all")
_HELP = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


_store = open_store
_who = who_runs


@click.group("holds", context_settings=_HELP)
def holds() -> None:
    """Invoices held by the three-way match (not sent to accounting) and their release."""


@holds.command("list", epilog="""\b
Examples:
  hub holds list
  hub holds list --state all --json""")
@click.option("--state", type=click.Choice(_STATES), default="held", show_default=True, help="which invoices")
@click.option("--json", "as_json", is_flag=True, help="print them as a JSON array")
def holds_list(state: str, as_json: bool) -> int:
    """List invoices (held ones by default) with the exception categories that hold them."""
    from hub import store as st

    with _store().transaction() as conn:
        rows = st.list_invoices(conn, state=None if state == "all" else st.InvoiceState(state))
    if printed_as_json_or_none(rows, as_json, f"no {state} invoices"):
        return 0
    print(f"{'id':>5}  {'state':9} {'partner':10} {'PO':14} {'amount':>12}  {'reference':36} why")
    for row in rows:
        why = ", ".join(sorted({f.get("category", "") for f in row.findings})) or row.record or "-"
        print(f"{row.id:>5}  {row.state:9} {row.partner_id[:10]:10} {row.po_number[:14]:14} {row.amount:>12}  "
              f"{row.reference[:36]:36} {why}")
    return 0


@holds.command("show", epilog="\b\nExample:\n  hub holds show 7")
@click.argument("invoice_id", metavar="ID", type=int)
def holds_show(invoice_id: int) -> int:
    """One invoice: its lines, the exceptions that hold it, and every change (who, when, why)."""
    from hub import store as st

    with _store().transaction() as conn:
        row = st.get_invoice(conn, invoice_id)
        trail = st.invoice_events_of(conn, invoice_id) if row is not None else []
    if row is None:
        print(f"invoice {invoice_id}: not found")
        return 1
    for key in ("id", "state", "kind", "reference", "target", "partner_id", "po_number", "amount", "record"):
        print(f"{key:>10}: {getattr(row, key) if getattr(row, key) is not None else '-'}")
    print("\nlines:")
    for line in row.lines:
        print(f"  line {line['line_no']}: {line['sku']} {line['quantity']} x {line['unit_price']}")
    if row.findings:
        print("\nexceptions:")
        for finding in row.findings:
            print(f"  {finding['category']} line {finding['line_no'] or '?'}: value at stake "
                  f"{finding['value_at_stake'] or '-'}; {finding['detail']}")
    print("\nhistory:")
    for event in trail:
        print(f"  {event.at:%Y-%m-%d %H:%M:%S} {event.actor}: {event.action} -> {event.to_state}: {event.note}")
    if row.state == st.InvoiceState.HELD:
        print(f"\nRelease it after checking: hub holds release {row.id} --note 'why it may be sent'")
    return 0


@holds.command("release", epilog="""\b
Example:
  hub holds release 7 --note 'price agreed by phone with ACME purchasing, ticket 4411'
The invoice is sent to accounting by the next invoicing run.""")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option("--note", required=True, help="why it may be sent despite its exceptions")
@click.option("--by", "actor", default=None, help="who releases it (default: HUB_USER, else your login name)")
def holds_release(ids: tuple[int, ...], note: str, actor: str | None) -> int:
    """Release held invoices: each is sent and posted by the next invoicing run; the note is audited."""
    from hub import store as st

    note, who = note.strip(), (actor or _who()).strip()
    if not note:
        raise click.BadParameter("say why it may be sent: --note TEXT", param_hint="--note")
    if not who:
        raise click.BadParameter("say who releases it: --by NAME", param_hint="--by")
    failed = 0
    with _store().transaction() as conn:
        for invoice_id in ids:
            row = st.get_invoice(conn, invoice_id)
            if row is None or not st.release_invoice(conn, invoice_id, actor=who, note=note, now=st.utcnow()):
                failed += 1
                print(f"invoice {invoice_id}: " + ("not found" if row is None else f"not held ({row.state})"))
                continue
            print(f"invoice {invoice_id}: released by {who}; the next invoicing run sends it")
    return 1 if failed else 0
