"""Reading an 850's segments in order: header, N1/N9 loops, PO1 loops and summary, as plain values.

Runs after syntax validation, so it reads elements without re-checking their X12 types; what it
checks are facts the syntax cannot express (positive quantities, a currency code, line numbers
used once). Per-partner differences come from the profile: qualifiers, UOM codes, ``conventions``.
The amounts are worked out afterwards (``_850_amounts``), once every PO1 loop is complete.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.model import (
    Carrier,
    Charge,
    Contact,
    Distribution,
    PartyRole,
    PaymentTerms,
    ShippingTerms,
    is_currency,
)
from mappings.profiles import PartnerProfile, X12Profile
from mappings.x12._850_codes import (
    CHARACTERISTICS,
    COMMUNICATION_KINDS,
    DATE_NAMES,
    ID_SCHEMES,
    LINE_N1_LOOP,
    N1_LOOP,
    PARTY_ROLES,
)
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment, is_digits


def text_of(value: str) -> str | None:
    """An element's text without its padding, None when empty."""
    value = value.strip()
    return value or None


def decimal_of(value: str) -> Decimal | None:
    """An element as a finite Decimal, None when it is not one."""
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(slots=True)
class PurchaseOrderLine:
    """A PO1 loop as read, before its amounts are worked out."""

    seg: Segment
    line_no: str
    quantity: Decimal | None
    uom_code: str
    uom: str
    price: Decimal | None
    basis: str
    ids: dict[str, str] = field(default_factory=dict)
    description: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)
    allowances: list[Segment] = field(default_factory=list)
    distributions: list[tuple[Segment, Distribution]] = field(default_factory=list)
    distribution_uoms: set[str] = field(default_factory=set)
    parties: list[dict] = field(default_factory=list)
    pack: dict[str, object] = field(default_factory=dict)
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    charges: list[Charge] = field(default_factory=list)


