"""850 purchase order -> canonical :class:`hub.model.Order`.

Runs after syntax validation, so it reads elements without re-checking their X12 types; what it
still checks are business facts the syntax cannot express (positive quantities, a currency code,
the CTT line count). Per-partner differences come from the profile (qualifiers, UOM codes).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from hub.model import Charge, ChargeKind, Order, OrderLine, Party, PartyRole, Purpose, Source, order_total
from mappings.profiles import PartnerProfile, X12Profile
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment, is_digits

PURPOSES = {"00": Purpose.ORIGINAL, "01": Purpose.CANCELLATION, "04": Purpose.CHANGE, "05": Purpose.REPLACEMENT}
PARTY_ROLES = {
    "ST": PartyRole.SHIP_TO,
    "BT": PartyRole.BILL_TO,
    "BY": PartyRole.BUYER,
    "SF": PartyRole.SHIP_FROM,
    "Z7": PartyRole.MARK_FOR,
    "SE": PartyRole.SELLER,
    "VN": PartyRole.VENDOR,
    "RI": PartyRole.REMIT_TO,
    "SU": PartyRole.SUPPLIER,
}
DATE_NAMES = {"002": "requested_delivery", "010": "requested_ship", "037": "ship_not_before", "038": "ship_no_later"}
# PO105 price basis: how PO104 relates to one unit. Codes not listed are warned about and read as per unit.
PRICE_DIVISORS = {
    "": Decimal(1),
    "PE": Decimal(1),
    "UM": Decimal(1),
    "CP": Decimal(1),
    "CT": Decimal(1),
    "CA": Decimal(1),
    "QT": Decimal(1),
    "HP": Decimal(100),
    "TP": Decimal(1000),
}
NO_CHARGE = "NC"
# Segments that belong to an N1 loop (header level); anything else ends the loop.
_N1_LOOP = frozenset({"N1", "N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class _PurchaseOrderReader:
    """Reads one 850's segments in order, keeping the loop it is in (header, N1, PO1, summary)."""

    def __init__(self, profile: PartnerProfile, loc: Locator) -> None:
        self.profile = profile
        assert profile.x12 is not None, "only X12 partners send 850s"
        self.x12: X12Profile = profile.x12
        self.loc = loc
        self.problems: list[Problem] = []
        self.beg: Segment | None = None
        self.currency = profile.currency
        self.references: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}
        self.parties: list[dict] = []
        self.charges: list[Charge] = []
        self.lines: list[dict] = []
        self.ctt: Segment | None = None
        self._party: dict | None = None
        self._line: dict | None = None

    # -- problems -------------------------------------------------------------------------------
    def error(self, seg: Segment, message: str, element: int | None = None, code: str | None = None) -> None:
        self.problems.append(
            self.loc.problem(message, segment_id=seg.id, position=seg.position, element=element, code=code)
        )

    def warn(
        self, seg: Segment, message: str, element: int | None = None, code: str | None = None, *, tell_partner: bool
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
            )
        )

    # -- segments -------------------------------------------------------------------------------
    def read(self, segments: list[Segment]) -> None:
        for seg in segments[1:]:
            sid = seg.id
            if self._party is not None and sid not in _N1_LOOP:
                self._party = None
            handler = getattr(self, f"_seg_{sid}", None) if sid.isalnum() else None
            if handler is not None:
                handler(seg)

    def _seg_BEG(self, seg: Segment) -> None:
        self.beg = seg

    def _seg_CUR(self, seg: Segment) -> None:
        code = seg.element(2).strip()
        if _CURRENCY.match(code):
            self.currency = code
        else:
            self.error(seg, "CUR02 is not a three-letter currency code", 2, "7")

    def _seg_REF(self, seg: Segment) -> None:
        if self._line is not None or self._party is not None:
            return  # line- and party-level references have no place in the canonical order yet
        qualifier = seg.element(1).strip()
        value = _text(seg.element(2)) or _text(seg.element(3))
        if qualifier and value and qualifier not in self.references:
            self.references[qualifier] = value

    def _seg_DTM(self, seg: Segment) -> None:
        if self._line is not None:
            return
        qualifier = seg.element(1).strip()
        date = self._date(seg, 2)
        if date is not None and qualifier:
            self.dates.setdefault(DATE_NAMES.get(qualifier, qualifier), date)

    def _seg_N1(self, seg: Segment) -> None:
        if self._line is not None:
            self._party = None
            return  # line-level ship-to (store-level distribution) is not modelled yet
        code = seg.element(1).strip()
        self._party = {
            "role": PARTY_ROLES.get(code, PartyRole.OTHER),
            "name": _text(seg.element(2)),
            "id_qualifier": _text(seg.element(3)),
            "id": _text(seg.element(4)),
            "address_lines": [],
        }
        self.parties.append(self._party)

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
        self._party = None
        line_no = _text(seg.element(1)) or str(len(self.lines) + 1)
        quantity = _decimal(seg.element(2))
        if quantity is None:
            self.error(seg, f"line {line_no}: the quantity is not a number", 2, "6")
        elif quantity <= 0:
            self.error(seg, f"line {line_no}: the quantity must be greater than zero", 2, "6")
        uom_code = seg.element(3).strip()
        if not uom_code:
            self.warn(seg, f"line {line_no}: no unit of measure, EA assumed", 3, tell_partner=False)
        unit_price = self._unit_price(seg, line_no)
        line = {
            "line_no": line_no,
            "quantity": quantity,
            "uom": self.x12.uom_map.get(uom_code, uom_code) if uom_code else "EA",
            "unit_price": unit_price,
            "description": [],
            "charges": [],
        }
        self._product_ids(seg, line)
        self.lines.append(line)
        self._line = line

    def _unit_price(self, seg: Segment, line_no: str) -> Decimal | None:
        basis = seg.element(5).strip()
        if basis == NO_CHARGE:
            return Decimal(0)
        raw = seg.element(4).strip()
        if not raw:
            return None
        price = _decimal(raw)
        if price is None or price < 0:
            self.error(seg, f"line {line_no}: the unit price is not a positive number", 4, "6")
            return None
        divisor = PRICE_DIVISORS.get(basis)
        if divisor is None:
            self.warn(
                seg,
                f"line {line_no}: price basis {basis!r} is not understood, PO104 read as price per unit",
                5,
                "7",
                tell_partner=True,
            )
            divisor = Decimal(1)
        return price / divisor

    def _product_ids(self, seg: Segment, line: dict) -> None:
        wanted = (
            ("sku", self.x12.sku_qualifiers),
            ("gtin", self.x12.gtin_qualifiers),
            ("buyer_part", self.x12.buyer_part_qualifiers),
        )
        for n in range(6, len(seg.elements), 2):
            qualifier, value = seg.element(n).strip(), _text(seg.element(n + 1))
            if not value:
                continue
            for field_name, qualifiers in wanted:
                if qualifier in qualifiers and field_name not in line:
                    line[field_name] = value
                    break
        if not any(k in line for k in ("sku", "gtin", "buyer_part")):
            self.warn(
                seg,
                f"line {line['line_no']}: no item id with a qualifier this partner's profile knows",
                6,
                tell_partner=False,
            )

    def _seg_PID(self, seg: Segment) -> None:
        if self._line is not None and seg.element(1).strip() == "F":
            text = _text(seg.element(5))
            if text:
                self._line["description"].append(text)

    def _seg_SAC(self, seg: Segment) -> None:
        indicator = seg.element(1).strip()
        if indicator not in ("A", "C"):
            return  # N: informational, changes no amount
        code = _text(seg.element(2)) or _text(seg.element(3)) or "UNKNOWN"
        amount_text = seg.element(5).strip()
        if not amount_text:
            self.warn(
                seg, f"{code}: allowance/charge without an amount (percentages are not applied)", 5, tell_partner=False
            )
            return
        amount = _decimal(amount_text)
        if amount is None:
            self.error(seg, "SAC05 is not a number", 5, "6")
            return
        charge = Charge(
            kind=ChargeKind.ALLOWANCE if indicator == "A" else ChargeKind.CHARGE,
            code=code,
            amount=abs(amount).scaleb(-2),  # SAC05 is N2: two implied decimals
            description=_text(seg.element(15)),
        )
        (self._line["charges"] if self._line is not None else self.charges).append(charge)

    def _seg_CTT(self, seg: Segment) -> None:
        self._line = None
        self.ctt = seg

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
    if any(p.severity == "error" for p in reader.problems) or order_date is None:
        return None, reader.problems
    try:
        order = _build_order(reader, beg, order_date, loc, is_test, raw_document_id)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            reader.problems.append(loc.problem(f"the order does not fit the canonical model: {where}: {err['msg']}"))
        return None, reader.problems
    return order, reader.problems


