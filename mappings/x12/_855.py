"""The 855 Purchase Order Acknowledgment we send: a canonical order and our decision per line -> X12 text.

What the hub decides is explicit (:class:`LineDecision`): the builder never guesses a status. A line
with no decision is acknowledged as accepted as ordered (ACK01 IA); a line may have several
decisions (6 accepted, 4 backordered to a date: IA 6 + IB 4 with the date), as X12 allows up to
104 ACK loops per line. BAK02 follows the standard's meaning:

- ``AD`` acknowledge with detail, no change: every line accepted as ordered (a partner profile may
  ask for ``AC`` instead, as some retailers' guides do);
- ``AC`` acknowledge with detail and change: any line backordered, changed, rescheduled or rejected;
- ``RJ`` rejected: the order is refused as a whole (every line IR).

The envelope is the acks' (``_acks``: our fixed delimiters, our ids, ISA12 from the version); the
control numbers are handed in by the caller, who takes them in the transaction that queues the
document (gap-free: a rolled back build gives them back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from canonical.model import Order, OrderLine
from mappings.x12._acks import AckAddress, _isa, ack_file_name, safe, segment

SCHEDULED_SHIP = "068"
"""ACK04 date/time qualifier: current schedule ship (the date a backordered or rescheduled line ships)."""
_PRODUCT_QUALIFIERS = (("buyer_part", "BP"), ("sku", "VN"), ("gtin", "UP"))
_MAX_ACKS_PER_LINE = 104


class LineStatus(StrEnum):
    """ACK01: what happens to one line (or part of its quantity)."""

    ACCEPTED = "IA"
    BACKORDERED = "IB"
    QUANTITY_CHANGED = "IQ"
    REJECTED = "IR"
    PRICE_CHANGED = "IP"
    DATE_RESCHEDULED = "DR"


_NEEDS_DATE = frozenset({LineStatus.BACKORDERED, LineStatus.DATE_RESCHEDULED})


@dataclass(frozen=True)
class LineDecision:
    """One ACK of a line: its status, the quantity it is about (default: as ordered), a ship date."""

    status: LineStatus
    quantity: Decimal | None = None
    date: dt.date | None = None
    """ACK05 with qualifier 068; required for IB (backordered) and DR (date rescheduled)."""

    def __post_init__(self) -> None:
        if self.status in _NEEDS_DATE and self.date is None:
            raise ValueError(f"ACK01 {self.status.value} needs the date the line ships")
        if self.quantity is not None and self.quantity < 0:
            raise ValueError("an acknowledged quantity cannot be negative")


@dataclass(frozen=True)
class Acknowledgment:
    """What we tell the partner about an order: per line (by ``line_no``) its decisions, or a refusal."""

    lines: dict[str, tuple[LineDecision, ...]]
    rejected: bool = False
    """The order is refused as a whole (BAK02 RJ, every line IR)."""
    our_reference: str | None = None
    """BAK08: our order number (the ERP sale order), when there is one."""

    @classmethod
    def accepted_as_ordered(cls, *, our_reference: str | None = None) -> Acknowledgment:
        """Every line accepted as ordered."""
        return cls(lines={}, our_reference=our_reference)

    @classmethod
    def refused(cls) -> Acknowledgment:
        """The whole order rejected."""
        return cls(lines={}, rejected=True)

    def decisions(self, line: OrderLine) -> tuple[LineDecision, ...]:
        """The ACKs of ``line``: its decisions, or accepted (or rejected) as ordered."""
        if self.rejected:
            return (LineDecision(LineStatus.REJECTED, line.quantity),)
        found = self.lines.get(line.line_no) or (LineDecision(LineStatus.ACCEPTED, line.quantity),)
        if len(found) > _MAX_ACKS_PER_LINE:
            raise ValueError(f"line {line.line_no}: at most {_MAX_ACKS_PER_LINE} ACKs per line")
        return found


def bak02(order: Order, ack: Acknowledgment, *, accepted_code: str = "AD") -> str:
    """The acknowledgment type: RJ refused, ``accepted_code`` all as ordered, AC with changes."""
    if ack.rejected:
        return "RJ"
    unknown = set(ack.lines) - {line.line_no for line in order.lines}
    if unknown:
        raise ValueError(f"decisions for lines the order does not have: {sorted(unknown)}")
    as_ordered = all(
        d.status is LineStatus.ACCEPTED and (d.quantity is None or d.quantity == line.quantity)
        for line in order.lines for d in ack.decisions(line)
    )
    return accepted_code if as_ordered else "AC"


def number(value: Decimal) -> str:
    """An X12 R value: no exponent, no trailing zeros (``10.50`` -> ``10.5``, ``4.00`` -> ``4``)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _party_segments(order: Order) -> list[str]:
    lines = []
    for party in order.parties:
        code = party.entity_code
        if not code or not (party.name or party.id):
            continue  # a party that did not come from an N1 (no entity code) is not ours to echo
        qualifier = safe(party.id_qualifier or "", 2) if party.id else ""
        ident = safe(party.id or "", 80) if qualifier else ""
        lines.append(segment("N1", safe(code, 3), safe(party.name or "", 60), qualifier, ident))
    return lines


