"""Syntax validation of a transaction set's segments against a rules table.

The table here is hand-written for the 850 segments the mapper reads. It has the shape a compiler
of pyx12 map XML would produce (segments, element types/lengths/codes, syntax notes), so a
map-driven validator can replace ``RULES_850`` and then ``check_transaction_set`` without touching
the mapper or the ack builder. Codes are the 997's: AK304 for segments, AK403 for elements.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment, is_digits

# AK304 segment syntax error codes.
UNRECOGNIZED_SEGMENT = "1"
UNEXPECTED_SEGMENT = "2"
MANDATORY_SEGMENT_MISSING = "3"
SEGMENT_HAS_ELEMENT_ERRORS = "8"
# AK403 data element syntax error codes.
MANDATORY_ELEMENT_MISSING = "1"
CONDITIONAL_ELEMENT_MISSING = "2"
TOO_MANY_ELEMENTS = "3"
TOO_SHORT = "4"
TOO_LONG = "5"
INVALID_CHARACTER = "6"
INVALID_CODE = "7"
INVALID_DATE = "8"
INVALID_TIME = "9"

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$", re.ASCII)
_DECIMAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)$", re.ASCII)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")
_INTEGER = re.compile(r"^-?\d+$", re.ASCII)
_TIME = re.compile(r"^([01]\d|2[0-3])[0-5]\d([0-5]\d(\d{1,2})?)?$", re.ASCII)


@dataclass(frozen=True)
class ElementRule:
    """One simple data element: reference number, usage, X12 type, lengths and allowed codes."""

    ref: str
    usage: str = "O"  # M mandatory, O optional, X conditional (see the segment's syntax notes)
    type: str = "AN"  # AN, ID, Nn (implied decimals), R, DT, TM
    min_len: int = 1
    max_len: int = 80
    codes: frozenset[str] | None = None


@dataclass(frozen=True)
class SegmentRule:
    """A segment's elements (by position) and its syntax notes, e.g. ``("P", (3, 4))``."""

    elements: dict[int, ElementRule]
    max_elements: int | None = None
    notes: tuple[tuple[str, tuple[int, ...]], ...] = ()

    mandatory: tuple[int, ...] = field(init=False)
    """Positions of the mandatory elements (derived)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mandatory", tuple(n for n, el in self.elements.items() if el.usage == "M"))


@dataclass(frozen=True)
class TransactionSetRules:
    """What a transaction set may contain: known segments, rules per segment, mandatory ones."""

    set_id: str
    known_segments: frozenset[str]
    segments: dict[str, SegmentRule]
    first_segment: str
    mandatory: tuple[str, ...] = ()
    summary_segments: frozenset[str] = field(default_factory=frozenset)
    once: frozenset[str] = field(default_factory=frozenset)
    summary_start: str = ""
    detail_segment: str = ""


def _el(ref: str, usage: str = "O", type_: str = "AN", lo: int = 1, hi: int = 80, codes=None) -> ElementRule:
    return ElementRule(ref, usage, type_, lo, hi, frozenset(codes) if codes else None)


def _po1_rule() -> SegmentRule:
    elements = {
        1: _el("350", "O", "AN", 1, 20),
        2: _el("330", "M", "R", 1, 15),  # conditional in the standard; our guideline requires a quantity
        3: _el("355", "X", "ID", 2, 2),
        4: _el("212", "X", "R", 1, 17),
        5: _el("639", "O", "ID", 2, 2),
    }
    pairs = []
    for qualifier in range(6, 25, 2):
        elements[qualifier] = _el("235", "X", "ID", 2, 2)
        elements[qualifier + 1] = _el("234", "X", "AN", 1, 48)
        pairs.append(("P", (qualifier, qualifier + 1)))
    return SegmentRule(elements, 25, (("C", (5, 4)), *pairs))


RULES_850 = TransactionSetRules(
    set_id="850",
    known_segments=frozenset(
        "ST BEG CUR REF PER TAX FOB CTP PAM CSH TC2 SAC ITD DIS INC DTM LDT LIN SI PID MEA PWK PKG TD1 TD5 "
        "TD3 TD4 MAN PCT CTB TXI AMT N9 MSG N1 N2 N3 N4 NX2 QTY SCH SLN LM LQ SPI ADV CB G53 PO1 PO3 PO4 "
        "IT8 CN1 FST SDQ ACK CTT SE".split()
    ),
    segments={
        "BEG": SegmentRule(
            {
                1: _el("353", "M", "ID", 2, 2, {"00", "01", "04", "05"}),
                2: _el("92", "M", "ID", 2, 2),
                3: _el("324", "M", "AN", 1, 22),
                4: _el("328", "O", "AN", 1, 30),
                5: _el("373", "M", "DT", 8, 8),
            },
            12,
        ),
        "CUR": SegmentRule({1: _el("98", "M", "ID", 2, 3), 2: _el("100", "M", "ID", 3, 3)}, 21),
        "REF": SegmentRule(
            {1: _el("128", "M", "ID", 2, 3), 2: _el("127", "X", "AN", 1, 50), 3: _el("352", "X", "AN", 1, 80)},
            4,
            (("R", (2, 3)),),
        ),
        "DTM": SegmentRule(
            {1: _el("374", "M", "ID", 3, 3), 2: _el("373", "X", "DT", 8, 8), 3: _el("337", "X", "TM", 4, 8)},
            6,
            (("R", (2, 5)), ("C", (3, 2))),
        ),
        "N1": SegmentRule(
            {
                1: _el("98", "M", "ID", 2, 3),
                2: _el("93", "X", "AN", 1, 60),
                3: _el("66", "X", "ID", 1, 2),
                4: _el("67", "X", "AN", 2, 80),
            },
            6,
            (("R", (2, 3)), ("P", (3, 4))),
        ),
        "N2": SegmentRule({1: _el("93", "M", "AN", 1, 60), 2: _el("93", "O", "AN", 1, 60)}, 2),
        "N3": SegmentRule({1: _el("166", "M", "AN", 1, 55), 2: _el("166", "O", "AN", 1, 55)}, 2),
        "N4": SegmentRule(
            {
                1: _el("19", "O", "AN", 2, 30),
                2: _el("156", "O", "ID", 2, 2),
                3: _el("116", "O", "ID", 3, 15),
                4: _el("26", "O", "ID", 2, 3),
            },
            7,
        ),
        "PO1": _po1_rule(),
        "PID": SegmentRule({1: _el("349", "M", "ID", 1, 1, {"F", "S", "X"}), 5: _el("352", "X", "AN", 1, 80)}, 9),
        "SAC": SegmentRule(
            {
                1: _el("248", "M", "ID", 1, 1, {"A", "C", "N"}),
                2: _el("1300", "X", "ID", 4, 4),
                5: _el("610", "O", "N2", 1, 15),
                15: _el("352", "O", "AN", 1, 80),
            },
            16,
            (("R", (2, 3)),),
        ),
        "CTT": SegmentRule({1: _el("354", "M", "N0", 1, 6), 2: _el("347", "O", "R", 1, 10)}, 7),
    },
    first_segment="BEG",
    mandatory=("BEG", "PO1"),
    summary_segments=frozenset({"CTT", "AMT"}),
    once=frozenset({"BEG", "CUR", "CTT"}),
    summary_start="CTT",
    detail_segment="PO1",
)


def _element_code(rule: ElementRule, value: str) -> str | None:
    """The AK403 code for a present value that breaks its rule, or None."""
    kind = rule.type
    if kind == "R" or kind.startswith("N"):
        pattern = _DECIMAL if kind == "R" else _INTEGER
        if not pattern.match(value):
            return INVALID_CHARACTER
        size = len(value) - value.count("-") - value.count(".")  # signs and points are not digits
    elif kind == "DT":
        if not is_digits(value) or len(value) != 8:
            return INVALID_DATE
        try:
            dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            return INVALID_DATE
        return None
    elif kind == "TM":
        return None if _TIME.match(value) else INVALID_TIME
    else:
        if _CONTROL_CHARACTER.search(value):
            return INVALID_CHARACTER
        size = len(value)
    if size < rule.min_len:
        return TOO_SHORT
    if size > rule.max_len:
        return TOO_LONG
    if rule.codes is not None and value not in rule.codes:
        return INVALID_CODE
    return None


def check_segment(seg: Segment, rule: SegmentRule, loc: Locator) -> list[Problem]:
    """Element-level problems of one segment (AK4 material)."""
    found: list[Problem] = []
    elements = seg.elements
    count = len(elements)

    def present(n: int) -> bool:
        return n < count and not (elements[n] == "" or elements[n].isspace())

    def add(n: int, code: str, message: str) -> None:
        found.append(loc.problem(message, segment_id=seg.id, position=seg.position, element=n, code=code))

    for n in rule.mandatory:
        if not present(n):
            add(n, MANDATORY_ELEMENT_MISSING, f"{seg.id}{n:02d} is required and missing")
    for n in range(1, count):
        el = rule.elements.get(n)
        if el is not None and present(n):
            code = _element_code(el, elements[n])
            if code is not None:
                add(n, code, f"{seg.id}{n:02d} is not valid ({_CODE_WORDS[code]})")
    for kind, positions in rule.notes:
        if kind == "R":
            if not any(present(n) for n in positions):
                add(positions[0], CONDITIONAL_ELEMENT_MISSING, f"{seg.id} needs one of elements {positions}")
            continue
        if min(positions) >= count:
            continue  # none of them present: pairs and conditionals hold
        flags = [present(n) for n in positions]
        if kind == "P" and any(flags) and not all(flags):
            missing = next(n for n, p in zip(positions, flags, strict=True) if not p)
            add(missing, CONDITIONAL_ELEMENT_MISSING, f"{seg.id}{missing:02d} is required with its pair {positions}")
        elif kind == "C" and flags[0] and not all(flags[1:]):
            missing = next(n for n, p in zip(positions[1:], flags[1:], strict=True) if not p)
            add(
                missing,
                CONDITIONAL_ELEMENT_MISSING,
                f"{seg.id}{missing:02d} is required when {seg.id}{positions[0]:02d} is present",
            )
    if rule.max_elements is not None and count - 1 > rule.max_elements:
        add(rule.max_elements + 1, TOO_MANY_ELEMENTS, f"{seg.id} has more than {rule.max_elements} elements")
    return found


def check_transaction_set(segments: list[Segment], rules: TransactionSetRules, loc: Locator) -> list[Problem]:
    """All syntax problems of ST..SE: unknown/misplaced/missing segments and element errors."""
    found: list[Problem] = []
    body = segments[1:-1] if segments and segments[-1].id == "SE" else segments[1:]
    seen: set[str] = set()
    area = "header"
    for index, seg in enumerate(body):
        sid = seg.id
        if sid not in rules.known_segments or not _SEGMENT_ID.match(sid):
            found.append(
                loc.problem(
                    f"segment id {_printable(sid)!r} is not part of a {rules.set_id}",
                    segment_id=_printable(sid) or None,
                    position=seg.position,
                    code=UNRECOGNIZED_SEGMENT,
                )
            )
            continue
        if sid == rules.first_segment:
            misplaced = index != 0 or sid in seen
        elif sid in rules.summary_segments:
            misplaced = sid in rules.once and sid in seen
        else:
            misplaced = area == "summary" or (sid in rules.once and sid in seen)
        if sid == rules.detail_segment:
            area = "detail"
        elif sid == rules.summary_start:
            area = "summary"
        if misplaced:
            found.append(
                loc.problem(
                    f"segment {sid} is not expected here",
                    segment_id=sid,
                    position=seg.position,
                    code=UNEXPECTED_SEGMENT,
                )
            )
            seen.add(sid)
            continue
        seen.add(sid)
        rule = rules.segments.get(sid)
        if rule is not None:
            found.extend(check_segment(seg, rule, loc))
    trailer_position = segments[-1].position if segments else 1
    for sid in rules.mandatory:
        if sid not in seen:
            expected_at = 2 if sid == rules.first_segment else trailer_position
            found.append(
                loc.problem(
                    f"the mandatory segment {sid} is missing",
                    segment_id=sid,
                    position=expected_at,
                    code=MANDATORY_SEGMENT_MISSING,
                )
            )
    return found


def _printable(text: str) -> str:
    return "".join(c for c in text[:3] if c.isprintable())


_CODE_WORDS = {
    TOO_SHORT: "too short",
    TOO_LONG: "too long",
    INVALID_CHARACTER: "invalid character",
    INVALID_CODE: "invalid code value",
    INVALID_DATE: "invalid date",
    INVALID_TIME: "invalid time",
}
