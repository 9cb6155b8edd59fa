"""Reading a partner's 997/999 about a document we sent (our 855): which group it answers, and its verdict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mappings.x12._tokenizer import Segment


class FunctionalAckSummary(NamedTuple):
    """AK101 (the functional id of the group acknowledged), AK102 (its GS06), the status (AK901, else AK501/IK501)."""

    functional_id: str
    group_control: str
    status: str


def read_functional_ack(segments: Sequence[Segment]) -> FunctionalAckSummary | None:
    """The summary of one received 997/999 set (ST..SE), or None when it has no AK1."""
    ak1 = next((s for s in segments if s.id == "AK1"), None)
    if ak1 is None:
        return None
    status = next((s.element(1) for s in segments if s.id == "AK9"), "") or next(
        (s.element(1) for s in segments if s.id in ("AK5", "IK5")), "")
    return FunctionalAckSummary(ak1.element(1).strip(), ak1.element(2).strip(), status.strip()[:1])
