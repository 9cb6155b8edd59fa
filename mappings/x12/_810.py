"""The 810 Invoice we send: a canonical order and one posted accounting invoice of it -> X12 text.

What is billed comes from the accounting invoice (:class:`Invoice810`: its number, date, and per order
line the quantity and unit price posted); what the partner expects to read back comes from their 850:
the PO number and date (BIG03/BIG04), the parties (N1), the line's unit and product ids with the
partner's own qualifiers and units (:class:`PartnerCodes`), and the allowances and charges (SAC).

Money in TDS01 and SAC05 is X12 type N2: two implied decimals, no decimal point (``123.45`` is
``12345``, ``-1.50`` is ``-150``). Each line's extension is rounded to the cent (half up) before it is
added, as the accounting invoice's lines are; TDS01 is those plus the charges less the allowances that
are settled on the invoice (SAC12 other than bill back, vendor check, credit, paid by vendor or
information only: those are sent, and left out of the total).

SAC carried from the 850:
- a line's allowances and charges go in its IT1 loop, prorated to the quantity invoiced (a rate times the
  quantity invoiced; an amount times the invoiced share of the ordered quantity, rounded to the cent);
- the order's go in the summary after TDS, in full, on the PO's first invoice only (``order_charges``):
  a later partial invoice or a credit memo does not repeat them.

A credit note is a credit memo (BIG07 ``CR``) with positive quantities and amounts, the standard's way;
an invoice is BIG07 ``DI``. The envelope is the 855's (our ids, the partner's, numbers handed in by the
caller from the partner's series, in the transaction that queues the document).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from canonical.model import Charge, ChargeKind, Order, OrderLine
from mappings.x12._855 import Envelope855, _party_segments, number
from mappings.x12._acks import _isa, ack_file_name, safe, segment

Envelope810 = Envelope855
"""Who sends to whom, and our numbers (ISA13, GS06, ST02): the same shape as the 855's."""

CENT = Decimal("0.01")
DEBIT_INVOICE, CREDIT_MEMO = "DI", "CR"


@dataclass(frozen=True)
class InvoicedLine:
    """One line of the posted invoice: the order line it bills (``line_no``), quantity and unit price."""

    line_no: str
    quantity: Decimal
    unit_price: Decimal

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.unit_price < 0:
            raise ValueError(f"line {self.line_no}: an invoiced quantity is positive and a price not negative")


@dataclass(frozen=True)
class Invoice810:
    """What one 810 says: the accounting invoice's number and date, and its lines."""

    number: str
    """BIG02: the invoice number in accounting (what the customer pays against)."""
    date: dt.date
    lines: tuple[InvoicedLine, ...]
    credit: bool = False
    """A credit note: BIG07 CR (credit memo) instead of DI."""
    order_charges: bool = True
    """Carry the order's SAC (the PO's first invoice does; a later partial invoice or a credit memo does not)."""


@dataclass(frozen=True)
class PartnerCodes:
    """The partner's own codes, as its 850 uses them: product-id qualifiers and units (ours -> theirs)."""

    sku: str = "VN"
    buyer_part: str = "BP"
    gtin: tuple[str, ...] = ("UP", "EN", "UK")
    """Qualifiers the partner sends GTINs under; the one matching the GTIN's length is used (12 UP, 13 EN, 14 UK)."""
    uom: dict[str, str] = field(default_factory=dict)
    """Our unit code -> the partner's (their ``uom_map`` reversed)."""

    def gtin_qualifier(self, gtin: str) -> str:
        """UP for 12 digits, EN for 13, UK for 14, if the partner uses it; else its first GTIN qualifier."""
        by_length = {12: "UP", 13: "EN", 14: "UK"}.get(len(gtin), "UP")
        return by_length if by_length in self.gtin or not self.gtin else self.gtin[0]


def cents(amount: Decimal) -> str:
    """An N2 value (two implied decimals): ``12.345`` -> ``1235``, ``-1.5`` -> ``-150``, ``0`` -> ``0``."""
    return str(int(amount.quantize(CENT, rounding=ROUND_HALF_UP).scaleb(2)))


