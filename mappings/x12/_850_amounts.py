"""The 850's amounts, worked out once every PO1 loop is read (PO4 packs and weights come after PO1).

Per line: the unit price per the line's unit from PO104/PO105, the line amount, the store
distribution checked against the quantity, then the line's SAC allowances and charges. Then the
header SACs (percentages apply to the lines' amounts) and the CTT summary's counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from canonical.model import Charge, ChargeKind
from mappings.x12._850_codes import (
    NET_PERCENT_BASES,
    POUNDS,
    SAC_HANDLING,
    STANDARD_PRICE_BASIS,
    UNIT_COUNTS,
    WEIGHT_UNITS,
)
from mappings.x12._850_segments import PurchaseOrderLine, PurchaseOrderReader, decimal_of, text_of
from mappings.x12._tokenizer import Segment, is_digits

_CENT = Decimal("0.01")
_PRICE_PLACES = Decimal("0.000001")


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _unit_price(value: Decimal) -> Decimal:
    """A per-unit price, kept exact when it is, else rounded to 6 places (e.g. 1.00 per dozen)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -6:
        return value
    return value.quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP).normalize() if value else Decimal(0)


def price_lines(reader: PurchaseOrderReader) -> None:
    """Unit price, amount, store distribution and line charges of every line."""
    for line in reader.lines:
        _price_line(reader, line)
        if line.distributions:
            _check_distribution(reader, line)
        if line.allowances:
            line.charges = _charges(reader, line.allowances, gross=line.amount, net=line.amount,
                                    quantity=line.quantity)


def header_charges(reader: PurchaseOrderReader) -> list[Charge]:
    """Order-level allowances and charges; percentages apply to the lines' amounts."""
    priced = [line.amount for line in reader.lines if line.amount is not None]
    gross = sum(priced, Decimal(0)) if priced else None
    quantities = [line.quantity for line in reader.lines if line.quantity is not None]
    net_lines = None
    if gross is not None:
        net_lines = gross + sum(
            (_signed(c) for line in reader.lines for c in line.charges if c.counts_in_total), Decimal(0)
        )
    return _charges(reader, reader.allowances, gross=gross, net=net_lines,
                    quantity=sum(quantities, Decimal(0)) or None)


def check_summary(reader: PurchaseOrderReader) -> None:
    """CTT01 must count the PO1 loops and CTT02, when sent, add up their quantities (noted to the partner if not)."""
    ctt = reader.ctt
    if ctt is None:
        return
    declared = ctt.element(1).strip()
    if is_digits(declared) and int(declared) != len(reader.lines):
        reader.warn(ctt, f"CTT01 says {int(declared)} line items, the order has {len(reader.lines)}",
                    tell_partner=True)
    _check_hash_total(reader, ctt)


def _signed(charge: Charge) -> Decimal:
    return charge.amount if charge.kind is ChargeKind.CHARGE else -charge.amount


def _price_line(reader: PurchaseOrderReader, line: PurchaseOrderLine) -> None:
    seg, code = line.seg, line.basis or reader.conventions.price_basis_default
    meaning = reader.conventions.price_basis.get(code) or STANDARD_PRICE_BASIS.get(code)
    if meaning is None:
        reader.warn(seg, f"line {line.line_no}: price basis {code!r} is not understood, PO104 read as price per unit",
                    5, "7", tell_partner=True)
        meaning = "unit"
    if meaning == "no_charge":
        line.unit_price = Decimal(0)
    elif line.price is None:
        return
    elif meaning in ("not_a_cost", "unpriced"):
        what = "a retail price, not our selling price" if meaning == "not_a_cost" else "not a firm price"
        reader.warn(seg, f"line {line.line_no}: PO104 is {what} ({code}); the ERP price list applies", 5,
                    tell_partner=False)
        return
    else:
        if meaning == "unit":
            exact = line.price  # price x 1 / 1: the same digits and exponent
        else:
            ratio = _price_ratio(reader, line, meaning, code)
            if ratio is None:
                return
            exact = line.price * ratio[0] / ratio[1]
        line.unit_price = _unit_price(exact)
        if line.quantity is not None:
            line.amount = _money(line.quantity * exact)
        return
    if line.quantity is not None:
        line.amount = _money(line.quantity * line.unit_price)


