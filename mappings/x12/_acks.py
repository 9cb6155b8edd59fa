"""Acknowledgments we send: the TA1 (interchange), and the 997 or 999 (functional groups, sets).

The 999 (implementation acknowledgment, 005010X231A1) says what the 997 says, from the same
problems: IK3/IK4/IK5 where the 997 has AK3/AK4/AK5, plus a CTX naming the segment and element
that made a conditional problem apply (e.g. the PO102 quantity that store quantities must match).

All are written with our fixed delimiters ('*', '>', '~' plus a line break) inside our own ISA
envelope, addressed from our ids to the partner's. Control numbers are given by the caller.

Nothing received is copied into an ack unless it is in the X12 extended character set (printable
ASCII): a bad element is reported by its position (AK4/IK4 with code 6), never echoed, and a
received segment id or control number is copied with every other character replaced, so an ack
can always be written as ASCII whatever bytes the partner sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from mappings.x12._results import Problem
from mappings.x12._tokenizer import is_digits
from mappings.x12._validation import RULES_850, TransactionSetRules

ELEMENT = "*"
COMPONENT = ">"
REPETITION = "^"
TERMINATOR = "~\n"
# Our delimiters, and everything outside printable ASCII (the X12 basic and extended character sets).
_UNSAFE = re.compile(r"[*>~^]|[^\x20-\x7e]")
_NOT_AN_ID = re.compile(r"[^A-Z0-9]")
UNREADABLE = "?"
"""Stands for a received character that cannot be echoed (it is in the X12 basic character set)."""
_RULES_BY_SET: dict[str, TransactionSetRules] = {RULES_850.set_id: RULES_850}
IMPLEMENTATION_999 = "005010X231A1"
_MAX_CONTEXTS = 10  # CTX repeats at most 10 times per IK3 and per IK4


@dataclass(frozen=True)
class AckAddress:
    """An ISA/GS address: interchange qualifier and id, application (GS) id."""

    isa_qualifier: str
    isa_id: str
    gs_id: str


@dataclass
class SetAck:
    """What the 997 says about one transaction set: AK2, its AK3/AK4 problems, AK5."""

    set_id: str
    control_number: str
    status: str  # A | E | R
    codes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class SetAcks(Protocol):
    """A group's set acks as the 997 builder reads them: counted and iterated (more than once).

    A list of SetAck, or the packed form file processing keeps for a group of thousands of sets.
    """

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[SetAck]: ...


@dataclass
class GroupAck:
    """What the 997 says about one functional group: AK1, the sets, AK9."""

    functional_id: str
    control_number: str
    version: str
    included: int
    sets: SetAcks = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    rejected: bool = False

    @property
    def accepted_count(self) -> int:
        """AK904: sets accepted, with or without noted errors."""
        return 0 if self.rejected else sum(s.status in ("A", "E") for s in self.sets)

    @property
    def status(self) -> str:
        """AK901: A, E, P or R."""
        if self.rejected:
            return "R"
        accepted = self.accepted_count
        if not self.sets or (accepted == len(self.sets) and all(s.status == "A" for s in self.sets)):
            return "E" if self.codes else "A"
        if accepted == len(self.sets):
            return "E"
        return "P" if accepted else "R"


def safe(value: str, limit: int | None = None) -> str:
    """A received value made safe to echo inside our envelope: printable ASCII, none of our delimiters."""
    cleaned = _UNSAFE.sub(" ", value).strip()
    return cleaned[:limit] if limit else cleaned


def safe_id(value: str, limit: int) -> str:
    """A received identifier (segment id, set id, control number) echoed as far as it can be.

    Upper-case letters and digits are kept, anything else becomes ``?``: the partner still sees
    which segment is meant (its position is reported too), and no foreign byte reaches the ack.
    """
    return _NOT_AN_ID.sub(UNREADABLE, value.strip()[:limit])


def segment(*elements: str) -> str:
    """One segment in our delimiters; trailing empty elements are dropped as X12 requires."""
    parts = list(elements)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts) + TERMINATOR


def _isa(ours: AckAddress, theirs: AckAddress, control: int, now: dt.datetime, isa12: str, test: bool) -> str:
    repetition = "U" if isa12 < "00402" else REPETITION
    return segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        safe(ours.isa_qualifier, 2).ljust(2),
        safe(ours.isa_id, 15).ljust(15),
        safe(theirs.isa_qualifier, 2).ljust(2),
        safe(theirs.isa_id, 15).ljust(15),
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        repetition,
        isa12,
        f"{control:09d}",
        "0",
        "T" if test else "P",
        COMPONENT,
    )


def interchange_version(received_isa12: str) -> str:
    """The ISA12 we answer with: the partner's when it is a plausible version, else 00401."""
    return received_isa12 if len(received_isa12) == 5 and is_digits(received_isa12) else "00401"


def build_ta1(
    *,
    ours: AckAddress,
    theirs: AckAddress,
    control: int,
    received_control: str,
    received_date: str,
    received_time: str,
    ack_code: str,
    note_code: str,
    isa12: str,
    test: bool,
    now: dt.datetime,
) -> str:
    """A complete interchange carrying one TA1 about the partner's interchange."""
    return (
        _isa(ours, theirs, control, now, isa12, test)
        + segment("TA1", safe(received_control, 9), safe(received_date, 6), safe(received_time, 4), ack_code, note_code)
        + segment("IEA", "0", f"{control:09d}")
    )


