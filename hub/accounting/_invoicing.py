"""One order's invoicing pass: held invoices re-matched, released ones sent, then what was delivered and not
billed yet becomes an invoice (matched first, held on any exception) and what was billed beyond what is
delivered now (a return, a cancellation) a credit note.

Exactly-once: each document is stored under its reference (state ``sending``) *before* it goes to the
target, and the target looks that reference up before it creates anything, so a lost reply or a run that
died is found on the next pass, never doubled. At most one invoice of an order is held at a time: while one
is, the order gets no new invoice (it would be matched against the same exception).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from canonical.errors import RejectedDocument, RetriableError
from canonical.model import Order
from hub import store as st
from hub.accounting._gate import match_invoice
from hub.store import InvoiceState
from hub.targets import AccountingTarget, BillableLine, Booked, InvoiceDraft, InvoiceKind, InvoiceLine

HUB_ACTOR = "hub"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Invoiced:
    """What a pass did with one document: ``held``, ``posted``, ``in_doubt`` (looked up next pass) or
    ``rejected`` (the target refused it; ``detail`` says why)."""

    reference: str
    kind: str
    action: str
    record: str = ""
    findings: tuple[str, ...] = ()  # the exception categories that hold it
    detail: str = ""


def invoice_reference(partner_id: str, po_number: str, kind: InvoiceKind, number: int) -> str:
    """Our reference of the ``number``-th invoice (``.../1``) or credit note (``.../C1``) of a partner's PO."""
    return f"orderhub:{partner_id}:{po_number}/{'C' if kind is InvoiceKind.CREDIT_NOTE else ''}{number}"


def _stored_lines(lines: list[InvoiceLine]) -> list[dict[str, str]]:
    return [{"line_no": line.line_no, "sku": line.sku, "quantity": _plain(line.quantity),
             "unit_price": _plain(line.unit_price), "source_line": line.source_line} for line in lines]


def _plain(value: Decimal) -> str:
    """``3`` for 3.0 (ERP floats), ``4.4`` for 4.40: the exact value without trailing zeros."""
    return format(value.normalize(), "f")


def _lines(invoice: st.StoredInvoice) -> list[InvoiceLine]:
    return [InvoiceLine(row["line_no"], row["sku"], Decimal(row["quantity"]), Decimal(row["unit_price"]),
                        row.get("source_line", "")) for row in invoice.lines]


def _amount(lines: list[InvoiceLine]) -> Decimal:
    return sum((line.quantity * line.unit_price for line in lines), Decimal(0)).quantize(CENTS)


def invoice_order(store: st.HubStore, target: AccountingTarget, order: Order, *, order_id: int | None = None,
                  cancelled: bool = False, tolerances: Any = None, now: dt.datetime | None = None) -> list[Invoiced]:
    """Invoice ``order`` in ``target`` as far as it is delivered (a cancelled order: as if nothing were), with
    the hold gate; what each document did. Safe to run again: nothing already billed is billed twice."""
    now = now or st.utcnow()
    billable = target.billable(order)
    if not billable:
        return []
    booked = target.invoices_of(order)
    results: list[Invoiced] = []
    for invoice in _ours(store, target, order):
        if invoice.state is InvoiceState.HELD:
            held = _rematch(store, target, order, invoice, billable, booked, tolerances, now)
            if held is not None:
                results.append(held)
                continue
            invoice = _reload(store, invoice.id)
        if invoice.state in (InvoiceState.RELEASED, InvoiceState.SENDING):
            results.append(_send(store, target, order, invoice, now))
            booked = target.invoices_of(order)
    ours = _ours(store, target, order)
    if any(invoice.state is not InvoiceState.POSTED for invoice in ours):
        return results  # one held or unsent document at a time: the next pass goes on from there
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in ours:
        sign = 1 if invoice.kind == InvoiceKind.INVOICE else -1
        for line in _lines(invoice):
            billed[line.line_no] += sign * line.quantity
    to_bill, to_credit = _differences(billable, billed, cancelled=cancelled)
    if to_credit:
        results.append(_credit(store, target, order, order_id, ours, to_credit, now))
    if to_bill:
        results.append(_invoice(store, target, order, order_id, billable, booked, to_bill, tolerances, now))
    return results