def _price_ratio(
    reader: PurchaseOrderReader, line: PurchaseOrderLine, meaning: str, code: str
) -> tuple[Decimal, Decimal] | None:
    """(multiplier, divisor) turning PO104 into a price per line unit, e.g. (1, 100) per hundred."""
    if meaning in UNIT_COUNTS:
        return Decimal(1), UNIT_COUNTS[meaning]
    case_uoms = reader.conventions.case_uoms
    if meaning == "pack":
        if line.uom in case_uoms or line.uom_code in case_uoms:
            return Decimal(1), Decimal(1)
        pack = line.pack.get("pack")
        if isinstance(pack, Decimal):
            return Decimal(1), pack
        reader.warn(line.seg, f"line {line.line_no}: price per pack ({code}) without a PO4 pack; "
                    "the ERP price list applies", 5, tell_partner=False)
        return None
    weight = _weight_per_unit(line, WEIGHT_UNITS[meaning], is_case=line.uom in case_uoms or line.uom_code in case_uoms)
    if weight is None:
        reader.warn(line.seg, f"line {line.line_no}: price per {meaning} ({code}) but no weight per "
                    f"{line.uom} (no PO4 size or gross weight); the ERP price list applies", 5, tell_partner=False)
        return None
    return weight, Decimal(1)


def _weight_per_unit(line: PurchaseOrderLine, unit: str, *, is_case: bool) -> Decimal | None:
    """The weight of one line unit in ``unit`` (LB, KG...), from the line's UOM or its PO4."""
    in_pounds = None
    if line.uom == unit:
        return Decimal(1)  # exact: a price per pound of a line ordered in pounds
    if line.uom in POUNDS:
        in_pounds = POUNDS[line.uom]
    else:
        pack, size, size_uom = line.pack.get("pack"), line.pack.get("pack_size"), line.pack.get("pack_size_uom")
        gross, gross_uom = line.pack.get("pack_weight"), line.pack.get("pack_weight_uom")
        if isinstance(size, Decimal) and size_uom in POUNDS:
            per_inner = size * POUNDS[size_uom]
            if not is_case:
                in_pounds = per_inner
            elif isinstance(pack, Decimal):
                in_pounds = per_inner * pack
        if in_pounds is None and is_case and isinstance(gross, Decimal) and gross_uom in POUNDS:
            in_pounds = gross * POUNDS[gross_uom]
    if in_pounds is None:
        return None
    return in_pounds if unit == "LB" else in_pounds / POUNDS[unit]


def _check_distribution(reader: PurchaseOrderReader, line: PurchaseOrderLine) -> None:
    if not line.distributions or line.quantity is None:
        return
    first = line.distributions[0][0]
    if line.distribution_uoms - {line.uom}:
        reader.warn(first, f"line {line.line_no}: store quantities are in another unit than the line; "
                    "not compared with PO102", tell_partner=False)
        return
    total = sum((d.quantity for _, d in line.distributions), Decimal(0))
    if total == line.quantity:
        return
    message = f"line {line.line_no}: store quantities add up to {total}, the line orders {line.quantity}"
    trigger = ("PO1", line.seg.position, 2)  # the quantity the stores should add up to
    if reader.conventions.distribution_mismatch == "reject":
        reader.error(first, message, trigger=trigger)
    else:
        reader.warn(first, message, tell_partner=True, trigger=trigger)


def _charges(
    reader: PurchaseOrderReader,
    segments: list[Segment],
    *,
    gross: Decimal | None,
    net: Decimal | None,
    quantity: Decimal | None,
) -> list[Charge]:
    """Charges of SAC segments in order; percentages apply to ``gross`` or the running net from ``net``."""
    charges: list[Charge] = []
    for seg in segments:
        charge = _charge(reader, seg, gross=gross, net=net, quantity=quantity)
        if charge is None:
            continue
        charges.append(charge)
        if net is not None and charge.counts_in_total:
            net += _signed(charge)
    return charges


