"""850 purchase order -> canonical :class:`canonical.model.Order`.

Runs after syntax validation, so it reads elements without re-checking their X12 types; what it
still checks are business facts the syntax cannot express (positive quantities, a currency code,
the CTT line count, store quantities that add up). Per-partner differences come from the profile:
qualifiers and UOM codes, and ``conventions`` (price basis meanings, SAC signs, line numbering).

Amounts are worked out once the whole line is read (PO4 packs and weights come after PO1):
unit price per the line's unit from PO104/PO105, line amount, then SAC allowances and charges at
line level, then at header level (percentages apply to the lines' amounts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pydantic import ValidationError

from canonical.model import (
    AmountBreach,
    Carrier,
    Charge,
    ChargeKind,
    Contact,
    Distribution,
    Order,
    PartyRole,
    PaymentTerms,
    Purpose,
    ShippingTerms,
    Source,
    is_currency,
    order_total,
)
from mappings.profiles import PartnerProfile, X12Profile
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment, is_digits

PURPOSES = {"00": Purpose.ORIGINAL, "01": Purpose.CANCELLATION, "04": Purpose.CHANGE, "05": Purpose.REPLACEMENT}
ORDER_TYPES = {
    "SA": "stand-alone order",
    "DS": "drop ship",
    "RL": "release against a blanket order",
    "BK": "blanket order",
    "KN": "purchase order (contract)",
    "NE": "new order",
    "RE": "reorder",
    "OS": "special order",
    "CN": "consigned order",
    "RO": "rush order",
    "PR": "promotion",
}
"""BEG02 codes in words (for people; the order keeps the code)."""
PARTY_ROLES = {
    "ST": PartyRole.SHIP_TO,
    "BT": PartyRole.BILL_TO,
    "BY": PartyRole.BUYER,
    "SF": PartyRole.SHIP_FROM,
    "Z7": PartyRole.MARK_FOR,
    "MA": PartyRole.MARK_FOR,
    "SO": PartyRole.SOLD_TO,
    "OB": PartyRole.ORDERED_BY,
    "SE": PartyRole.SELLER,
    "VN": PartyRole.VENDOR,
    "SU": PartyRole.SUPPLIER,
    "RI": PartyRole.REMIT_TO,
}
ID_SCHEMES = {
    "1": "duns",
    "9": "duns_plus_4",
    "UL": "gln",
    "91": "assigned_by_seller",
    "92": "assigned_by_buyer",
    "ZZ": "mutually_defined",
}
"""N103 identification code qualifiers in words."""
DATE_NAMES = {
    "001": "cancel_after",
    "002": "requested_delivery",
    "004": "purchase_order",
    "010": "requested_ship",
    "015": "promotion_start",
    "016": "promotion_end",
    "017": "estimated_delivery",
    "037": "ship_not_before",
    "038": "ship_no_later",
    "063": "do_not_deliver_after",
    "064": "do_not_deliver_before",
    "106": "required_by",
    "118": "requested_pickup",
    "996": "required_delivery",
}
"""DTM01 qualifiers in words; other qualifiers keep their code as the key."""
CHARACTERISTICS = {
    "08": "product",
    "35": "color",
    "73": "vendor_color",
    "74": "vendor_size",
    "75": "buyer_color",
    "77": "finish",
    "78": "pattern",
    "91": "buyer_size",
    "92": "fabric",
}
"""PID02 product characteristic codes in words (the key of ``OrderLine.attributes``)."""

# PO105 (element 639): what PO104 is a price of. Codes not listed are warned about and read per unit.
STANDARD_PRICE_BASIS = {
    "": "unit",
    "PE": "unit",
    "UM": "unit",
    "CP": "unit",
    "CT": "unit",
    "CA": "unit",  # catalog price per unit; retailers using CA for "per case" say so in their profile
    "QT": "unit",
    "QE": "unit",
    "LE": "unit",
    "TE": "unit",
    "WE": "unit",
    "WH": "unit",
    "NT": "unit",
    "ST": "unit",
    "FX": "unit",
    "DS": "unit",
    "PR": "unit",
    "NE": "unit",
    "DI": "unit",
    "PN": "ten",
    "PD": "dozen",
    "LD": "dozen",
    "TD": "dozen",
    "WD": "dozen",
    "HP": "hundred",
    "LC": "hundred",
    "QH": "hundred",
    "TC": "hundred",
    "WC": "hundred",
    "TP": "thousand",
    "LM": "thousand",
    "QS": "thousand",
    "TM": "thousand",
    "WM": "thousand",
    "TT": "ten_thousand",
    "HT": "hundred_thousand",
    "PP": "pound",
    "PO": "ounce",
    "PK": "kilogram",
    "PG": "gram",
    "PT": "ton",
    "NC": "no_charge",
    "NS": "no_charge",
    "RE": "not_a_cost",
    "RT": "not_a_cost",
    "RD": "not_a_cost",
    "RC": "not_a_cost",
    "RM": "not_a_cost",
    "SR": "not_a_cost",
    "RS": "not_a_cost",
    "NQ": "unpriced",
    "TB": "unpriced",
}
_COUNTS = {
    "unit": Decimal(1),
    "ten": Decimal(10),
    "dozen": Decimal(12),
    "hundred": Decimal(100),
    "thousand": Decimal(1000),
    "ten_thousand": Decimal(10000),
    "hundred_thousand": Decimal(100000),
}
# Weights in pounds, by X12 unit code (355) and by price-basis meaning.
_POUNDS = {
    "LB": Decimal(1),
    "OZ": Decimal(1) / Decimal(16),
    "KG": Decimal("2.20462262185"),
    "GR": Decimal("0.00220462262185"),
    "TN": Decimal(2000),
}
_WEIGHT_UNIT = {"pound": "LB", "ounce": "OZ", "kilogram": "KG", "gram": "GR", "ton": "TN"}
# SAC06 percent qualifiers (378) whose base is the net amount (after earlier allowances/charges).
_NET_PERCENT_BASES = frozenset({"2", "4", "7"})
# SAC12 (element 331): how an allowance or charge is settled. Only what is settled on the invoice
# changes the order total and the running net later percentages apply to (``Charge.counts_in_total``):
# no code, 02 and 06 do; 01, 03, 04, 05 and 15 are settled outside the invoice and only recorded.
# 07 says settling it is not obligatory: it is counted (the buyer may still take it on the invoice)
# with a note for review; so is a code not listed here, rather than guessing which way it goes.
_HANDLING = {
    "01": "bill back",
    "02": "off invoice",
    "03": "vendor check to customer",
    "04": "credit customer account",
    "05": "charge to be paid by vendor",
    "06": "charge to be paid by customer",
    "07": "optional",
    "15": "information only",
}
# Segments that belong to a header N1 loop; anything else ends the loop.
_N1_LOOP = frozenset({"N1", "N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"})
# Segments of an N1 loop inside a PO1 loop (a line's own ship-to or mark-for): it also holds QTY, DTM, SCH.
_LINE_N1_LOOP = _N1_LOOP | {"QTY", "DTM", "SCH"}
# PO105 codes that say no more than "per one unit": not worth keeping on the line.
_PLAIN_PRICE = frozenset({"", "PE", "UM"})
_CENT = Decimal("0.01")
_PRICE_PLACES = Decimal("0.000001")
_COMMUNICATION = {"TE": "phone", "EM": "email", "FX": "fax"}


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _unit_price(value: Decimal) -> Decimal:
    """A per-unit price, kept exact when it is, else rounded to 6 places (e.g. 1.00 per dozen)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -6:
        return value
    return value.quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP).normalize() if value else Decimal(0)