def _differences(billable: list[BillableLine], billed: dict[str, Decimal], *, cancelled: bool
                 ) -> tuple[list[InvoiceLine], list[InvoiceLine]]:
    """Lines delivered beyond what we billed (to invoice) and billed beyond what is delivered (to credit)."""
    to_bill: list[InvoiceLine] = []
    to_credit: list[InvoiceLine] = []
    for line in billable:
        difference = (Decimal(0) if cancelled else line.delivered) - billed.get(line.line_no, Decimal(0))
        if difference:
            (to_bill if difference > 0 else to_credit).append(
                InvoiceLine(line.line_no, line.sku, abs(difference), line.unit_price, line.source_line))
    return to_bill, to_credit


def _ours(store: st.HubStore, target: AccountingTarget, order: Order) -> list[st.StoredInvoice]:
    with store.transaction() as conn:
        return st.invoices_of_order(conn, target=target.name, partner_id=order.partner_id,
                                    po_number=order.source_ref)


def _reload(store: st.HubStore, invoice_id: int) -> st.StoredInvoice:
    with store.transaction() as conn:
        invoice = st.get_invoice(conn, invoice_id)
    assert invoice is not None  # noqa: S101 - rows are never deleted
    return invoice


def _rematch(store: st.HubStore, target: AccountingTarget, order: Order, invoice: st.StoredInvoice,
             billable: list[BillableLine], booked: list[Booked], tolerances: Any, now: dt.datetime
             ) -> Invoiced | None:
    """Match a held invoice again: still held (its result), or released by the hub (None) when now clean."""
    findings = match_invoice(order, billable, booked, invoice.reference, _lines(invoice), tolerances)
    with store.transaction() as conn:
        if not findings:
            st.change_invoice(conn, invoice.id, state=InvoiceState.RELEASED, actor=HUB_ACTOR, action="auto_released",
                              note="a re-match found it within tolerance", now=now, expect=InvoiceState.HELD,
                              findings=[])
            return None
        if findings != invoice.findings:
            st.change_invoice(conn, invoice.id, state=InvoiceState.HELD, actor=HUB_ACTOR, action="rematched",
                              note=_why(findings), now=now, expect=InvoiceState.HELD, findings=findings)
    return Invoiced(invoice.reference, invoice.kind, "held", findings=_categories(findings))


def _invoice(store: st.HubStore, target: AccountingTarget, order: Order, order_id: int | None,
             billable: list[BillableLine], booked: list[Booked], lines: list[InvoiceLine], tolerances: Any,
             now: dt.datetime) -> Invoiced:
    """A new invoice for ``lines``: matched, then held or sent."""
    with store.transaction() as conn:
        number = 1 + st.count_invoices(conn, target=target.name, partner_id=order.partner_id,
                                       po_number=order.source_ref, kind=InvoiceKind.INVOICE)
    reference = invoice_reference(order.partner_id, order.source_ref, InvoiceKind.INVOICE, number)
    findings = match_invoice(order, billable, booked, reference, lines, tolerances)
    state = InvoiceState.HELD if findings else InvoiceState.SENDING
    with store.transaction() as conn:
        invoice_id = st.add_invoice(
            conn, target=target.name, partner_id=order.partner_id, po_number=order.source_ref, order_id=order_id,
            reference=reference, kind=InvoiceKind.INVOICE, state=state, lines=_stored_lines(lines),
            amount=_amount(lines), refund_of=None, findings=findings, actor=HUB_ACTOR, now=now,
            note=_why(findings) if findings else "delivered and not invoiced yet; the match found no exception")
    if findings:
        return Invoiced(reference, InvoiceKind.INVOICE, "held", findings=_categories(findings))
    return _send(store, target, order, _reload(store, invoice_id), now)


