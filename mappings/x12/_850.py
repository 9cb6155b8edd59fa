"""850 purchase order -> canonical :class:`canonical.model.Order`.

The segments are read in order (``_850_segments``), the amounts worked out once every line is
complete (``_850_amounts``), codes put in words from the tables (``_850_codes``); this module
checks the BEG, builds the order in one validated step and applies the partner's amount limits.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from canonical.model import AmountBreach, Charge, Order, Source, order_total
from mappings.profiles import PartnerProfile
from mappings.x12._850_amounts import check_summary, header_charges, price_lines
from mappings.x12._850_codes import PLAIN_PRICE_BASIS, PURPOSES
from mappings.x12._850_segments import PurchaseOrderReader, text_of
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment


def map_850(
    segments: list[Segment],
    *,
    profile: PartnerProfile,
    loc: Locator,
    is_test: bool,
    raw_document_id: str | None,
) -> tuple[Order | None, list[Problem]]:
    """The canonical order of one 850 (ST..SE), or None with the problems that prevent it."""
    reader = PurchaseOrderReader(profile, loc)
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
    order_date = reader.date_of(beg, 5)
    if order_date is None and not beg.element(5).strip():
        reader.error(beg, "BEG05 (order date) is required and missing", 5, "1")
    check_summary(reader)
    price_lines(reader)
    charges = header_charges(reader)
    if any(p.severity == "error" for p in reader.problems) or order_date is None:
        return None, reader.problems
    try:
        order = _build_order(reader, beg, order_date, charges, loc, is_test, raw_document_id)
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


def _breach_segment(reader: PurchaseOrderReader, beg: Segment, breach: AmountBreach) -> tuple[Segment, int | None]:
    """The segment (and element) an amount over the limits came from: PO1, its SAC, a header SAC, or CTT/BEG."""
    line = next((raw for raw in reader.lines if raw.line_no == breach.line_no), None)
    sacs = line.allowances if line is not None else reader.allowances
    if breach.charge_code is not None:
        code = breach.charge_code
        sac = next((seg for seg in sacs if code in (seg.element(2).strip(), seg.element(4).strip())), None)
        if sac is not None:
            return sac, 5
    if line is not None:
        return line.seg, 4 if breach.field == "unit price" else None
    return reader.ctt or beg, None


# Order fields whose default is None or empty: left out of the data when they have nothing.
_DEFAULT_EMPTY = frozenset({"order_type", "release_no", "parties", "charges", "dates", "references",
                            "raw_document_id", "warnings", "carrier", "terms", "shipping_terms", "contacts"})


def _build_order(
    reader: PurchaseOrderReader,
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
        if raw.basis not in PLAIN_PRICE_BASIS:
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
        "order_type": text_of(beg.element(2)),
        "release_no": text_of(beg.element(4)),
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