class PurchaseOrderReader:
    """Reads one 850's segments in order, keeping the loop it is in (header, N1, N9, PO1, summary)."""

    def __init__(self, profile: PartnerProfile, loc: Locator) -> None:
        self.profile = profile
        assert profile.x12 is not None, "only X12 partners send 850s"
        self.x12: X12Profile = profile.x12
        self.conventions = profile.x12.conventions
        self.loc = loc
        self.problems: list[Problem] = []
        self.beg: Segment | None = None
        self.currency = profile.currency
        self.references: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}
        self.parties: list[dict] = []
        self.contacts: list[Contact] = []
        self.allowances: list[Segment] = []
        self.carrier: Carrier | None = None
        self.terms: PaymentTerms | None = None
        self.shipping_terms: ShippingTerms | None = None
        self.lines: list[PurchaseOrderLine] = []
        self.ctt: Segment | None = None
        self._party: dict | None = None
        self._line: PurchaseOrderLine | None = None
        self._line_numbers: set[str] = set()
        self._wanted_ids = (
            ("sku", self.x12.sku_qualifiers),
            ("gtin", self.x12.gtin_qualifiers),
            ("buyer_part", self.x12.buyer_part_qualifiers),
        )
        self._line_party = False  # the party being read is a line's (its DTMs are not the line's dates)
        self._party_loop = N1_LOOP  # the segments that continue the party's N1 loop
        self._in_n9 = False
        self._previous = ""

    # -- problems -------------------------------------------------------------------------------
    def error(
        self, seg: Segment, message: str, element: int | None = None, code: str | None = None, *, trigger=None
    ) -> None:
        """Record an error at ``seg`` (and ``element``) that rejects the set, coded for the 997."""
        self.problems.append(
            self.loc.problem(
                message, segment_id=seg.id, position=seg.position, element=element, code=code, trigger=trigger,
                value=_value(seg, element),
            )
        )

    def warn(
        self,
        seg: Segment,
        message: str,
        element: int | None = None,
        code: str | None = None,
        *,
        tell_partner: bool,
        trigger: tuple[str, int, int | None] | None = None,
    ) -> None:
        """Record a warning at ``seg``; ``tell_partner`` says whether the 997 reports it."""
        self.problems.append(
            self.loc.problem(
                message,
                severity="warning",
                segment_id=seg.id,
                position=seg.position,
                element=element,
                code=code,
                acknowledged=tell_partner,
                trigger=trigger,
                value=_value(seg, element),
            )
        )

    # -- segments -------------------------------------------------------------------------------
    def read(self, segments: list[Segment]) -> None:
        """Read the set's segments after ST, each by its ``_seg_<id>`` method."""
        handlers = _HANDLERS
        for seg in segments[1:]:
            sid = seg.elements[0]
            if self._party is not None and sid not in self._party_loop:
                self._party, self._line_party = None, False
            if self._in_n9 and sid not in ("DTM", "MSG"):
                self._in_n9 = False
            handler = handlers.get(sid)
            if handler is not None:
                handler(self, seg)
            self._previous = sid

    def _seg_BEG(self, seg: Segment) -> None:
        self.beg = seg

    def _seg_CUR(self, seg: Segment) -> None:
        if self._line is not None or self._previous == "SAC":
            return  # a line's or an allowance's own currency: the order currency is the header's
        code = seg.element(2).strip()
        if is_currency(code):
            self.currency = code
        else:
            self.error(seg, f"CUR02 {code[:12]!r} is not an ISO 4217 currency code", 2, "7")

    def _seg_REF(self, seg: Segment) -> None:
        qualifier = seg.element(1).strip()
        value = text_of(seg.element(2)) or text_of(seg.element(3))
        if not (qualifier and value):
            return
        if self._party is not None:
            target = self._party["references"]
        elif self._line is not None:
            target = self._line.references
        else:
            target = self.references
        target.setdefault(qualifier, value)

    def _seg_N9(self, seg: Segment) -> None:
        self._seg_REF(seg)  # N901/N902 have REF's shape; its DTM and MSG stay in the N9 loop
        self._in_n9 = True

    def _seg_PER(self, seg: Segment) -> None:
        contact: dict[str, str | None] = {"function": text_of(seg.element(1)), "name": text_of(seg.element(2))}
        for n in (3, 5, 7):
            kind = COMMUNICATION_KINDS.get(seg.element(n).strip())
            if kind and not contact.get(kind):
                contact[kind] = text_of(seg.element(n + 1))
        target = self._party["contacts"] if self._party is not None else self.contacts
        target.append(Contact(**contact))

    def _seg_DTM(self, seg: Segment) -> None:
        if self._in_n9 or self._line_party:
            return  # an N9 note's date, or a date for one line party (the party has no dates): not the line's
        qualifier = seg.element(1).strip()
        date = self.date_of(seg, 2)
        if date is not None and qualifier:
            target = self._line.dates if self._line is not None else self.dates
            target.setdefault(DATE_NAMES.get(qualifier, qualifier), date)

    def _seg_FOB(self, seg: Segment) -> None:
        method = text_of(seg.element(1))
        if method and self.shipping_terms is None and self._line is None:
            self.shipping_terms = ShippingTerms(
                payment_method=method,
                location_qualifier=text_of(seg.element(2)),
                location=text_of(seg.element(3)),
                terms_code=text_of(seg.element(5)),
            )

    def _seg_TD5(self, seg: Segment) -> None:
        if self.carrier is not None or self._line is not None:
            return
        qualifier, code = text_of(seg.element(2)), text_of(seg.element(3))
        carrier = Carrier(
            scac=code if qualifier == "2" else None,
            id_qualifier=qualifier,
            id=code,
            transport_method=text_of(seg.element(4)),
            routing=text_of(seg.element(5)),
            service_level=text_of(seg.element(12)),
        )
        if any(v is not None for v in carrier.model_dump().values()):
            self.carrier = carrier

    def _seg_ITD(self, seg: Segment) -> None:
        if self.terms is not None or self._line is not None:
            return
        percent = self.number_of(seg, 3, "the terms discount percent")
        amount = self.number_of(seg, 8, "the terms discount amount", implied_decimals=2)
        self.terms = PaymentTerms(
            type_code=text_of(seg.element(1)),
            basis_date=text_of(seg.element(2)),
            discount_percent=percent,
            discount_due_date=self.date_of(seg, 4),
            discount_days=self.whole_of(seg, 5, "the discount days"),
            net_due_date=self.date_of(seg, 6),
            net_days=self.whole_of(seg, 7, "the net days"),
            discount_amount=amount,
            description=text_of(seg.element(12)),
        )

    def _seg_N1(self, seg: Segment) -> None:
        code = seg.element(1).strip()
        qualifier = text_of(seg.element(3))
        party: dict[str, Any] = {
            "role": PARTY_ROLES.get(code, PartyRole.OTHER),
            "entity_code": code or None,
            "name": text_of(seg.element(2)),
            "id_qualifier": qualifier,
            "id_scheme": ID_SCHEMES.get(qualifier or ""),
            "id": text_of(seg.element(4)),
            "address_lines": [],
            "references": {},
            "contacts": [],
        }
        if self._line is not None:  # a ship-to or mark-for of this line only
            self._line.parties.append(party)
            self._line_party, self._party_loop = True, LINE_N1_LOOP
        else:
            self.parties.append(party)
            self._line_party, self._party_loop = False, N1_LOOP
        self._party = party

    def _seg_N2(self, seg: Segment) -> None:
        if self._party is not None:
            self._party["address_lines"].extend(v for v in (text_of(seg.element(1)), text_of(seg.element(2))) if v)

    def _seg_N3(self, seg: Segment) -> None:
        self._seg_N2(seg)

    def _seg_N4(self, seg: Segment) -> None:
        if self._party is not None:
            self._party.update(
                city=text_of(seg.element(1)),
                region=text_of(seg.element(2)),
                postal_code=text_of(seg.element(3)),
                country=text_of(seg.element(4)),
            )

    def _seg_PO1(self, seg: Segment) -> None:
        self._party, self._line_party = None, False
        # PO101..PO105 read straight from the list (padded when the segment stops early).
        elements = seg.elements
        if len(elements) < 6:
            elements = elements + [""] * (6 - len(elements))
        position = str(len(self.lines) + 1)
        sent_no = elements[1].strip()
        line_no = sent_no if sent_no and self.conventions.line_numbers == "as_sent" else position
        if line_no in self._line_numbers:
            self.warn(seg, f"line number {line_no} is used twice in this order", 1, tell_partner=False)
        self._line_numbers.add(line_no)
        quantity = decimal_of(elements[2])
        if quantity is None:
            self.error(seg, f"line {line_no}: the quantity is not a number", 2, "6")
        elif quantity <= 0:
            self.error(seg, f"line {line_no}: the quantity must be greater than zero", 2, "6")
        uom_code = elements[3].strip()
        if not uom_code:
            self.warn(seg, f"line {line_no}: no unit of measure, EA assumed", 3, tell_partner=False)
        price = None
        raw_price = elements[4].strip()
        if raw_price:
            price = decimal_of(raw_price)
            if price is None or price < 0:
                self.error(seg, f"line {line_no}: the unit price is not a positive number", 4, "6")
                price = None
        line = PurchaseOrderLine(
            seg=seg,
            line_no=line_no,
            quantity=quantity,
            uom_code=uom_code,
            uom=self.x12.uom_map.get(uom_code, uom_code) if uom_code else "EA",
            price=price,
            basis=elements[5].strip(),
        )
        self._product_ids(seg, line)
        self.lines.append(line)
        self._line = line

    def _product_ids(self, seg: Segment, line: PurchaseOrderLine) -> None:
        wanted = self._wanted_ids
        elements = seg.elements
        last = len(elements) - 1
        for n in range(6, last + 1, 2):
            value = elements[n + 1].strip() if n < last else ""
            if not value:
                continue
            qualifier = elements[n].strip()
            for field_name, qualifiers in wanted:
                if qualifier in qualifiers and field_name not in line.ids:
                    line.ids[field_name] = value
                    break
        if not line.ids:
            self.warn(
                seg,
                f"line {line.line_no}: no item id with a qualifier this partner's profile knows",
                6,
                tell_partner=False,
            )

    def _seg_PID(self, seg: Segment) -> None:
        if self._line is None:
            return
        elements = seg.elements
        if len(elements) < 6:
            elements = elements + [""] * (6 - len(elements))
        kind, characteristic = elements[1].strip(), elements[2].strip()
        if kind in ("F", "X"):
            text = elements[5].strip() or None
            if not text:
                return
            if characteristic in ("", "08"):
                self._line.description.append(text)
            else:
                self._line.attributes.setdefault(CHARACTERISTICS.get(characteristic, characteristic), text)
        elif kind == "S":
            code = elements[4].strip() or None
            if code:
                name = CHARACTERISTICS.get(characteristic, characteristic or "code")
                self._line.attributes.setdefault(f"{name}_code", code)

    def _seg_PO4(self, seg: Segment) -> None:
        if self._line is None:
            return
        pack = self._line.pack
        for key, n, what in (
            ("pack", 1, "the pack (PO401)"),
            ("pack_size", 2, "the size (PO402)"),
            ("pack_weight", 6, "the gross weight per pack (PO406)"),
            ("inner_pack", 14, "the inner pack (PO414)"),
        ):
            value = self.number_of(seg, n, what)
            if value is not None and value <= 0:
                self.error(seg, f"line {self._line.line_no}: {what} must be greater than zero", n, "6")
            elif value is not None:
                pack.setdefault(key, value)
        for key, n in (("pack_size_uom", 3), ("pack_weight_uom", 7)):
            if text := text_of(seg.element(n)):
                pack.setdefault(key, text)

    def _seg_SDQ(self, seg: Segment) -> None:
        if self._line is None:
            return
        qualifier = text_of(seg.element(2))
        if uom := seg.element(1).strip():
            self._line.distribution_uoms.add(self.x12.uom_map.get(uom, uom))
        for n in range(3, min(len(seg.elements), 23), 2):
            location = text_of(seg.element(n))
            raw = seg.element(n + 1).strip()
            if not location and not raw:
                continue
            quantity = decimal_of(raw) if raw else None
            if location is None or quantity is None or quantity < 0:
                self.error(seg, f"line {self._line.line_no}: store quantity is missing or not a number", n + 1, "6")
                continue
            if quantity > 0:
                self._line.distributions.append(
                    (seg, Distribution(location_id=location, quantity=quantity, id_qualifier=qualifier))
                )

    def _seg_SAC(self, seg: Segment) -> None:
        if seg.element(1).strip() not in ("A", "C"):
            return  # N: informational, changes no amount
        (self._line.allowances if self._line is not None else self.allowances).append(seg)

    def _seg_CTT(self, seg: Segment) -> None:
        self._line = None
        self.ctt = seg

    # -- elements -------------------------------------------------------------------------------
    def date_of(self, seg: Segment, n: int) -> dt.date | None:
        """Element ``n`` as a CCYYMMDD date; None when empty, or an error (AK403 8) when it is no date."""
        raw = seg.element(n).strip()
        if not raw:
            return None
        try:
            if not (is_digits(raw) and len(raw) == 8):
                raise ValueError(raw)
            return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            self.error(seg, f"{seg.id}{n:02d} is not a CCYYMMDD date", n, "8")
            return None

    def number_of(self, seg: Segment, n: int, what: str, *, implied_decimals: int = 0) -> Decimal | None:
        """Element ``n`` as a number (``implied_decimals`` for an N2 type); None when empty or not a number."""
        raw = seg.element(n).strip()
        if not raw:
            return None
        if implied_decimals:
            digits = raw[1:] if raw[:1] == "-" else raw
            value = Decimal(raw).scaleb(-implied_decimals) if is_digits(digits) else None
        else:
            value = decimal_of(raw)
        if value is None:
            self.error(seg, f"{seg.id}{n:02d} ({what}) is not a number", n, "6")
        return value

    def whole_of(self, seg: Segment, n: int, what: str) -> int | None:
        """Element ``n`` as a whole number of at least zero; None when empty or not one."""
        value = self.number_of(seg, n, what)
        if value is None:
            return None
        if value != value.to_integral_value() or value < 0:
            self.error(seg, f"{seg.id}{n:02d} ({what}) is not a whole number", n, "6")
            return None
        return int(value)


_HANDLERS = {name[5:]: handler for name, handler in vars(PurchaseOrderReader).items() if name.startswith("_seg_")}
"""Segment id -> its reader method (``_seg_<id>``)."""


def _value(seg: Segment, element: int | None) -> str | None:
    """The element's value as received, shown to a person next to the problem (None when absent or empty)."""
    if element is None or element >= len(seg.elements):
        return None
    return seg.elements[element] or None