def _po1(line: OrderLine) -> str:
    ids: list[str] = []
    for attribute, qualifier in _PRODUCT_QUALIFIERS:
        value = getattr(line, attribute)
        if value:
            ids += [qualifier, safe(value, 48)]
    price = number(line.unit_price) if line.unit_price is not None else ""
    return segment("PO1", safe(line.line_no, 20), number(line.quantity), safe(line.uom, 2), price, "", *ids)


def _ack(line: OrderLine, decision: LineDecision) -> str:
    quantity = decision.quantity if decision.quantity is not None else line.quantity
    date = decision.date.strftime("%Y%m%d") if decision.date else ""
    return segment("ACK", decision.status.value, number(quantity), safe(line.uom, 2),
                   SCHEDULED_SHIP if date else "", date)


def transaction_set_855(order: Order, ack: Acknowledgment, *, st_control: int, today: dt.date,
                        accepted_code: str = "AD") -> list[str]:
    """ST..SE of the 855 for ``order``, one segment per item (each ends with our terminator)."""
    st02 = f"{st_control:04d}"
    body = [
        segment("ST", "855", st02),
        segment("BAK", "00", bak02(order, ack, accepted_code=accepted_code), safe(order.source_ref, 22),
                order.order_date.strftime("%Y%m%d"), safe(order.release_no or "", 30), "", "",
                safe(ack.our_reference or "", 30), today.strftime("%Y%m%d")),
        *_party_segments(order),
    ]
    hash_total = Decimal(0)
    for line in order.lines:
        body.append(_po1(line))
        hash_total += line.quantity
        body.extend(_ack(line, decision) for decision in ack.decisions(line))
    body.append(segment("CTT", str(len(order.lines)), number(hash_total)))
    body.append(segment("SE", str(len(body) + 1), st02))
    return body


@dataclass(frozen=True)
class Envelope855:
    """Who sends to whom, and our numbers for this interchange (ISA13, GS06, ST02)."""

    ours: AckAddress
    theirs: AckAddress
    version: str
    """GS08, e.g. 004010 or 005010 (ISA12 follows it)."""
    interchange_control: int
    group_control: int
    set_control: int
    test: bool = False


def build_855(order: Order, ack: Acknowledgment, envelope: Envelope855, *, now: dt.datetime,
              accepted_code: str = "AD") -> str:
    """A complete interchange carrying one 855 about ``order``."""
    isa12 = "00501" if envelope.version.startswith("005") else "00401"
    gs = segment("GS", "PR", safe(envelope.ours.gs_id, 15), safe(envelope.theirs.gs_id, 15), now.strftime("%Y%m%d"),
                 now.strftime("%H%M"), str(envelope.group_control), "X", envelope.version)
    body = transaction_set_855(order, ack, st_control=envelope.set_control, today=now.date(),
                               accepted_code=accepted_code)
    return "".join([
        _isa(envelope.ours, envelope.theirs, envelope.interchange_control, now, isa12, envelope.test),
        gs, *body, segment("GE", "1", str(envelope.group_control)),
        segment("IEA", "1", f"{envelope.interchange_control:09d}"),
    ])


def file_name_855(partner_isa_id: str, control: int) -> str:
    """``855_<partner>_<ISA13>.x12``, the acks' naming."""
    return ack_file_name("855", partner_isa_id, control)