def _element_ref(set_id: str, segment_id: str, position: int) -> str:
    rules = _RULES_BY_SET.get(set_id)
    rule = rules.segments.get(segment_id) if rules else None
    element = rule.elements.get(position) if rule else None
    return element.ref if element else ""


def _context(trigger: tuple[str, int, int | None]) -> str:
    """A 999 CTX naming the segment (and element) whose presence made a problem apply."""
    segment_id, position, element = trigger
    return segment("CTX", "SITUATIONAL TRIGGER", safe_id(segment_id, 3), str(position), "", str(element or ""))


def _set_response(set_ack: SetAck, kind: str = "997") -> list[str]:
    """AK2, the located problems (AK3/AK4 or IK3/CTX/IK4/CTX) and AK5/IK5 of one transaction set."""
    implementation = kind == "999"
    segment_tag, element_tag, status_tag = ("IK3", "IK4", "IK5") if implementation else ("AK3", "AK4", "AK5")
    lines = [segment("AK2", safe(set_ack.set_id, 3), safe(set_ack.control_number, 9))]
    by_segment: dict[tuple[int, str], list[Problem]] = {}
    for problem in set_ack.problems:
        if problem.acknowledged and problem.segment_position is not None:
            key = (problem.segment_position, safe_id(problem.segment_id or "", 3))
            by_segment.setdefault(key, []).append(problem)
    for (position, segment_id), problems in sorted(by_segment.items()):
        segment_problems = [p for p in problems if p.element_position is None or not p.code]
        segment_codes = [p.code for p in segment_problems if p.code]
        element_problems = [p for p in problems if p.element_position is not None and p.code]
        code = segment_codes[0] if segment_codes else ("8" if element_problems else "")
        if implementation and not code:
            code = "8"  # IK304 is mandatory: a business warning (CTT count, store quantities) is reported as 8
        lines.append(segment(segment_tag, segment_id, str(position), "", code))
        if implementation:
            triggers = dict.fromkeys(p.trigger for p in segment_problems if p.trigger)
            lines.extend(_context(t) for t in list(triggers)[:_MAX_CONTEXTS])
        for p in element_problems[:99]:
            lines.append(
                segment(
                    element_tag,
                    str(p.element_position),
                    _element_ref(set_ack.set_id, segment_id, p.element_position or 0),
                    p.code or "",
                )
            )
            if implementation and p.trigger:
                lines.append(_context(p.trigger))
    lines.append(segment(status_tag, set_ack.status, *set_ack.codes[:5]))
    return lines


def build_functional_ack(
    kind: str,
    *,
    ours: AckAddress,
    theirs: AckAddress,
    interchange_control: int,
    groups: list[tuple[GroupAck, int, int]],
    isa12: str,
    test: bool,
    now: dt.datetime,
) -> str:
    """A complete interchange with one FA group and one 997 or 999 (``kind``, as the partner's profile asks)
    per received functional group; ``groups`` holds (what to acknowledge, our GS06, our ST02) per group.

    The 999 (005010X231A1) says what the 997 says, from the same problems: one body writes both.
    """
    if kind not in ("997", "999"):
        raise ValueError(f"not a functional acknowledgment: {kind!r}")
    implementation = kind == "999"
    parts = [_isa(ours, theirs, interchange_control, now, isa12, test)]
    for group, gs_control, st_control in groups:
        version = safe(group.version, 12) or "004010"
        st02 = f"{st_control:04d}"
        body = [segment("ST", kind, st02, IMPLEMENTATION_999) if implementation else segment("ST", kind, st02)]
        ak1 = [safe(group.functional_id, 2), safe(group.control_number, 9)]
        if version.startswith("005") or implementation:
            ak1.append(version)  # AK103 exists from 5010 on; the 999 always names the version it checked
        body.append(segment("AK1", *ak1))
        for set_ack in group.sets:
            body.extend(_set_response(set_ack, kind))
        body.append(
            segment(
                "AK9",
                group.status,
                str(group.included),
                str(len(group.sets)),
                str(group.accepted_count),
                *group.codes[:5],
            )
        )
        body.append(segment("SE", str(len(body) + 1), st02))
        parts.append(
            segment(
                "GS",
                "FA",
                safe(ours.gs_id, 15),
                safe(theirs.gs_id, 15),
                now.strftime("%Y%m%d"),
                now.strftime("%H%M"),
                str(gs_control),
                "X",
                IMPLEMENTATION_999 if implementation else version,
            )
        )
        parts.extend(body)
        parts.append(segment("GE", "1", str(gs_control)))
    parts.append(segment("IEA", str(len(groups)), f"{interchange_control:09d}"))
    return "".join(parts)


def ack_file_name(kind: str, partner_isa_id: str, control: int) -> str:
    """A file name made only of safe characters, e.g. ``997_ACMERETAIL_000000001.x12``."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", partner_isa_id.strip()) or "UNKNOWN"
    return f"{kind}_{name}_{control:09d}.x12"