@dataclass(slots=True)
class _Line:
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


class _PurchaseOrderReader:
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
        self.lines: list[_Line] = []
        self.ctt: Segment | None = None
        self._party: dict | None = None
        self._line: _Line | None = None
        self._line_numbers: set[str] = set()
        self._wanted_ids = (
            ("sku", self.x12.sku_qualifiers),
            ("gtin", self.x12.gtin_qualifiers),
            ("buyer_part", self.x12.buyer_part_qualifiers),
        )
        self._line_party = False  # the party being read is a line's (its DTMs are not the line's dates)
        self._party_loop = _N1_LOOP  # the segments that continue the party's N1 loop
        self._in_n9 = False
        self._previous = ""

    # -- problems -------------------------------------------------------------------------------
    def error(
        self, seg: Segment, message: str, element: int | None = None, code: str | None = None, *, trigger=None
    ) -> None:
        self.problems.append(
            self.loc.problem(
                message, segment_id=seg.id, position=seg.position, element=element, code=code, trigger=trigger
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
            )
        )

    # -- segments -------------------------------------------------------------------------------
    def read(self, segments: list[Segment]) -> None:
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
        value = _text(seg.element(2)) or _text(seg.element(3))
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
        contact: dict[str, str | None] = {"function": _text(seg.element(1)), "name": _text(seg.element(2))}
        for n in (3, 5, 7):
            kind = _COMMUNICATION.get(seg.element(n).strip())
            if kind and not contact.get(kind):
                contact[kind] = _text(seg.element(n + 1))
        target = self._party["contacts"] if self._party is not None else self.contacts
        target.append(Contact(**contact))

    def _seg_DTM(self, seg: Segment) -> None:
        if self._in_n9 or self._line_party:
            return  # an N9 note's date, or a date for one line party (the party has no dates): not the line's
        qualifier = seg.element(1).strip()
        date = self._date(seg, 2)
        if date is not None and qualifier:
            target = self._line.dates if self._line is not None else self.dates
            target.setdefault(DATE_NAMES.get(qualifier, qualifier), date)

    def _seg_FOB(self, seg: Segment) -> None:
        method = _text(seg.element(1))
        if method and self.shipping_terms is None and self._line is None:
            self.shipping_terms = ShippingTerms(
                payment_method=method,
                location_qualifier=_text(seg.element(2)),
                location=_text(seg.element(3)),
                terms_code=_text(seg.element(5)),
            )

    def _seg_TD5(self, seg: Segment) -> None:
        if self.carrier is not None or self._line is not None:
            return
        qualifier, code = _text(seg.element(2)), _text(seg.element(3))
        carrier = Carrier(
            scac=code if qualifier == "2" else None,
            id_qualifier=qualifier,
            id=code,
            transport_method=_text(seg.element(4)),
            routing=_text(seg.element(5)),
            service_level=_text(seg.element(12)),
        )
        if any(v is not None for v in carrier.model_dump().values()):
            self.carrier = carrier

    def _seg_ITD(self, seg: Segment) -> None:
        if self.terms is not None or self._line is not None:
            return
        percent = self._number(seg, 3, "the terms discount percent")
        amount = self._number(seg, 8, "the terms discount amount", implied_decimals=2)
        self.terms = PaymentTerms(
            type_code=_text(seg.element(1)),
            basis_date=_text(seg.element(2)),
            discount_percent=percent,
            discount_due_date=self._date(seg, 4),
            discount_days=self._whole(seg, 5, "the discount days"),
            net_due_date=self._date(seg, 6),
            net_days=self._whole(seg, 7, "the net days"),
            discount_amount=amount,
            description=_text(seg.element(12)),
        )

    def _seg_N1(self, seg: Segment) -> None:
        code = seg.element(1).strip()
        qualifier = _text(seg.element(3))
        party = {
            "role": PARTY_ROLES.get(code, PartyRole.OTHER),
            "entity_code": code or None,
            "name": _text(seg.element(2)),
            "id_qualifier": qualifier,
            "id_scheme": ID_SCHEMES.get(qualifier or ""),
            "id": _text(seg.element(4)),
            "address_lines": [],
            "references": {},
            "contacts": [],
        }
        if self._line is not None:  # a ship-to or mark-for of this line only
            self._line.parties.append(party)
            self._line_party, self._party_loop = True, _LINE_N1_LOOP
        else:
            self.parties.append(party)
            self._line_party, self._party_loop = False, _N1_LOOP
        self._party = party

    def _seg_N2(self, seg: Segment) -> None:
        if self._party is not None:
            self._party["address_lines"].extend(v for v in (_text(seg.element(1)), _text(seg.element(2))) if v)

    def _seg_N3(self, seg: Segment) -> None:
        self._seg_N2(seg)

    def _seg_N4(self, seg: Segment) -> None:
        if self._party is not None:
            self._party.update(
                city=_text(seg.element(1)),
                region=_text(seg.element(2)),
                postal_code=_text(seg.element(3)),
                country=_text(seg.element(4)),
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
        quantity = _decimal(elements[2])
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
            price = _decimal(raw_price)
            if price is None or price < 0:
                self.error(seg, f"line {line_no}: the unit price is not a positive number", 4, "6")
                price = None
        line = _Line(
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

    def _product_ids(self, seg: Segment, line: _Line) -> None:
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
            value = self._number(seg, n, what)
            if value is not None and value <= 0:
                self.error(seg, f"line {self._line.line_no}: {what} must be greater than zero", n, "6")
            elif value is not None:
                pack.setdefault(key, value)
        for key, n in (("pack_size_uom", 3), ("pack_weight_uom", 7)):
            if text := _text(seg.element(n)):
                pack.setdefault(key, text)

    def _seg_SDQ(self, seg: Segment) -> None:
        if self._line is None:
            return
        qualifier = _text(seg.element(2))
        if uom := seg.element(1).strip():
            self._line.distribution_uoms.add(self.x12.uom_map.get(uom, uom))
        for n in range(3, min(len(seg.elements), 23), 2):
            location = _text(seg.element(n))
            raw = seg.element(n + 1).strip()
            if not location and not raw:
                continue
            quantity = _decimal(raw) if raw else None
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
    def _date(self, seg: Segment, n: int) -> dt.date | None:
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

    def _number(self, seg: Segment, n: int, what: str, *, implied_decimals: int = 0) -> Decimal | None:
        raw = seg.element(n).strip()
        if not raw:
            return None
        if implied_decimals:
            digits = raw[1:] if raw[:1] == "-" else raw
            value = Decimal(raw).scaleb(-implied_decimals) if is_digits(digits) else None
        else:
            value = _decimal(raw)
        if value is None:
            self.error(seg, f"{seg.id}{n:02d} ({what}) is not a number", n, "6")
        return value

    def _whole(self, seg: Segment, n: int, what: str) -> int | None:
        value = self._number(seg, n, what)
        if value is None:
            return None
        if value != value.to_integral_value() or value < 0:
            self.error(seg, f"{seg.id}{n:02d} ({what}) is not a whole number", n, "6")
            return None
        return int(value)

    # -- amounts --------------------------------------------------------------------------------
    def price_lines(self) -> None:
        """Unit price, amount, store distribution and line charges of every line."""
        for line in self.lines:
            self._price_line(line)
            if line.distributions:
                self._check_distribution(line)
            if line.allowances:
                line.charges = self._charges(line.allowances, gross=line.amount, quantity=line.quantity)

    def _price_line(self, line: _Line) -> None:
        seg, code = line.seg, line.basis or self.conventions.price_basis_default
        meaning = self.conventions.price_basis.get(code) or STANDARD_PRICE_BASIS.get(code)
        if meaning is None:
            self.warn(
                seg,
                f"line {line.line_no}: price basis {code!r} is not understood, PO104 read as price per unit",
                5,
                "7",
                tell_partner=True,
            )
            meaning = "unit"
        if meaning == "no_charge":
            line.unit_price = Decimal(0)
        elif line.price is None:
            return
        elif meaning in ("not_a_cost", "unpriced"):
            what = "a retail price, not our selling price" if meaning == "not_a_cost" else "not a firm price"
            self.warn(seg, f"line {line.line_no}: PO104 is {what} ({code}); the ERP price list applies", 5,
                      tell_partner=False)
            return
        else:
            if meaning == "unit":
                exact = line.price  # price x 1 / 1: the same digits and exponent
            else:
                ratio = self._price_ratio(line, meaning, code)
                if ratio is None:
                    return
                exact = line.price * ratio[0] / ratio[1]
            line.unit_price = _unit_price(exact)
            if line.quantity is not None:
                line.amount = _money(line.quantity * exact)
            return
        if line.quantity is not None:
            line.amount = _money(line.quantity * line.unit_price)

    def _price_ratio(self, line: _Line, meaning: str, code: str) -> tuple[Decimal, Decimal] | None:
        """(multiplier, divisor) turning PO104 into a price per line unit, e.g. (1, 100) per hundred."""
        if meaning in _COUNTS:
            return Decimal(1), _COUNTS[meaning]
        if meaning == "pack":
            if line.uom in self.conventions.case_uoms or line.uom_code in self.conventions.case_uoms:
                return Decimal(1), Decimal(1)
            pack = line.pack.get("pack")
            if isinstance(pack, Decimal):
                return Decimal(1), pack
            self.warn(line.seg, f"line {line.line_no}: price per pack ({code}) without a PO4 pack; "
                      "the ERP price list applies", 5, tell_partner=False)
            return None
        weight = self._weight_per_unit(line, _WEIGHT_UNIT[meaning])
        if weight is None:
            self.warn(line.seg, f"line {line.line_no}: price per {meaning} ({code}) but no weight per "
                      f"{line.uom} (no PO4 size or gross weight); the ERP price list applies", 5, tell_partner=False)
            return None
        return weight, Decimal(1)

    def _weight_per_unit(self, line: _Line, unit: str) -> Decimal | None:
        """The weight of one line unit in ``unit`` (LB, KG...), from the line's UOM or its PO4."""
        in_pounds = None
        if line.uom == unit:
            return Decimal(1)  # exact: a price per pound of a line ordered in pounds
        if line.uom in _POUNDS:
            in_pounds = _POUNDS[line.uom]
        else:
            pack, size, size_uom = line.pack.get("pack"), line.pack.get("pack_size"), line.pack.get("pack_size_uom")
            gross, gross_uom = line.pack.get("pack_weight"), line.pack.get("pack_weight_uom")
            is_case = line.uom in self.conventions.case_uoms or line.uom_code in self.conventions.case_uoms
            if isinstance(size, Decimal) and size_uom in _POUNDS:
                per_inner = size * _POUNDS[size_uom]  # type: ignore[index]
                if not is_case:
                    in_pounds = per_inner
                elif isinstance(pack, Decimal):
                    in_pounds = per_inner * pack
            if in_pounds is None and is_case and isinstance(gross, Decimal) and gross_uom in _POUNDS:
                in_pounds = gross * _POUNDS[gross_uom]  # type: ignore[index]
        if in_pounds is None:
            return None
        return in_pounds if unit == "LB" else in_pounds / _POUNDS[unit]

    def _check_distribution(self, line: _Line) -> None:
        if not line.distributions or line.quantity is None:
            return
        first = line.distributions[0][0]
        if line.distribution_uoms - {line.uom}:
            self.warn(first, f"line {line.line_no}: store quantities are in another unit than the line; "
                      "not compared with PO102", tell_partner=False)
            return
        total = sum((d.quantity for _, d in line.distributions), Decimal(0))
        if total == line.quantity:
            return
        message = f"line {line.line_no}: store quantities add up to {total}, the line orders {line.quantity}"
        trigger = ("PO1", line.seg.position, 2)  # the quantity the stores should add up to
        if self.conventions.distribution_mismatch == "reject":
            self.error(first, message, trigger=trigger)
        else:
            self.warn(first, message, tell_partner=True, trigger=trigger)

    def _charges(self, segments: list[Segment], *, gross: Decimal | None, quantity: Decimal | None) -> list[Charge]:
        """Charges of SAC segments in order; percentages apply to ``gross`` or the running net."""
        charges: list[Charge] = []
        net = gross
        for seg in segments:
            charge = self._charge(seg, gross=gross, net=net, quantity=quantity)
            if charge is None:
                continue
            charges.append(charge)
            if net is not None and charge.counts_in_total:
                net += charge.amount if charge.kind is ChargeKind.CHARGE else -charge.amount
        return charges

    def _charge(
        self, seg: Segment, *, gross: Decimal | None, net: Decimal | None, quantity: Decimal | None
    ) -> Charge | None:
        indicator = seg.element(1).strip()
        code = _text(seg.element(2)) or _text(seg.element(4)) or "UNKNOWN"
        handling = _text(seg.element(12))
        details: dict = {"handling": handling, "description": _text(seg.element(15))}
        if handling is not None and handling not in _HANDLING:
            self.warn(seg, f"{code}: SAC12 handling {handling!r} is not one we know; counted in the order total",
                      12, tell_partner=False)
        elif handling == "07":
            self.warn(seg, f"{code}: SAC12 says settling it is optional (07); counted in the order total", 12,
                      tell_partner=False)
        amount = self._number(seg, 5, "the allowance or charge amount", implied_decimals=2)
        if amount is not None and amount < 0:
            if self.conventions.sac_amount_sign == "positive":
                self.error(seg, f"{code}: SAC05 must not be negative (SAC01 says allowance or charge)", 5, "6")
                return None
            amount = -amount
        percent = self._number(seg, 7, "the percent")
        rate = self._number(seg, 8, "the rate")
        rate_quantity = self._number(seg, 10, "the quantity")
        if percent is not None:
            basis = seg.element(6).strip()
            details.update(percent=percent, percent_basis=basis or None)
            if amount is None:
                base = net if basis in _NET_PERCENT_BASES else gross
                if base is None:
                    self.warn(seg, f"{code}: a percentage of an amount we do not know; not applied", 7,
                              tell_partner=False)
                    return None
                amount = _money(abs(base) * percent / 100)
        if rate is not None:
            details.update(rate=rate, quantity=rate_quantity if rate_quantity is not None else quantity)
            if amount is None:
                if details["quantity"] is None:
                    self.warn(seg, f"{code}: a rate without a quantity; not applied", 10, tell_partner=False)
                    return None
                amount = _money(rate * details["quantity"])
        if amount is None:
            self.warn(seg, f"{code}: allowance/charge without an amount, percent or rate; not applied", 5,
                      tell_partner=False)
            return None
        return Charge(
            kind=ChargeKind.ALLOWANCE if indicator == "A" else ChargeKind.CHARGE, code=code, amount=amount, **details
        )

    def header_charges(self) -> list[Charge]:
        """Order-level allowances and charges; percentages apply to the lines' amounts."""
        priced = [line.amount for line in self.lines if line.amount is not None]
        gross = sum(priced, Decimal(0)) if priced else None
        quantities = [line.quantity for line in self.lines if line.quantity is not None]
        if gross is not None:
            net_lines = gross + sum(
                (
                    c.amount if c.kind is ChargeKind.CHARGE else -c.amount
                    for line in self.lines
                    for c in line.charges
                    if c.counts_in_total
                ),
                Decimal(0),
            )
        else:
            net_lines = None
        charges: list[Charge] = []
        net = net_lines
        for seg in self.allowances:
            charge = self._charge(seg, gross=gross, net=net, quantity=sum(quantities, Decimal(0)) or None)
            if charge is None:
                continue
            charges.append(charge)
            if net is not None and charge.counts_in_total:
                net += charge.amount if charge.kind is ChargeKind.CHARGE else -charge.amount
        return charges


_HANDLERS = {name[5:]: handler for name, handler in vars(_PurchaseOrderReader).items() if name.startswith("_seg_")}
"""Segment id -> its reader method (``_seg_<id>``)."""


def map_850(
    segments: list[Segment],
    *,
    profile: PartnerProfile,
    loc: Locator,
    is_test: bool,
    raw_document_id: str | None,
) -> tuple[Order | None, list[Problem]]:
    """The canonical order of one 850 (ST..SE), or None with the problems that prevent it."""
    reader = _PurchaseOrderReader(profile, loc)
    reader.read(segments)
    beg = reader.beg
    if beg is None or not reader.lines:
        return None, reader.problems  # the validator reports the missing segment
    purpose_code = beg.element(1).strip()
    if purpose_code not in PURPOSES:
        reader.error(beg, f"BEG01 purpose {purpose_code!r} is not one we act on (00, 01, 04, 05)", 1, "7")
    if (
        beg.element(2).strip() == "RL"
        and not beg.element(4).strip()
        and profile.x12 is not None
        and profile.x12.conventions.release_number_required
    ):
        reader.warn(
            beg,
            "a release order (BEG02 RL) without its release number in BEG04",
            4,
            "2",
            tell_partner=True,
            trigger=("BEG", beg.position, 2),
        )
    order_date = reader._date(beg, 5)
    if order_date is None and not beg.element(5).strip():
        reader.error(beg, "BEG05 (order date) is required and missing", 5, "1")
    if reader.ctt is not None:
        declared = reader.ctt.element(1).strip()
        if is_digits(declared) and int(declared) != len(reader.lines):
            reader.warn(
                reader.ctt,
                f"CTT01 says {int(declared)} line items, the order has {len(reader.lines)}",
                tell_partner=True,
            )
        _check_hash_total(reader)
    reader.price_lines()
    header_charges = reader.header_charges()
    if any(p.severity == "error" for p in reader.problems) or order_date is None:
        return None, reader.problems
    try:
        order = _build_order(reader, beg, order_date, header_charges, loc, is_test, raw_document_id)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            reader.problems.append(loc.problem(f"the order does not fit the canonical model: {where}: {err['msg']}"))
        return None, reader.problems
    breaches = profile.limits.breaches(order)
    for breach in breaches:  # a business rule: implausible amounts reject the set, located for the 997
        seg, element = _breach_segment(reader, beg, breach)
        reader.error(seg, breach.message, element, "6" if element else None)
    return (None if breaches else order), reader.problems


def _breach_segment(reader: _PurchaseOrderReader, beg: Segment, breach: AmountBreach) -> tuple[Segment, int | None]:
    """The segment (and element) an amount over the limits came from: PO1, its SAC, a header SAC, or CTT/BEG."""
    line = next((raw for raw in reader.lines if raw.line_no == breach.line_no), None)
    sacs = line.allowances if line is not None else reader.allowances
    if breach.charge_code is not None:
        sac = next((seg for seg in sacs if breach.charge_code in (seg.element(2).strip(), seg.element(4).strip())), None)
        if sac is not None:
            return sac, 5
    if line is not None:
        return line.seg, 4 if breach.field == "unit price" else None
    return reader.ctt or beg, None


def _check_hash_total(reader: _PurchaseOrderReader) -> None:
    """CTT02, when sent, must be what the lines' PO102 quantities add up to (noted to the partner if not).

    Retailers send the plain sum (114, or 6.5 for 2.5 + 4), compared exactly as a Decimal. X12's own
    definition of a hash total (element 347) adds the digits without decimal points or signs and keeps
    the rightmost 10 (25 + 4 = 29 for the same lines): a partner following it to the letter is right too.
    """
    assert reader.ctt is not None
    hash_total = _decimal(reader.ctt.element(2))
    quantities = [line.quantity for line in reader.lines]
    if hash_total is None or None in quantities:
        return  # not sent, or a quantity that is not a number: already an error of its own
    ordered = sum(quantities, Decimal(0))  # type: ignore[arg-type]
    if hash_total == ordered or hash_total == _digit_hash(line.seg.element(2) for line in reader.lines):
        return
    reader.warn(
        reader.ctt,
        f"CTT02 says the quantities add up to {hash_total}, the lines order {ordered}",
        2,
        tell_partner=True,
    )


def _digit_hash(values) -> int:
    """X12 hash total (element 347): the values' digits summed, decimal points and signs ignored, 10 digits kept."""
    total = 0
    for value in values:
        digits = value.strip().lstrip("+-").replace(".", "")
        total += int(digits) if is_digits(digits) else 0
    return total % 10**10


# Order fields whose default is None or empty: left out of the data when they have nothing.
_DEFAULT_EMPTY = frozenset({"order_type", "release_no", "parties", "charges", "dates", "references",
                            "raw_document_id", "warnings", "carrier", "terms", "shipping_terms", "contacts"})


def _build_order(
    reader: _PurchaseOrderReader,
    beg: Segment,
    order_date: dt.date,
    header_charges: list[Charge],
    loc: Locator,
    is_test: bool,
    raw_document_id: str | None,
) -> Order:
    """The order, validated by pydantic in one call from plain data (every model rule applies).

    One ``Order.model_validate`` of nested dicts runs in pydantic-core; an ``OrderLine`` per line
    built from Python costs twice as much. A rule the data breaks is named by its path in the
    order (``lines.0.quantity``).
    """
    lines = []
    for raw in reader.lines:
        # Only what the document says: a field left out takes its default (None or empty).
        line: dict = {"line_no": raw.line_no, "quantity": raw.quantity, "uom": raw.uom}
        if raw.ids:
            line.update(raw.ids)  # sku / gtin / buyer_part
        if raw.description:
            line["description"] = " ".join(raw.description)
        if raw.unit_price is not None:
            line["unit_price"] = raw.unit_price
        if raw.amount is not None:
            line["amount"] = raw.amount
        if raw.charges:
            line["charges"] = raw.charges
        if raw.basis not in _PLAIN_PRICE:
            line["price_basis"] = raw.basis
        if raw.distributions:
            line["distribution"] = [d for _, d in raw.distributions]
        if raw.parties:
            line["parties"] = raw.parties
        if raw.attributes:
            line["attributes"] = raw.attributes
        if raw.references:
            line["references"] = raw.references
        if raw.dates:
            line["dates"] = raw.dates
        if raw.pack:
            line.update(raw.pack)
        lines.append(line)
    data = {
        "source": Source.X12,
        "source_ref": beg.element(3).strip(),
        "partner_id": reader.profile.id,
        "purpose": PURPOSES[beg.element(1).strip()],
        "order_type": _text(beg.element(2)),
        "release_no": _text(beg.element(4)),
        "order_date": order_date,
        "currency": reader.currency,
        "parties": reader.parties,
        "lines": lines,
        "charges": header_charges,
        # The lines' amounts and charges as read are what the OrderLine fields hold.
        "total": order_total(reader.lines, header_charges),  # type: ignore[arg-type]
        "dates": reader.dates,
        "references": reader.references,
        "is_test": is_test,
        "raw_document_id": raw_document_id,
        "document_ref": loc.ref,
        "warnings": [p.message for p in reader.problems if p.severity == "warning"],
        "carrier": reader.carrier,
        "terms": reader.terms,
        "shipping_terms": reader.shipping_terms,
        "contacts": reader.contacts,
    }
    data = {k: v for k, v in data.items() if k not in _DEFAULT_EMPTY or not (v is None or v == [] or v == {})}
    return Order.model_validate(data)
