"""``hub edi validate``: a partner's X12 files checked offline and explained for a person.

Every problem is printed with where it is (interchange, group, set, segment position and id,
element) and whether the partner hears of it; then the outcome of each set and the exact
997/999/TA1 we would send. Nothing is written: no store, no ack files, no control numbers used
(the acks show dry-run numbers). ``hub map --source x12`` is the machine-readable form.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from hub.cli._stream import byte_progress, is_big, read_chunks
from mappings.profiles import PartnerDirectory
from mappings.x12 import (
    DocumentResult,
    InterchangeResult,
    LocalControlNumbers,
    OutboundAck,
    Problem,
    X12FileResult,
    process_interchange_file,
)

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
    as_json: bool = False,
    progress: bool = False,
) -> int:
    """Check each file and print the report; 0 when every set is accepted (warnings allowed), else 1.

    A file up to ``STREAM_THRESHOLD`` is reported whole (its outcome first); a bigger one, a pipe,
    and every file with ``as_json`` are reported interchange by interchange as they are read, the
    file's outcome last, in memory that does not grow with the file.
    """
    out = out or sys.stdout
    now = now or dt.datetime.now(dt.UTC)
    seen: set[tuple[str, str, str]] = set()  # a resend across the files given is a duplicate too
    numbers = LocalControlNumbers()
    status = 0
    for path in paths:
        path = Path(path)
        try:
            streamed = as_json or is_big(path)
            if streamed:
                result, sets_accepted = _validate_streaming(path, partners, seen, numbers, now, out=out,
                                                            as_json=as_json, progress=progress)
            else:
                result = _validate_whole(path, partners, seen, numbers, now)
                sets_accepted = all(d.outcome in ACCEPTED_SET_OUTCOMES for d in result.documents)
        except OSError as exc:
            if as_json:
                print(json.dumps({"record": "file", "file": str(path), "outcome": "unreadable",
                                  "reason": exc.strerror, "accepted": False}), file=out)
            else:
                print(f"{path}: cannot read: {exc.strerror}", file=out)
            status = 1
            continue
        seen.update((ic.sender_qualifier, ic.sender_id, ic.control_number.strip()) for ic in result.interchanges)
        accepted = result.outcome in ACCEPTED_FILE_OUTCOMES and sets_accepted
        if as_json:
            print(json.dumps({"record": "file", "file": str(path), "outcome": result.outcome, "reason": result.reason,
                              "accepted": accepted}), file=out)
        elif streamed:
            print(_file_line(str(path), result), file=out)
            if result.outcome == ReceiptOutcome.NOT_X12:
                print("  we would send nothing: it is not an X12 interchange", file=out)
        else:
            print(describe(str(path), result), file=out)
        out.flush()
        if not accepted:
            status = 1
    return status


def _validate_whole(path: Path, partners: PartnerDirectory, seen, numbers, now) -> X12FileResult:
    return process_interchange_file(
        path.read_bytes(),
        partners=partners,
        is_duplicate_interchange=lambda q, i, c: (q, i, c.strip()) in seen,
        next_control_number=numbers,
        now=now,
    )


def _validate_streaming(
    path: Path, partners: PartnerDirectory, seen, numbers, now, *, out: TextIO, as_json: bool, progress: bool
) -> tuple[X12FileResult, bool]:
    """Report a file interchange by interchange as it is read (:func:`report_stream` over its bytes)."""
    size = path.stat().st_size if path.is_file() else None
    with path.open("rb", buffering=0) as handle, \
            byte_progress(progress, size, f"validating {path.name}") as advance:
        if not as_json:
            print(f"{path}: reading", file=out)
        return report_stream(str(path), read_chunks(handle, advance), partners, out=out, now=now, as_json=as_json,
                             seen=seen, numbers=numbers)


def report_stream(
    name: str,
    data: bytes | BinaryIO | Iterable[bytes],
    partners: PartnerDirectory,
    *,
    out: TextIO,
    now: dt.datetime,
    as_json: bool = False,
    seen: Container[tuple[str, str, str]] = (),
    numbers: Callable[[str, str], int] | None = None,
    acks_for: str | None = None,
    on_acks: Callable[[list[OutboundAck]], None] | None = None,
    show_acks: bool = True,
) -> tuple[X12FileResult, bool]:
    """Report each interchange of ``data`` once read: accepted sets wait in a spool, as they do in the mapping itself.

    ``data`` is bytes, a binary file or byte chunks; ``name`` is what the report calls it. Returns the
    file's result, its interchanges emptied once printed (only who sent them and their outcomes are
    kept, so memory does not grow with their count), and whether every set was accepted.
    ``acks_for`` numbers the acks as for that partner's inbox; ``on_acks`` gets each interchange's acks;
    ``show_acks=False`` leaves them out of the text report (a caller showing them on their own).
    """
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115
    sets_accepted = True

    def set_done(doc: DocumentResult) -> None:
        spool.write((json.dumps(_set_json(doc)) if as_json else _set_lines(doc, ())) + "\n")

    def interchange_done(ic: InterchangeResult) -> None:
        for doc in ic.documents:  # the rejected and unsupported ones
            set_done(doc)
        spool.seek(0)
        if as_json:  # one line per interchange, its sets copied from the spool (never all in memory)
            head = json.dumps({"record": "interchange", "file": name, **_interchange_json(ic)})
            out.write(head[:-1] + ', "sets": [')
            for index, line in enumerate(spool):
                out.write((", " if index else "") + line.rstrip("\n"))
            out.write("]}\n")
        else:
            out.write(_interchange_line(ic) + "\n")
            out.writelines(f"    {p}\n" for p in map(_problem, ic.errors))
            out.writelines(spool)
            if show_acks:
                out.writelines(line + "\n" for line in _ack_lines(ic.acks))
        out.flush()
        if on_acks is not None and ic.acks:
            on_acks(ic.acks)
        spool.seek(0)
        spool.truncate()
        nonlocal sets_accepted
        sets_accepted = sets_accepted and all(d.outcome in ACCEPTED_SET_OUTCOMES for d in ic.documents)
        ic.documents, ic.acks, ic.errors = [], [], []

    with spool:
        result = process_interchange_file(
            data,
            partners=partners,
            is_duplicate_interchange=lambda q, i, c: (q, i, c.strip()) in seen,
            next_control_number=numbers or LocalControlNumbers(),
            now=now,
            on_document=set_done,
            on_interchange=interchange_done,
            acks_for=acks_for,
        )
    return result, sets_accepted


def file_is_accepted(result: X12FileResult) -> bool:
    """Every interchange and every transaction set accepted (with or without warnings)."""
    return result.outcome in ACCEPTED_FILE_OUTCOMES and all(
        d.outcome in ACCEPTED_SET_OUTCOMES for d in result.documents
    )


def describe(name: str, result: X12FileResult) -> str:
    """The report for one file, in plain words."""
    lines = [_file_line(name, result)]
    for ic in result.interchanges:
        lines.append(_interchange_line(ic))
        lines.extend(f"    {_problem(p)}" for p in ic.errors)
        for doc in ic.documents:
            lines.append(_set_lines(doc, ic.errors))
    if result.acks:
        lines.extend(_ack_lines(result.acks))
    elif result.outcome == ReceiptOutcome.NOT_X12:
        lines.append("  we would send nothing: it is not an X12 interchange")
    return "\n".join(lines)


def _file_line(name: str, result: X12FileResult) -> str:
    return f"{name}: {_words(result.outcome)}" + (f" ({result.reason})" if result.reason else "")


def _interchange_line(ic: InterchangeResult) -> str:
    who = f"{ic.partner_id}" if ic.partner_id else "no partner profile"
    mode = "test" if ic.is_test else "production"
    return (f"  interchange {ic.control_number} from {ic.sender_qualifier}/{ic.sender_id} ({who}), {mode}, "
            f"version {ic.version}: {_words(ic.outcome)}")


def _set_lines(doc: DocumentResult, shown: Iterable[Problem]) -> str:
    """A set's line and its own problems (those not already shown at the interchange)."""
    shown = list(shown)
    lines = [f"    set {doc.ref} ({doc.transaction_set}): {_words(doc.outcome)}{_order_summary(doc.order)}"]
    lines.extend(f"      {_problem(p)}" for p in doc.errors if p not in shown)
    return "\n".join(lines)


