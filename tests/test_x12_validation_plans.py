"""The validator remembers how a segment-id sequence walks the map; the problems it reports stay the same."""

from __future__ import annotations

from pathlib import Path

from mappings.x12._compiled import compiled, validate_segments
from mappings.x12._maps import map_for
from mappings.x12._results import Locator
from mappings.x12._tokenizer import iter_segments

SAMPLE = (Path(__file__).resolve().parent.parent / "sandbox" / "samples" / "acme_po_4500012345.x12").read_bytes()


def first_set(data: bytes) -> list:
    """The segments of the first ST..SE in ``data``."""
    segments = list(iter_segments(data))
    start = next(i for i, s in enumerate(segments) if s.id == "ST")
    end = next(i for i, s in enumerate(segments) if s.id == "SE")
    return segments[start : end + 1]


def problems(cmap, segments) -> list[tuple]:
    return [(p.segment_id, p.segment_position, p.element_position, p.code)
            for p in validate_segments(cmap, segments, Locator("ST 0001"))]


def test_a_remembered_layout_still_checks_every_element():
    cmap = compiled(map_for("850", "004010"))
    cmap.plans.clear()
    clean = first_set(SAMPLE)
    assert problems(cmap, clean) == []
    key = tuple(s.id for s in clean)
    assert key in cmap.plans, "a clean set's walk is remembered"
    # The same layout with a bad element value: found through the remembered walk, as without it.
    bad = first_set(SAMPLE.replace(b"CUR*BY*USD~", b"CUR*QQ*USD~"))
    assert tuple(s.id for s in bad) == key
    found = problems(cmap, bad)
    cmap.plans.clear()
    assert found == problems(cmap, bad) == [("CUR", 3, 1, "7")]


def test_a_layout_with_a_structural_problem_is_not_remembered():
    cmap = compiled(map_for("850", "004010"))
    cmap.plans.clear()
    segments = first_set(SAMPLE)
    beg = next(i for i, s in enumerate(segments) if s.id == "BEG")
    broken = segments[:beg] + segments[beg + 1 :]  # the mandatory BEG is missing
    first = problems(cmap, broken)
    assert any(code == "3" for *_, code in first), first
    assert not cmap.plans
    assert problems(cmap, broken) == first
