"""QuickBooks Online as an accounting target: an ``Invoice`` (credit notes: a ``CreditMemo``) per document of ours.

QuickBooks holds no sale orders or deliveries: what may be billed (``billable``, ``delivered``) comes from the
system the orders went to (``deliveries``, the Odoo ERP's accounting view). Each document carries:

- ``DocNumber``: ``OH`` and 14 characters of the SHA-256 of our reference (QuickBooks allows 21), the key the
  lookup before any create or retry uses (``select * from Invoice where DocNumber = '...'``);
- ``requestid``: ``orderhub-`` and 40 hex characters of the same hash, the same on every resend, so Intuit
  answers a write that timed out with the first answer instead of creating a second invoice;
- ``PrivateNote``: our reference (and ``refund_of=<Id>`` on a credit memo: QuickBooks links a credit memo to
  an invoice only through a payment), ``CustomerMemo`` ``PO <number>`` (printed for the customer; it is also
  how an invoice made by hand in QuickBooks is tied to the PO), a line's ``Description`` ``Line <line_no>:
  <sku>``.

A QuickBooks invoice is final when created (there is no draft to post): ``create`` answers it ``posted`` and
``post`` returns it as it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from canonical.errors import ConfigurationError, RejectedDocument
from canonical.model import Order
from connectors.quickbooks import DUPLICATE_DOC_NUMBER, QuickBooksClient, QuickBooksFault, quote
from hub.targets._protocol import BillableLine, Booked, InvoiceDraft, InvoiceKind, InvoiceLine

DEFAULT_WRITE_SETTLE = dt.timedelta(minutes=5)
_ENTITIES = {InvoiceKind.INVOICE: "Invoice", InvoiceKind.CREDIT_NOTE: "CreditMemo"}
_CENT = Decimal("0.01")
_LINE = re.compile(r"^Line (\S+?): ")
_REFUND = re.compile(r"\brefund_of=(\S+)")


def _digest(reference: str) -> bytes:
    return hashlib.sha256(reference.encode()).digest()


def doc_number(reference: str) -> str:
    """The ``DocNumber`` of our document ``reference``: ``OH`` + 14 base32 characters of its SHA-256."""
    return "OH" + base64.b32encode(_digest(reference)).decode()[:14]


def request_id(reference: str) -> str:
    """The ``requestid`` of the create of ``reference``: stable, so a resend is deduplicated by Intuit."""
    return "orderhub-" + _digest(reference).hex()[:40]


class DeliveryView(Protocol):
    """What the QuickBooks target needs of the system that delivers the orders (an ``AccountingTarget`` has it;
    an optional ``delivered(orders)`` is used when present)."""

    def billable(self, order: Order) -> list[BillableLine]:
        """The order's lines with their delivered quantities and billing prices."""
        ...


class _Skus:
    """SKU -> order line number, read only when a line needs it (one made by hand, without our description)."""

    def __init__(self, read: Callable[[], dict[str, str]]) -> None:
        self._read = read
        self._known: dict[str, str] | None = None

    def line_no(self, sku: str) -> str:
        """The order line billed as ``sku`` ('' when none is)."""
        if self._known is None:
            self._known = self._read()
        return self._known.get(sku, "")


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