def _charge(
    reader: PurchaseOrderReader, seg: Segment, *, gross: Decimal | None, net: Decimal | None, quantity: Decimal | None
) -> Charge | None:
    indicator = seg.element(1).strip()
    code = text_of(seg.element(2)) or text_of(seg.element(4)) or "UNKNOWN"
    handling = text_of(seg.element(12))
    details: dict = {"handling": handling, "description": text_of(seg.element(15))}
    if handling is not None and handling not in SAC_HANDLING:
        reader.warn(seg, f"{code}: SAC12 handling {handling!r} is not one we know; counted in the order total",
                    12, tell_partner=False)
    elif handling == "07":
        reader.warn(seg, f"{code}: SAC12 says settling it is optional (07); counted in the order total", 12,
                    tell_partner=False)
    amount = reader.number_of(seg, 5, "the allowance or charge amount", implied_decimals=2)
    if amount is not None:
        amount = _size(reader, seg, code, amount, 5)
        if amount is None:
            return None
    percent = reader.number_of(seg, 7, "the percent")
    rate = reader.number_of(seg, 8, "the rate")
    rate_quantity = reader.number_of(seg, 10, "the quantity")
    if percent is not None:
        basis = seg.element(6).strip()
        details.update(percent=percent, percent_basis=basis or None)
        if amount is None:
            base = net if basis in NET_PERCENT_BASES else gross
            if base is None:
                reader.warn(seg, f"{code}: a percentage of an amount we do not know; not applied", 7,
                            tell_partner=False)
                return None
            amount = _size(reader, seg, code, _money(abs(base) * percent / 100), 7)
            if amount is None:
                return None
    if rate is not None:
        details.update(rate=rate, quantity=rate_quantity if rate_quantity is not None else quantity)
        if amount is None:
            if details["quantity"] is None:
                reader.warn(seg, f"{code}: a rate without a quantity; not applied", 10, tell_partner=False)
                return None
            # A negative rate (SAC08 is signed) is read like a negative SAC05, never a negative Charge.
            amount = _size(reader, seg, code, _money(rate * details["quantity"]), 8)
            if amount is None:
                return None
    if amount is None:
        reader.warn(seg, f"{code}: allowance/charge without an amount, percent or rate; not applied", 5,
                    tell_partner=False)
        return None
    return Charge(
        kind=ChargeKind.ALLOWANCE if indicator == "A" else ChargeKind.CHARGE, code=code, amount=amount, **details
    )


def _size(reader: PurchaseOrderReader, seg: Segment, code: str, amount: Decimal, n: int) -> Decimal | None:
    """An amount SAC01 already signs: a negative one is read by its size, or refused (``sac_amount_sign: positive``)."""
    if amount >= 0:
        return amount
    if reader.conventions.sac_amount_sign == "positive":
        reader.error(seg, f"{code}: SAC{n:02d} must not be negative (SAC01 says allowance or charge)", n, "6")
        return None
    return -amount


def _check_hash_total(reader: PurchaseOrderReader, ctt: Segment) -> None:
    """CTT02, when sent, must be what the lines' PO102 quantities add up to (noted to the partner if not).

    Retailers send the plain sum (114, or 6.5 for 2.5 + 4), compared exactly as a Decimal. X12's own
    definition of a hash total (element 347) adds the digits without decimal points or signs and keeps
    the rightmost 10 (25 + 4 = 29 for the same lines): a partner following it to the letter is right too.
    """
    hash_total = decimal_of(ctt.element(2))
    quantities = [line.quantity for line in reader.lines]
    if hash_total is None or None in quantities:
        return  # not sent, or a quantity that is not a number: already an error of its own
    ordered = sum((q for q in quantities if q is not None), Decimal(0))
    if hash_total == ordered or hash_total == _digit_hash(line.seg.element(2) for line in reader.lines):
        return
    reader.warn(ctt, f"CTT02 says the quantities add up to {hash_total}, the lines order {ordered}", 2,
                tell_partner=True)


def _digit_hash(values: Iterable[str]) -> int:
    """X12 hash total (element 347): the values' digits summed, decimal points and signs ignored, 10 digits kept."""
    total = 0
    for value in values:
        digits = value.strip().lstrip("+-").replace(".", "")
        total += int(digits) if is_digits(digits) else 0
    return total % 10**10
