"""Acknowledgments we send: the TA1 (interchange) and the 997 (functional groups, transaction sets).

Both are written with our fixed delimiters ('*', '>', '~' plus a line break) inside our own ISA
envelope, addressed from our ids to the partner's. Control numbers are given by the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from mappings.x12._results import Problem
from mappings.x12._tokenizer import is_digits
from mappings.x12._validation import RULES_850, TransactionSetRules

ELEMENT = "*"
COMPONENT = ">"
REPETITION = "^"
TERMINATOR = "~\n"
_UNSAFE = re.compile(r"[*>~^\r\n\x00-\x1f]")
_RULES_BY_SET: dict[str, TransactionSetRules] = {RULES_850.set_id: RULES_850}


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


@dataclass
class GroupAck:
    """What the 997 says about one functional group: AK1, the sets, AK9."""

    functional_id: str
    control_number: str
    version: str
    included: int
    sets: list[SetAck] = field(default_factory=list)
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
    """A received value made safe to echo inside our envelope (no delimiters, no control bytes)."""
    cleaned = _UNSAFE.sub(" ", value).strip()
    return cleaned[:limit] if limit else cleaned


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


def _set_response(set_ack: SetAck) -> list[str]:
    lines = [segment("AK2", safe(set_ack.set_id, 3), safe(set_ack.control_number, 9))]
    by_segment: dict[tuple[int, str], list[Problem]] = {}
    for problem in set_ack.problems:
        if problem.acknowledged and problem.segment_position is not None:
            key = (problem.segment_position, safe(problem.segment_id or "", 3))
            by_segment.setdefault(key, []).append(problem)
    for (position, segment_id), problems in sorted(by_segment.items()):
        segment_codes = [p.code for p in problems if p.element_position is None and p.code]
        element_problems = [p for p in problems if p.element_position is not None and p.code]
        ak304 = segment_codes[0] if segment_codes else ("8" if element_problems else "")
        lines.append(segment("AK3", segment_id, str(position), "", ak304))
        for p in element_problems[:99]:
            lines.append(
                segment(
                    "AK4",
                    str(p.element_position),
                    _element_ref(set_ack.set_id, segment_id, p.element_position or 0),
                    p.code or "",
                )
            )
    lines.append(segment("AK5", set_ack.status, *set_ack.codes[:5]))
    return lines


def build_997(
    *,
    ours: AckAddress,
    theirs: AckAddress,
    interchange_control: int,
    groups: list[tuple[GroupAck, int, int]],
    isa12: str,
    test: bool,
    now: dt.datetime,
) -> str:
    """A complete interchange with one FA group and one 997 per received functional group.

    ``groups`` holds (what to acknowledge, our GS06, our ST02) per received group.
    """
    parts = [_isa(ours, theirs, interchange_control, now, isa12, test)]
    for group, gs_control, st_control in groups:
        version = safe(group.version, 12) or "004010"
        st02 = f"{st_control:04d}"
        body = [segment("ST", "997", st02)]
        ak1 = [safe(group.functional_id, 2), safe(group.control_number, 9)]
        if version.startswith("005"):
            ak1.append(version)  # AK103 exists from 5010 on
        body.append(segment("AK1", *ak1))
        for set_ack in group.sets:
            body.extend(_set_response(set_ack))
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
                version,
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