class QuickBooksAccountingTarget:
    """Invoices and credit memos in one QuickBooks Online company; exactly once by ``DocNumber`` and ``requestid``.

    ``customer_of(partner_id)`` names the partner's QuickBooks customer (``DisplayName``); ``item_of(partner_id,
    sku)`` the item a SKU is billed as (``Name``). Both are looked up once per pass.
    """

    def __init__(self, client: QuickBooksClient, deliveries: DeliveryView, *, name: str,
                 customer_of: Callable[[str], str], item_of: Callable[[str, str], str],
                 label: str = "QuickBooks Online", write_settle: dt.timedelta = DEFAULT_WRITE_SETTLE) -> None:
        self.client, self.deliveries = client, deliveries
        self.name, self.label, self.write_settle = name, label, write_settle
        self._customer_of, self._item_of = customer_of, item_of
        self._ids: dict[tuple[str, str], str | None] = {}
        self._numbering_checked = False

    # -- what may be billed: the order target's deliveries ----------------------------------------

    def billable(self, order: Order) -> list[BillableLine]:
        """The order's delivered quantities and prices as the system that delivers it says."""
        return self.deliveries.billable(order)

    def delivered(self, orders: Sequence[Order]) -> dict[tuple[str, str], dict[str, Decimal]]:
        """Delivered quantity per order line of many orders: the deliveries side's own few calls when it has
        them, else its ``billable`` order by order."""
        delivered_of = getattr(self.deliveries, "delivered", None)
        if callable(delivered_of):
            return delivered_of(orders)
        return {(order.partner_id, order.source_ref): {line.line_no: line.delivered for line in self.billable(order)}
                for order in orders}

    # -- documents ---------------------------------------------------------------------------------

    def invoices_of(self, order: Order) -> list[Booked]:
        """The customer's invoices and credit memos for the PO: ours (``PrivateNote``) and those whose memo
        reads ``PO <number>``."""
        customer = self._id("Customer", "DisplayName", self._customer_of(order.partner_id))
        if customer is None:
            return []
        prefix, memo = f"orderhub:{order.partner_id}:{order.source_ref}/", f"PO {order.source_ref}"
        skus = _Skus(lambda: {line.sku: line.line_no for line in self.billable(order)})
        found = []
        for kind, entity in _ENTITIES.items():
            for record in self.client.query(entity, f"CustomerRef = {quote(customer)}"):
                note = str(record.get("PrivateNote") or "")
                if note.startswith(prefix) or str((record.get("CustomerMemo") or {}).get("value") or "") == memo:
                    found.append(self._booked(record, kind, skus))
        return sorted(found, key=lambda booked: int(booked.record_id) if booked.record_id.isdigit() else 0)

    def find(self, reference: str) -> list[Booked]:
        """The invoices and credit memos whose ``DocNumber`` is the one of ``reference`` (oldest first)."""
        number = quote(doc_number(reference))
        found = [self._booked(record, kind, _Skus(dict)) for kind, entity in _ENTITIES.items()
                 for record in self.client.query(entity, f"DocNumber = {number}")]
        return sorted(found, key=lambda booked: int(booked.record_id) if booked.record_id.isdigit() else 0)

    def create(self, order: Order, draft: InvoiceDraft) -> Booked:
        """The document, found by ``DocNumber`` first (a lost reply), else created under its ``requestid``."""
        found = self.find(draft.reference)
        if found:
            return found[0]
        self._check_numbering()
        customer_name = self._customer_of(order.partner_id)
        customer = self._id("Customer", "DisplayName", customer_name)
        if customer is None:
            raise RejectedDocument(f"no QuickBooks customer with DisplayName {customer_name!r} for partner "
                                   f"{order.partner_id} (create it, or map the partner in its profile)",
                                   location="Customer")
        lines = []
        for line in draft.lines:
            item_name = self._item_of(order.partner_id, line.sku)
            item = self._id("Item", "Name", item_name)
            if item is None:
                raise RejectedDocument(f"line {line.line_no} of PO {order.source_ref}: no QuickBooks item named "
                                       f"{item_name!r} (create it, or map the SKU in the profile)", location="Item")
            amount = (line.quantity * line.unit_price).quantize(_CENT, rounding=ROUND_HALF_UP)
            lines.append({"DetailType": "SalesItemLineDetail", "Amount": float(amount),
                          "Description": f"Line {line.line_no}: {line.sku}"[:4000],
                          "SalesItemLineDetail": {"ItemRef": {"value": item, "name": item_name},
                                                  "Qty": float(line.quantity), "UnitPrice": float(line.unit_price)}})
        note = draft.reference + (f" refund_of={draft.refund_of}" if draft.refund_of else "")
        body = {"DocNumber": doc_number(draft.reference), "CustomerRef": {"value": customer},
                "CustomerMemo": {"value": f"PO {order.source_ref}"}, "PrivateNote": note, "Line": lines}
        entity = _ENTITIES[draft.kind]
        try:
            record = self.client.create(entity, body, request_id=request_id(draft.reference))
        except QuickBooksFault as fault:
            # Someone (a run that died after its create committed) got there first: that one is ours.
            again = self.find(draft.reference) if DUPLICATE_DOC_NUMBER in fault.codes else []
            if again:
                return again[0]
            raise
        return self._booked(record, draft.kind, _Skus(dict))

    def post(self, booked: Booked) -> Booked:
        """QuickBooks documents are final when created: returned as they are."""
        return booked

    # -- internals ---------------------------------------------------------------------------------

    def _check_numbering(self) -> None:
        """Refuse to create while the company numbers sales forms itself: it would drop our ``DocNumber``, and the
        lookup before the next create could not find what this one made (checked once per pass)."""
        if self._numbering_checked:
            return
        for preferences in self.client.query("Preferences"):
            if (preferences.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers") is False:
                raise ConfigurationError("QuickBooks numbers invoices itself here: turn on Custom transaction numbers "
                                         "(Account and Settings > Sales > Sales form content), so the hub's DocNumber "
                                         "is kept and a retry finds what it created")
        self._numbering_checked = True

    def _id(self, entity: str, field: str, value: str) -> str | None:
        """The ``Id`` of the active ``entity`` whose ``field`` is ``value`` (cached for the pass), or None."""
        key = (entity, value)
        if key not in self._ids:
            rows = [row for row in self.client.query(entity, f"{field} = {quote(value)}") if row.get("Active", True)]
            self._ids[key] = str(rows[0]["Id"]) if rows else None
        return self._ids[key]

    def _booked(self, record: dict[str, Any], kind: InvoiceKind, skus: _Skus) -> Booked:
        note = str(record.get("PrivateNote") or "")
        reference = note.split(" ", 1)[0] if note.startswith("orderhub:") else ""
        refund = _REFUND.search(note)
        lines = []
        for line in record.get("Line") or []:
            detail = line.get("SalesItemLineDetail") if line.get("DetailType") == "SalesItemLineDetail" else None
            if not isinstance(detail, dict):
                continue  # subtotal, discount and tax lines carry no quantity of ours
            sku = str((detail.get("ItemRef") or {}).get("name") or "")
            ours = _LINE.match(str(line.get("Description") or ""))
            if ours:
                sku = str(line["Description"])[ours.end():] or sku
            line_no = ours.group(1) if ours else skus.line_no(sku)
            lines.append(InvoiceLine(line_no=line_no, sku=sku, quantity=_decimal(detail.get("Qty")),
                                     unit_price=_decimal(detail.get("UnitPrice"))))
        return Booked(reference=reference, kind=kind, record=str(record.get("DocNumber") or record["Id"]),
                      record_id=str(record["Id"]), state="posted", lines=tuple(lines),
                      refund_of=refund.group(1) if refund else None)
