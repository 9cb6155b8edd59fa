"""``hub edi validate``: a partner's X12 files checked offline and explained for a person.

Every problem is printed with where it is (interchange, group, set, segment position and id,
element) and whether the partner hears of it; then the outcome of each set and the exact
997/999/TA1 we would send. Nothing is written: no store, no ack files, no control numbers used
(the acks show dry-run numbers). ``hub map --source x12`` is the machine-readable form.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from mappings.profiles import PartnerDirectory
from mappings.x12 import LocalControlNumbers, Problem, X12FileResult, process_interchange_file

ACCEPTED_FILE_OUTCOMES = frozenset({ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS})
ACCEPTED_SET_OUTCOMES = frozenset({DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS})

SEGMENT_CODES = {
    "1": "unrecognized segment",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}
ELEMENT_CODES = {
    "1": "mandatory element missing",
    "2": "conditional element missing",
    "3": "too many elements",
    "4": "too short",
    "5": "too long",
    "6": "invalid character or value",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
}
GROUP_CODES = {
    "1": "functional group not supported",
    "2": "version not supported or not agreed",
    "3": "group trailer GE missing",
    "4": "GE02 differs from GS06",
    "5": "GE01 set count wrong",
    "6": "group control number invalid",
}
SET_CODES = {
    "1": "transaction set not supported",
    "2": "transaction set trailer SE missing",
    "3": "SE02 differs from ST02",
    "4": "SE01 segment count wrong",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid control number",
    "23": "control number not unique in the group",
}
ENVELOPE_CODES = {
    "001": "ISA13 and IEA02 differ",
    "006": "unknown sender",
    "009": "not addressed to us",
    "018": "invalid ISA13",
    "020": "invalid test indicator or test interchange refused",
    "021": "IEA01 group count wrong",
    "022": "ISA not in its fixed layout",
    "023": "no IEA (premature end)",
    "024": "segments outside any group",
    "025": "duplicate interchange",
}


def validate_files(
    paths: Iterable[Path],
    partners: PartnerDirectory,
    *,
    out: TextIO | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Check each file and print the report; 0 when every set is accepted (warnings allowed), else 1."""
    out = out or sys.stdout
    now = now or dt.datetime.now(dt.UTC)
    seen: set[tuple[str, str, str]] = set()  # a resend across the files given is a duplicate too
    numbers = LocalControlNumbers()
    status = 0
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=out)
            status = 1
            continue
        result = process_interchange_file(
            data,
            partners=partners,
            is_duplicate_interchange=lambda q, i, c: (q, i, c.strip()) in seen,
            next_control_number=numbers,
            now=now,
        )
        seen.update((ic.sender_qualifier, ic.sender_id, ic.control_number.strip()) for ic in result.interchanges)
        print(describe(str(path), result), file=out)
        if not file_is_accepted(result):
            status = 1
    return status


def file_is_accepted(result: X12FileResult) -> bool:
    """Every interchange and every transaction set accepted (with or without warnings)."""
    return result.outcome in ACCEPTED_FILE_OUTCOMES and all(
        d.outcome in ACCEPTED_SET_OUTCOMES for d in result.documents
    )


def describe(name: str, result: X12FileResult) -> str:
    """The report for one file, in plain words."""
    lines = [f"{name}: {_words(result.outcome)}" + (f" ({result.reason})" if result.reason else "")]
    for ic in result.interchanges:
        who = f"{ic.partner_id}" if ic.partner_id else "no partner profile"
        mode = "test" if ic.is_test else "production"
        lines.append(
            f"  interchange {ic.control_number} from {ic.sender_qualifier}/{ic.sender_id} ({who}), {mode}, "
            f"version {ic.version}: {_words(ic.outcome)}"
        )
        lines.extend(f"    {_problem(p)}" for p in ic.errors)
        for doc in ic.documents:
            lines.append(f"    set {doc.ref} ({doc.transaction_set}): {_words(doc.outcome)}{_order_summary(doc.order)}")
            lines.extend(f"      {_problem(p)}" for p in doc.errors if p not in ic.errors)
    if result.acks:
        lines.append("  we would send:")
        for ack in result.acks:
            lines.append(f"    {ack.kind} as {ack.file_name}")
            lines.extend(f"      {segment}" for segment in ack.text.splitlines())
    elif result.outcome == ReceiptOutcome.NOT_X12:
        lines.append("  we would send nothing: it is not an X12 interchange")
    return "\n".join(lines)


def _words(outcome: str) -> str:
    return outcome.replace("_", " ")


def _order_summary(order) -> str:
    if order is None:
        return ""
    return (
        f": {order.purpose.value} PO {order.source_ref}, {len(order.lines)} line(s), "
        f"total {order.total} {order.currency}"
    )


def _problem(p: Problem) -> str:
    """One problem: severity, where, what, its code in words, and whether the partner is told."""
    where = p.location
    if p.segment_id and p.element_position is not None:
        where += f" ({p.segment_id}{p.element_position:02d})"
    code = ""
    if p.code:
        if p.segment_id in ("GS", "GE"):
            meaning = GROUP_CODES.get(p.code, "")
        elif p.segment_id in ("ST", "SE") and p.element_position is None:
            meaning = SET_CODES.get(p.code, "")
        elif p.segment_id is None:
            meaning = ENVELOPE_CODES.get(p.code) or SEGMENT_CODES.get(p.code, "")
        elif p.element_position is not None:
            meaning = ELEMENT_CODES.get(p.code, "")
        else:
            meaning = SEGMENT_CODES.get(p.code, "")
        code = f" [code {p.code}{': ' + meaning if meaning else ''}]"
    told = "" if p.acknowledged else " (internal note, not sent to the partner)"
    return f"{p.severity.upper():7} {where}: {p.message}{code}{told}"