def _credit(store: st.HubStore, target: AccountingTarget, order: Order, order_id: int | None,
            ours: list[st.StoredInvoice], lines: list[InvoiceLine], now: dt.datetime) -> Invoiced:
    """A credit note for what was billed beyond what is delivered now, against our latest posted invoice."""
    invoices = [invoice for invoice in ours if invoice.kind == InvoiceKind.INVOICE and invoice.record_id]
    number = 1 + sum(1 for invoice in ours if invoice.kind == InvoiceKind.CREDIT_NOTE)
    reference = invoice_reference(order.partner_id, order.source_ref, InvoiceKind.CREDIT_NOTE, number)
    with store.transaction() as conn:
        invoice_id = st.add_invoice(
            conn, target=target.name, partner_id=order.partner_id, po_number=order.source_ref, order_id=order_id,
            reference=reference, kind=InvoiceKind.CREDIT_NOTE, state=InvoiceState.SENDING,
            lines=_stored_lines(lines), amount=_amount(lines),
            refund_of=invoices[-1].record_id if invoices else None, findings=[], actor=HUB_ACTOR, now=now,
            note="invoiced beyond what is delivered now (a return or a cancellation)")
    return _send(store, target, order, _reload(store, invoice_id), now)


def _send(store: st.HubStore, target: AccountingTarget, order: Order, invoice: st.StoredInvoice,
          now: dt.datetime) -> Invoiced:
    """Create (found by reference first) and post one stored document; ``sending`` until it is posted."""
    if invoice.state is not InvoiceState.SENDING:
        with store.transaction() as conn:
            st.change_invoice(conn, invoice.id, state=InvoiceState.SENDING, actor=HUB_ACTOR, action="sending",
                              note=f"to {target.label}", now=now, expect=invoice.state)
    draft = InvoiceDraft(invoice.reference, InvoiceKind(invoice.kind), tuple(_lines(invoice)),
                         refund_of=invoice.refund_of)
    try:
        posted = target.post(target.create(order, draft))
    except RetriableError as error:
        # Still ``sending``: the next pass looks the reference up before it creates anything.
        return Invoiced(invoice.reference, invoice.kind, "in_doubt", detail=str(error))
    except RejectedDocument as error:
        return Invoiced(invoice.reference, invoice.kind, "rejected", detail=str(error))
    with store.transaction() as conn:
        st.change_invoice(conn, invoice.id, state=InvoiceState.POSTED, actor=HUB_ACTOR, action="posted",
                          note=f"{posted.record} in {target.label}", now=now, expect=InvoiceState.SENDING,
                          record=posted.record, record_id=posted.record_id)
    return Invoiced(invoice.reference, invoice.kind, "posted", record=posted.record)


def _categories(findings: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted({finding["category"] for finding in findings}))


def _why(findings: list[dict[str, Any]]) -> str:
    return "held: " + "; ".join(f"{f['category']} on line {f['line_no'] or '?'} ({f['detail']})" for f in findings)


def orders_with_work(store: st.HubStore, target: AccountingTarget, orders: list[st.StoredOrder]
                     ) -> list[st.StoredOrder]:
    """The orders a pass must look at: those with a document not posted yet, a cancellation with something
    billed, or delivered quantities that differ from what we billed. Needs the target's optional
    ``delivered(orders)`` (a few calls for all of them); without it, every order."""
    delivered_of = getattr(target, "delivered", None)
    if not callable(delivered_of):
        return orders
    delivered = delivered_of([stored.order for stored in orders])
    with store.transaction() as conn:
        ours = [doc for doc in st.list_invoices(conn, limit=10_000_000) if doc.target == target.name]
    billed: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    unsettled: set[tuple[str, str]] = set()
    for invoice in ours:
        key = (invoice.partner_id, invoice.po_number)
        if invoice.state is not InvoiceState.POSTED:
            unsettled.add(key)
        sign = 1 if invoice.kind == InvoiceKind.INVOICE else -1
        for line in _lines(invoice):
            billed[key][line.line_no] += sign * line.quantity

    def has_work(stored: st.StoredOrder) -> bool:
        key = (stored.order.partner_id, stored.order.source_ref)
        lines = billed.get(key, {})
        if key in unsettled:
            return True
        if stored.cancelled:  # billed against nothing: credit what is billed
            return any(lines.values())
        return any(quantity != lines.get(line_no, Decimal(0)) for line_no, quantity in delivered.get(key, {}).items())

    return [stored for stored in orders if has_work(stored)]
