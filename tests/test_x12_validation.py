"""The validator compiled from the maps: fast path and exact checks agree; map facts; walk results."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mappings.x12._compiled import compiled, element_problems, valid_date, valid_time, validate_segments
from mappings.x12._maps import map_for
from mappings.x12._results import Locator
from mappings.x12._tokenizer import Delimiters, Segment, iter_segments
from mappings.x12.samples import build_850
from tests.fixtures.partners import PARTNERS
from tests.present import present

MAP_4010 = map_for("850", "004010")
MAP_5010 = map_for("850", "005010")
CMAP = compiled(MAP_4010)
DELIMITERS = Delimiters("*", ">", "~")
PATTERNS = CMAP.patterns("*", ">")


def test_maps_are_found_by_version_including_retail_flavours():
    assert MAP_4010 is not None and MAP_5010 is not None
    assert map_for("850", "004010VICS") is MAP_4010 and map_for("850", "005010UCS") is MAP_5010
    assert map_for("860", "004010") is None


def test_map_facts_come_from_the_xml():
    po1 = MAP_4010.first_by_id["PO1"]
    assert po1.parent.id == "PO1_LOOP" and po1.parent.repeat == 100000
    assert [(e.ref, e.type, e.min_len, e.max_len) for e in po1.elements[:5]] == [
        ("350", "AN", 1, 20), ("330", "R", 1, 15), ("355", "ID", 2, 2), ("212", "R", 1, 17), ("639", "ID", 2, 2)]
    assert "CS" in present(po1.elements[2].codes) and ("C", (3, 2)) in po1.syntax
    assert MAP_4010.element_ref("BEG", 5) == "373"
    assert MAP_4010.first_by_id["REF"].elements[1].max_len == 30
    assert MAP_5010.first_by_id["REF"].elements[1].max_len == 50  # REF02 grew in 005010


@pytest.mark.parametrize(
    ("value", "ok"),
    [("20240229", True), ("20230229", False), ("20000229", True), ("19000229", False), ("20241301", False),
     ("240105", True), ("17991231", False), ("2024-01-05", False)],
)
def test_dates(value, ok):
    assert valid_date(value) is ok


@pytest.mark.parametrize(("value", "ok"), [("2359", True), ("2400", False), ("1260", False), ("120059", True),
                                            ("12005", False), ("12005999", True), ("120059999", False)])
def test_times(value, ok):
    assert valid_time(value) is ok


def _segment(text: str, position: int = 5) -> Segment:
    return Segment(text.split("*"), 0, position, DELIMITERS, text)


def _fast_accepts(text: str) -> bool:
    node = MAP_4010.first_by_id[text.split("*")[0]]
    if PATTERNS[node.idx].fullmatch(text) is None:
        return False
    check = CMAP.syntax[node.idx]
    elements = text.split("*")
    return check is None or check(elements + [""] * (CMAP.width[node.idx] - len(elements)))


_VALUE = st.one_of(
    st.sampled_from(["", "1", "12", "EA", "CS", "VN", "PE", "-3", "1.5", ".5", "5.", "20240105", "20240231",
                     "2500", "1200", "A>B", "X" * 31, "abc", "é", "a ", " a", "00", "SA", "ZZZ"]),
    st.text(alphabet="0123456789.-ABCZaz >:é\t", max_size=12),
)


def test_fast_path_never_accepts_what_the_exact_checks_reject():
    fast_accepted: list[str] = []

    # Clean segments the fast path must accept are always among the examples: were it to accept
    # nothing, the property below would hold without checking anything, and the count fails the test.
    @example("CTT", ["3", "114"])
    @example("REF", ["DP", "042"])
    @example("DTM", ["002", "20240115", "1200"])
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(["BEG", "PO1", "N1", "DTM", "REF", "CTT", "SAC", "MEA", "PID", "N4", "CUR"]),
           st.lists(_VALUE, max_size=14))
    def fast_accept_implies_exact_accept(segment_id, values):
        text = "*".join([segment_id, *values])
        node = MAP_4010.first_by_id[segment_id]
        exact = element_problems(node, text.split("*"), ">", CMAP.extended)
        if _fast_accepts(text):
            fast_accepted.append(text)
            assert exact == [], (text, exact)

    fast_accept_implies_exact_accept()
    assert len(fast_accepted) >= 3, f"the fast path accepted {len(fast_accepted)} examples: the property went unchecked"


@pytest.mark.parametrize(
    "text",
    ["BEG*00*SA*4500012345**20240105", "PO1*1*12*CS*24.50*PE*VN*AC-1001*UP*012345678905",
     "DTM*002*20240115*1200", "N1*ST*Store 42*92*0042", "MEA*PD*WT*5*LB", "REF*DP*042", "CTT*3*114"],
)
def test_fast_path_accepts_clean_segments(text):
    assert _fast_accepts(text)
    assert element_problems(MAP_4010.first_by_id[text[:3].rstrip("*")], text.split("*"), ">", CMAP.extended) == []


def _problems(data: bytes):
    segments = [s for s in iter_segments(data) if s.position]
    return validate_segments(CMAP, segments, Locator("ISA 1", "GS 1", "ST 0001"))


def test_a_valid_generated_order_has_no_problems():
    assert _problems(build_850(PARTNERS.get("acme"), lines=30)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"REF*DP*042~", b"REF*DP*042~\nBEG*00*SA*X**20240105~", ("BEG", 4, None, "4")),  # header loop repeat
        (b"CTT*2~", b"CTT*2~\nCTT*2~", ("CTT", 13, None, "4")),  # CTT loop repeat 1
        # max use 10: the 11th (ST BEG REF, then 4..14)
        (b"DTM*002*20240115~", b"DTM*002*20240115~\n" * 11, ("DTM", 14, None, "5")),
        (b"CTT*2~", b"CTT*2~\nPID*F****x~", ("PID", 13, None, "2")),  # known id, wrong place
        (b"CTT*2~", b"CTT*2~\nXYZ*1~", ("XYZ", 13, None, "1")),  # unknown id
    ],
)
def test_structure_errors(old, new, expected):
    data = build_850(PARTNERS.get("acme"), lines=2).replace(old, new, 1)
    found = {(p.segment_id, p.segment_position, p.element_position, p.code) for p in _problems(data)}
    assert expected in found, found