def extension(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """A line's amount, rounded to the cent (half up) as the accounting invoice's line is."""
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def _signed(charge: Charge, amount: Decimal) -> Decimal:
    if not charge.counts_in_total:
        return Decimal(0)
    return amount if charge.kind is ChargeKind.CHARGE else -amount


def _line_charge_amount(charge: Charge, ordered: Decimal, invoiced: Decimal) -> Decimal:
    """A line's charge for the quantity invoiced: rate x quantity, else its amount prorated."""
    if charge.rate is not None:
        return extension(invoiced, charge.rate)
    if invoiced == ordered:
        return charge.amount
    return (charge.amount * invoiced / ordered).quantize(CENT, rounding=ROUND_HALF_UP)


def _sac(charge: Charge, amount: Decimal, *, quantity: Decimal | None = None, uom: str = "") -> str:
    """SAC01 A/C, SAC02 the 850's code, SAC05 the amount (N2), SAC06/07 percent, SAC08 rate (SAC09/10 the
    unit and quantity it applies to, on a line), SAC12 how it is settled, SAC15 its description."""
    basis, percent = "", ""
    if charge.percent_basis and charge.percent is not None:  # SAC06 and SAC07 go together (P0607)
        basis, percent = safe(charge.percent_basis, 1), number(charge.percent)
    rate, unit, per = "", "", ""
    if charge.rate is not None:
        rate = number(charge.rate)
        if quantity is not None and uom:  # SAC09 and SAC10 go together (P0910)
            unit, per = safe(uom, 2), number(quantity)
    kind = "C" if charge.kind is ChargeKind.CHARGE else "A"
    return segment("SAC", kind, safe(charge.code, 4), "", "", cents(amount), basis, percent, rate, unit, per, "",
                   safe(charge.handling or "", 2), "", "", safe(charge.description or "", 80))


@dataclass
class _Totals:
    amount: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    lines: int = 0


class _Builder:
    def __init__(self, order: Order, invoice: Invoice810, codes: PartnerCodes) -> None:
        self.order, self.invoice, self.codes = order, invoice, codes
        self.by_line = {line.line_no: line for line in order.lines}
        self.totals = _Totals()

    def lines(self) -> list[str]:
        body: list[str] = []
        for invoiced in self.invoice.lines:
            ordered = self.by_line.get(invoiced.line_no)
            if ordered is None:
                raise ValueError(f"invoiced line {invoiced.line_no} is not a line of PO {self.order.source_ref}")
            body += self.line(ordered, invoiced)
        return body

    def line(self, ordered: OrderLine, invoiced: InvoicedLine) -> list[str]:
        uom = self.codes.uom.get(ordered.uom, ordered.uom)
        ids: list[str] = []
        for value, qualifier in ((ordered.buyer_part, self.codes.buyer_part), (ordered.sku, self.codes.sku),
                                 (ordered.gtin, self.codes.gtin_qualifier(ordered.gtin or ""))):
            if value:
                ids += [safe(qualifier, 2), safe(value, 48)]
        out = [segment("IT1", safe(invoiced.line_no, 20), number(invoiced.quantity), safe(uom, 2),
                       number(invoiced.unit_price), "", *ids)]
        if ordered.description:
            out.append(segment("PID", "F", "", "", "", safe(ordered.description, 80)))
        self.totals.lines += 1
        self.totals.quantity += invoiced.quantity
        self.totals.amount += extension(invoiced.quantity, invoiced.unit_price)
        for charge in ordered.charges:
            amount = _line_charge_amount(charge, ordered.quantity, invoiced.quantity)
            out.append(_sac(charge, amount, quantity=invoiced.quantity, uom=uom))
            self.totals.amount += _signed(charge, amount)
        return out

    def order_charges(self) -> list[str]:
        if not self.invoice.order_charges or self.invoice.credit:
            return []
        for charge in self.order.charges:
            self.totals.amount += _signed(charge, charge.amount)
        return [_sac(charge, charge.amount) for charge in self.order.charges]


def invoice_total(order: Order, invoice: Invoice810, codes: PartnerCodes | None = None) -> Decimal:
    """What TDS01 says, in money: the lines' extensions plus the carried charges less the carried allowances."""
    builder = _Builder(order, invoice, codes or PartnerCodes())
    builder.lines()
    builder.order_charges()
    return builder.totals.amount


def transaction_set_810(order: Order, invoice: Invoice810, *, st_control: int,
                        codes: PartnerCodes | None = None) -> list[str]:
    """ST..SE of the 810 for ``invoice`` of ``order``, one segment per item (each ends with our terminator)."""
    if not invoice.lines:
        raise ValueError("an 810 needs at least one invoiced line")
    builder = _Builder(order, invoice, codes or PartnerCodes())
    st02 = f"{st_control:04d}"
    body = [
        segment("ST", "810", st02),
        segment("BIG", invoice.date.strftime("%Y%m%d"), safe(invoice.number, 22), order.order_date.strftime("%Y%m%d"),
                safe(order.source_ref, 22), safe(order.release_no or "", 30), "",
                CREDIT_MEMO if invoice.credit else DEBIT_INVOICE),
    ]
    if order.currency != "USD":
        body.append(segment("CUR", "SE", safe(order.currency, 3)))
    body += _party_segments(order)
    body += builder.lines()
    summary = builder.order_charges()  # adds them to the total before TDS is written
    body.append(segment("TDS", cents(builder.totals.amount)))
    body += summary
    body.append(segment("CTT", str(builder.totals.lines), number(builder.totals.quantity)))
    body.append(segment("SE", str(len(body) + 1), st02))
    return body


def build_810(order: Order, invoice: Invoice810, envelope: Envelope810, *, now: dt.datetime,
              codes: PartnerCodes | None = None) -> str:
    """A complete interchange carrying one 810 (GS01 IN) for ``invoice`` of ``order``."""
    isa12 = "00501" if envelope.version.startswith("005") else "00401"
    gs = segment("GS", "IN", safe(envelope.ours.gs_id, 15), safe(envelope.theirs.gs_id, 15), now.strftime("%Y%m%d"),
                 now.strftime("%H%M"), str(envelope.group_control), "X", envelope.version)
    body = transaction_set_810(order, invoice, st_control=envelope.set_control, codes=codes)
    return "".join([
        _isa(envelope.ours, envelope.theirs, envelope.interchange_control, now, isa12, envelope.test),
        gs, *body, segment("GE", "1", str(envelope.group_control)),
        segment("IEA", "1", f"{envelope.interchange_control:09d}"),
    ])


def file_name_810(partner_isa_id: str, control: int) -> str:
    """``810_<partner>_<ISA13>.x12``, the acks' naming."""
    return ack_file_name("810", partner_isa_id, control)
