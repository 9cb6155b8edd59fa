"""Syntax validation of a transaction set against our pyx12 maps (``mappings/x12/maps/``).

The work is done by the validator compiled from the map XML (``_compiled``); this module is the
stable front: pick the map for a group's version, validate a set's segments, and answer which data
element sits at a position (AK402). Codes are the 997's: AK304 for segments, AK403 for elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mappings.x12._compiled import (  # noqa: F401 - the codes are part of this module's vocabulary
    CONDITIONAL_ELEMENT_MISSING,
    INVALID_CHARACTER,
    INVALID_CODE,
    INVALID_DATE,
    INVALID_TIME,
    LOOP_OVER_MAXIMUM,
    MANDATORY_ELEMENT_MISSING,
    MANDATORY_SEGMENT_MISSING,
    SEGMENT_HAS_ELEMENT_ERRORS,
    SEGMENT_OVER_MAXIMUM,
    TOO_LONG,
    TOO_MANY_ELEMENTS,
    TOO_SHORT,
    UNEXPECTED_SEGMENT,
    UNRECOGNIZED_SEGMENT,
    compiled,
    validate_segments,
)
from mappings.x12._maps import MAPS_DIR, TransactionMap, map_for
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment


@dataclass(frozen=True)
class _ElementRef:
    ref: str


@dataclass(frozen=True)
class _SegmentRefs:
    elements: dict[int, _ElementRef]


class TransactionSetRules:
    """What the ack builder asks of a map: the data element number at a segment position (AK402)."""

    def __init__(self, tmap: TransactionMap) -> None:
        self.set_id = tmap.set_id
        self.map = tmap
        self.segments = {
            sid: _SegmentRefs({el.seq: _ElementRef(el.ref) for el in node.elements})
            for sid, node in tmap.first_by_id.items()
        }


def rules_for(set_id: str, version: str) -> TransactionSetRules | None:
    """The rules of ``set_id`` in GS08 ``version``, or None when we have no map for it."""
    tmap = map_for(set_id, version)
    return TransactionSetRules(tmap) if tmap is not None else None


def _shipped_rules(set_id: str, version: str) -> TransactionSetRules:
    """The rules of a map that ships with this package: without it the install is broken, so say so."""
    rules = rules_for(set_id, version)
    if rules is None:
        raise RuntimeError(f"no {set_id} map for version {version} under {MAPS_DIR}: the package is incomplete")
    return rules


RULES_850 = _shipped_rules("850", "004010")


def check_transaction_set(
    segments: Sequence[Segment], version: str, loc: Locator, *, set_id: str = "850"
) -> list[Problem]:
    """All syntax problems of one transaction set (ST..SE) against our map for ``version``."""
    tmap = map_for(set_id, version)
    if tmap is None:
        return [loc.problem(f"no map for transaction set {set_id} in version {version or '(none)'}",
                            severity="warning", acknowledged=False)]
    return validate_segments(compiled(tmap), segments, loc)
