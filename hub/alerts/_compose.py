"""The alerts' words: built from ids, partner ids, kinds, file names and reasons (never names or addresses)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.alerts._alert import Alert, AlertKind, Link
from hub.store import OverdueOutbound, QueuedException

REASON_CHARS = 200  # a reason is one line in an alert; the queue has the whole text


def new_exceptions_alert(
    items: Sequence[QueuedException], files: Mapping[int, str | None], *, more: int, ui_url: str,
    kinds: Mapping[str, int] | None = None, deployment: str = "",
) -> Alert:
    """Exceptions queued since the last alert, oldest first, then ``and N more``; ``kinds`` counts them all."""
    total = len(items) + more
    lines = []
    for item in items:
        file = f" [{files[item.id]}]" if files.get(item.id) else ""
        reason = " ".join(item.reason.split())[:REASON_CHARS]
        lines.append(f"#{item.id} {item.partner_id or '-'} {item.kind}{file}: {reason}")
    if more:
        lines.append(f"and {more} more")
    lines.append("After a fix: hub exceptions replay ID (docs/operations.md)")
    return Alert(
        kind=AlertKind.NEW_EXCEPTIONS, title=f"{total} new exception{_s(total)} in the queue", lines=tuple(lines),
        links=(Link("exception queue", f"{ui_url.rstrip('/')}/assets/exception_queue"),),
        counts={"new": total, **(kinds if kinds is not None else Counter(item.kind for item in items))},
        deployment=deployment,
    )


def overdue_acks_alert(
    overdue: Sequence[OverdueOutbound], *, max_items: int, minutes: int, deployment: str = ""
) -> Alert:
    """Acknowledgements (997, TA1) pending or failed for longer than ``minutes``: the first ``max_items`` listed."""
    total, docs = len(overdue), overdue[:max_items]
    more = total - len(docs)
    lines = [
        f"{doc.kind} {doc.file_name} to {doc.partner_id}: {doc.state} since "
        f"{doc.created_at:%Y-%m-%d %H:%M} UTC (outbound #{doc.id}, control number {doc.control_number})"
        for doc in docs
    ]
    if more:
        lines.append(f"and {more} more")
    lines.append("Pending: is the partner's SFTP reachable? Failed: see the ack_not_sent exception and replay it.")
    return Alert(
        kind=AlertKind.OVERDUE_ACKS, title=f"{total} acknowledgement{_s(total)} overdue (over {minutes} min)",
        lines=tuple(lines), counts={"overdue": total, **Counter(str(doc.state) for doc in overdue)},
        deployment=deployment,
    )


@dataclass(frozen=True)
class FailedStep:
    """A step of a failed run and the class of the error that ended it."""

    step_key: str
    error_class: str | None


def run_failed_alert(
    *, job_name: str, run_id: str, run_url: str, steps: Sequence[FailedStep], run_error_class: str | None = None,
    tags: Mapping[str, str] | None = None, deployment: str = "",
) -> Alert:
    """A Dagster run that failed: job, run id, failing steps and error classes, partner and receipt tags."""
    lines = [f"Job: {job_name}", f"Run: {run_id}"]
    lines += [f"Failed step: {step.step_key} ({step.error_class or 'error'})" for step in steps]
    if not steps:
        lines.append(f"Failed outside a step ({run_error_class or 'no error recorded'})")
    lines += [f"{key}: {value}" for key, value in sorted((tags or {}).items())]
    return Alert(
        kind=AlertKind.RUN_FAILED, title=f"Run of {job_name} failed", lines=tuple(lines),
        links=(Link("run", run_url),), counts={"failed_steps": len(steps)}, deployment=deployment,
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"
