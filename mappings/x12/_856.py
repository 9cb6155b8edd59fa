"""The 856 Ship Notice/Manifest we send: one shipment (an ERP delivery) of one order -> X12 text.

What shipped is explicit (:class:`ShipNotice`): the cartons, each with its SSCC-18 and the order
lines and quantities in it, the carrier (SCAC, tracking number), the bill of lading and the weight.
The builder never guesses quantities; the caller reads them from the ERP's done delivery.

The hierarchy is the partner's (``hierarchy``):

- ``SOPI`` (BSN05 ``0001``): shipment, order, one pack (carton) level per SSCC in ``MAN*GM``, the
  items in each carton under it;
- ``SOI`` (BSN05 ``0004``): shipment, order (its cartons' SSCCs as ``MAN*GM`` there), one item level
  per order line with the quantity shipped in all cartons.

The shipment level carries ``TD1`` (cartons and weight), ``TD5`` (carrier SCAC, transport method),
``REF*BM`` (bill of lading), ``REF*CN`` (the carrier's tracking number) and ``DTM*011`` (shipped);
the order level ``PRF`` (the PO number and date). The envelope is the 855's (``_855``: our
delimiters and ids, control numbers handed in by the caller who takes them gap-free).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from canonical.model import Order, OrderLine, PartyRole
from mappings.x12._855 import _PRODUCT_QUALIFIERS, Envelope855, number
from mappings.x12._acks import _isa, ack_file_name, safe, segment
from mappings.x12._sscc import SSCC_AI, is_valid_sscc

Hierarchy = Literal["SOPI", "SOI"]
STRUCTURE_CODES: dict[str, str] = {"SOPI": "0001", "SOI": "0004"}
"""BSN05 per hierarchy: 0001 shipment/order/packaging/item, 0004 shipment/order/item."""
SHIPPED = "011"
"""DTM01: shipped."""
Envelope856 = Envelope855
"""Who sends to whom and our numbers (ISA13, GS06, ST02): the same as an 855's."""


@dataclass(frozen=True)
class CartonItem:
    """An order line (by ``line_no``) and how many of its units are in one carton."""

    line_no: str
    quantity: Decimal

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"line {self.line_no}: a carton holds a positive quantity")


@dataclass(frozen=True)
class Carton:
    """One shipping container: its SSCC-18 (18 digits, check digit included) and its contents."""

    sscc: str
    items: tuple[CartonItem, ...]

    def __post_init__(self) -> None:
        if not is_valid_sscc(self.sscc):
            raise ValueError(f"{self.sscc!r} is not an SSCC-18 with a valid check digit")
        if not self.items:
            raise ValueError("an empty carton is not shipped")


@dataclass(frozen=True)
class ShipNotice:
    """What left the warehouse for one order: cartons, carrier, references, weight."""

    shipment_id: str
    """BSN02: our shipment identification (the ERP delivery's name, e.g. ``WH/OUT/00012``)."""
    shipped_at: dt.datetime
    cartons: tuple[Carton, ...]
    bill_of_lading: str
    """REF*BM."""
    scac: str | None = None
    """TD503 with TD502 ``2``: the carrier's Standard Carrier Alpha Code."""
    tracking_number: str | None = None
    """REF*CN: the carrier's reference (the label's tracking code)."""
    transport_method: str | None = "M"
    """TD504: M motor (common carrier), U private parcel service, A air..."""
    weight: Decimal | None = None
    weight_unit: str = "LB"
    packaging_code: str = "CTN25"
    """TD101: CTN (carton) + 25 (corrugated or solid)."""
    ship_from_name: str | None = None
    """N1*SF: who ships (us), when the partner wants it."""
    extra_refs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.cartons:
            raise ValueError("a ship notice needs at least one carton")
        ssccs = [carton.sscc for carton in self.cartons]
        if len(set(ssccs)) != len(ssccs):
            raise ValueError("two cartons of one shipment carry the same SSCC")

    def shipped(self) -> dict[str, Decimal]:
        """Quantity shipped per order line (every carton)."""
        totals: dict[str, Decimal] = {}
        for carton in self.cartons:
            for item in carton.items:
                totals[item.line_no] = totals.get(item.line_no, Decimal(0)) + item.quantity
        return totals


def man_gm(sscc: str, *, with_ai: bool) -> str:
    """``MAN*GM`` for one carton: the SSCC-18, or with its application identifier ``00`` in front (20 digits)."""
    return segment("MAN", "GM", (SSCC_AI + sscc) if with_ai else sscc)


def _lin(line: OrderLine) -> str:
    ids: list[str] = []
    for attribute, qualifier in _PRODUCT_QUALIFIERS:
        value = getattr(line, attribute)
        if value:
            ids += [qualifier, safe(value, 48)]
    if not ids:
        raise ValueError(f"line {line.line_no} has no item id (buyer part, SKU or GTIN) for LIN")
    return segment("LIN", safe(line.line_no, 20), *ids)


def _sn1(line: OrderLine, shipped: Decimal) -> str:
    uom = safe(line.uom, 2)
    return segment("SN1", safe(line.line_no, 20), number(shipped), uom, "", number(line.quantity), uom)