def _ack_lines(acks: list[OutboundAck]) -> Iterator[str]:
    """The acks we would send, a segment per line (read lazily: a 997 for 100,000 sets has 200,000)."""
    if not acks:
        return
    yield "  we would send:"
    for ack in acks:
        yield f"    {ack.kind} as {ack.file_name}"
        for segment in io.StringIO(ack.text):
            yield f"      {segment.rstrip(chr(10))}"


def _interchange_json(ic: InterchangeResult) -> dict[str, Any]:
    """An interchange in the ``--json`` report (its sets are added by the caller)."""
    return {
        "control_number": ic.control_number,
        "sender": f"{ic.sender_qualifier}/{ic.sender_id}",
        "partner_id": ic.partner_id,
        "test": ic.is_test,
        "version": ic.version,
        "outcome": ic.outcome,
        "reason": ic.reason,
        "problems": [p.to_json() for p in ic.errors],
        "acks": [{"kind": a.kind, "file_name": a.file_name, "text": a.text} for a in ic.acks],
    }


def _set_json(doc: DocumentResult) -> dict[str, Any]:
    """A transaction set in the ``--json`` report: its outcome, problems, and a summary of its order."""
    order = doc.order
    summary = None if order is None else {
        "purpose": order.purpose.value, "source_ref": order.source_ref, "lines": len(order.lines),
        "total": str(order.total), "currency": order.currency,
    }
    return {"ref": doc.ref, "transaction_set": doc.transaction_set, "outcome": doc.outcome,
            "problems": [p.to_json() for p in doc.errors], "order": summary}


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
    found = f", found {_shown(p.value)}" if p.value is not None else ""
    return f"{p.severity.upper():7} {where}: {p.message}{found}{code}{told}"


def _shown(value: str, limit: int = 40) -> str:
    """The offending value quoted, control characters escaped, cut to ``limit`` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