def _build_order(
    reader: _PurchaseOrderReader,
    beg: Segment,
    order_date: dt.date,
    loc: Locator,
    is_test: bool,
    raw_document_id: str | None,
) -> Order:
    lines = []
    for raw in reader.lines:
        quantity, unit_price = raw["quantity"], raw["unit_price"]
        lines.append(
            OrderLine(
                line_no=raw["line_no"],
                sku=raw.get("sku"),
                gtin=raw.get("gtin"),
                buyer_part=raw.get("buyer_part"),
                description=" ".join(raw["description"]) or None,
                quantity=quantity,
                uom=raw["uom"],
                unit_price=unit_price,
                amount=quantity * unit_price if unit_price is not None else None,
                charges=raw["charges"],
            )
        )
    return Order(
        source=Source.X12,
        source_ref=beg.element(3).strip(),
        partner_id=reader.profile.id,
        purpose=PURPOSES.get(beg.element(1).strip(), Purpose.ORIGINAL),
        order_type=_text(beg.element(2)),
        release_no=_text(beg.element(4)),
        order_date=order_date,
        currency=reader.currency,
        parties=[Party(**p) for p in reader.parties],
        lines=lines,
        charges=reader.charges,
        total=order_total(lines, reader.charges),
        dates=reader.dates,
        references=reader.references,
        is_test=is_test,
        raw_document_id=raw_document_id,
        document_ref=loc.ref,
        warnings=[p.message for p in reader.problems if p.severity == "warning"],
    )