def _ship_to(order: Order) -> list[str]:
    party = order.party(PartyRole.SHIP_TO)
    if party is None or not (party.name or party.id):
        return []
    qualifier = safe(party.id_qualifier or "", 2) if party.id else ""
    found = [segment("N1", safe(party.entity_code or "ST", 3), safe(party.name or "", 60), qualifier,
                     safe(party.id or "", 80) if qualifier else "")]
    lines = [safe(text, 55) for text in party.address_lines[:2] if safe(text, 55)]
    if lines:
        found.append(segment("N3", *lines))
    if party.city or party.postal_code:
        city = safe(party.city or "", 30)
        found.append(segment("N4", city if len(city) >= 2 else "", safe(party.region or "", 2),
                             safe(party.postal_code or "", 15), safe(party.country or "", 3)))
    return found


def _shipment_level(order: Order, notice: ShipNotice) -> list[str]:
    weight = number(notice.weight) if notice.weight is not None and notice.weight > 0 else ""
    body = [
        segment("TD1", safe(notice.packaging_code, 5), str(len(notice.cartons)), "", "", "",
                "G" if weight else "", weight, safe(notice.weight_unit, 2) if weight else ""),
        segment("TD5", "", "2" if notice.scac else "", safe(notice.scac or "", 4),
                safe(notice.transport_method or "", 2)),
        segment("REF", "BM", safe(notice.bill_of_lading, 30)),
    ]
    if notice.tracking_number:
        body.append(segment("REF", "CN", safe(notice.tracking_number, 30)))
    body += [segment("REF", safe(q, 3), safe(v, 30)) for q, v in sorted(notice.extra_refs.items())]
    body.append(segment("DTM", SHIPPED, notice.shipped_at.strftime("%Y%m%d"), notice.shipped_at.strftime("%H%M")))
    body += _ship_to(order)
    if notice.ship_from_name:
        body.append(segment("N1", "SF", safe(notice.ship_from_name, 60)))
    return body


class _Levels:
    """HL numbering: each level's id, its parent's, and whether it has children (HL04)."""

    def __init__(self) -> None:
        self.segments: list[str] = []
        self.count = 0

    def add(self, parent: int | None, level: str, body: Sequence[str], *, children: bool) -> int:
        self.count += 1
        self.segments.append(segment("HL", str(self.count), str(parent) if parent else "", level,
                                     "1" if children else "0"))
        self.segments.extend(body)
        return self.count


def transaction_set_856(order: Order, notice: ShipNotice, *, st_control: int, hierarchy: Hierarchy = "SOPI",
                        sscc_with_ai: bool = False) -> list[str]:
    """ST..SE of the 856 for ``notice`` of ``order``, one segment per item (each ends with our terminator)."""
    lines = {line.line_no: line for line in order.lines}
    shipped = notice.shipped()
    unknown = sorted(set(shipped) - set(lines))
    if unknown:
        raise ValueError(f"cartons hold lines the order does not have: {unknown}")
    st02 = f"{st_control:04d}"
    head = [
        segment("ST", "856", st02),
        segment("BSN", "00", safe(notice.shipment_id, 30), notice.shipped_at.strftime("%Y%m%d"),
                notice.shipped_at.strftime("%H%M"), STRUCTURE_CODES[hierarchy]),
    ]
    levels = _Levels()
    ship = levels.add(None, "S", _shipment_level(order, notice), children=True)
    prf = segment("PRF", safe(order.source_ref, 22), safe(order.release_no or "", 30), "",
                  order.order_date.strftime("%Y%m%d"))
    if hierarchy == "SOPI":
        placed = levels.add(ship, "O", [prf], children=True)
        for carton in notice.cartons:
            pack = levels.add(placed, "P", [man_gm(carton.sscc, with_ai=sscc_with_ai)], children=True)
            for item in carton.items:
                levels.add(pack, "I", [_lin(lines[item.line_no]), _sn1(lines[item.line_no], item.quantity)],
                           children=False)
    else:
        marks = [man_gm(carton.sscc, with_ai=sscc_with_ai) for carton in notice.cartons]
        placed = levels.add(ship, "O", [prf, *marks], children=True)
        for line_no, quantity in shipped.items():
            levels.add(placed, "I", [_lin(lines[line_no]), _sn1(lines[line_no], quantity)], children=False)
    body = [*head, *levels.segments, segment("CTT", str(levels.count), number(sum(shipped.values(), Decimal(0))))]
    body.append(segment("SE", str(len(body) + 1), st02))
    return body


def build_856(order: Order, notice: ShipNotice, envelope: Envelope856, *, now: dt.datetime,
              hierarchy: Hierarchy = "SOPI", sscc_with_ai: bool = False) -> str:
    """A complete interchange carrying one 856 about ``notice`` (GS01 SH)."""
    isa12 = "00501" if envelope.version.startswith("005") else "00401"
    body = transaction_set_856(order, notice, st_control=envelope.set_control, hierarchy=hierarchy,
                               sscc_with_ai=sscc_with_ai)
    return "".join([
        _isa(envelope.ours, envelope.theirs, envelope.interchange_control, now, isa12, envelope.test),
        segment("GS", "SH", safe(envelope.ours.gs_id, 15), safe(envelope.theirs.gs_id, 15), now.strftime("%Y%m%d"),
                now.strftime("%H%M"), str(envelope.group_control), "X", envelope.version),
        *body,
        segment("GE", "1", str(envelope.group_control)),
        segment("IEA", "1", f"{envelope.interchange_control:09d}"),
    ])


def file_name_856(partner_isa_id: str, control: int) -> str:
    """``856_<partner>_<ISA13>.x12``, the acks' naming."""
    return ack_file_name("856", partner_isa_id, control)
