"""Differential tests: our compiled validator against pyx12's x12n_document, with the same maps.

For every file of a small corpus (valid files and mutations of them) both must take the same
accept/reject decision per transaction set and locate the first error at the same segment
position (and element position). Where they differ on purpose, ``ALLOWED`` says why: the X12
standard decides.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

# pyx12 is a dependency (pyproject.toml): a missing one fails here, loudly, never skips the comparison.
import pyx12.map_if as pyx12_map_if
import pyx12.params
import pyx12.x12n_document

from mappings.x12._envelope import EnvelopeWalker
from mappings.x12._maps import MAPS_DIR
from mappings.x12._validation import check_transaction_set
from mappings.x12.samples import SampleLine, build_850
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA

# Deliberate differences: mutation name -> why the standard sides with us.
ALLOWED = {
    "bad_beg01_code": "pyx12 matches BEG by the code in BEG01, so an unknown purpose makes BEG 'not found' and "
    "every header segment after it too; X12 identifies a segment by its id: BEG01 is an invalid code "
    "(AK403 7) at element 1",
    "bad_n101_code": "same as BEG01: an unknown N101 entity code is an invalid code value, not an unknown segment",
    "n1_pair_missing": "pyx12 points at the first element of the syntax note (N103); the element the partner "
    "must supply is N104, which is what AK401 should name",
    "po102_conditional": "pyx12 points at PO103 (the note's first element); the missing element is PO102",
    "ctt_too_many_elements": "pyx12 files 'too many elements' as a segment error; the 997 has an element code for "
    "it (AK403 3) located at the first surplus element (AK401 8)",
}

_MAP_CACHE: dict = {}
_load_map_file = pyx12_map_if.load_map_file


def _cached_load_map_file(map_file, param, map_path=None):
    key = (map_file, map_path)
    if key not in _MAP_CACHE:
        _MAP_CACHE[key] = _load_map_file(map_file, param, map_path)
    return _MAP_CACHE[key]


@pytest.fixture(autouse=True, scope="module")
def _pyx12_maps_loaded_once():
    # pyx12 re-reads its XML maps on every call (~0.1 s each); its map objects are read-only.
    pyx12_map_if.load_map_file = _cached_load_map_file
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    yield
    pyx12_map_if.load_map_file = _load_map_file


def pyx12_verdicts(data: bytes, tmp_path: Path) -> dict[str, tuple[str, tuple[int, int | None] | None]]:
    """ST02 -> (A|R, first error (segment position, element position)) according to pyx12."""
    version = "005010" if b"*00501*" in data[:120] else "004010"
    source = tmp_path / "in.x12"
    source.write_bytes(data)
    out = io.StringIO()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), str(source), None, None, fd_json=out,
                                      map_path=str(MAPS_DIR / version))
    verdicts: dict[str, tuple[str, tuple[int, int | None] | None]] = {}
    for ic in json.loads(out.getvalue())["interchanges"]:
        for group in ic["groups"]:
            for tset in group["transactions"]:
                located: list[tuple[int, int | None]] = []
                for seg in tset["segments"]:
                    if seg["errors"]:
                        located.append((seg["seg_count"], None))
                    located.extend((seg["seg_count"], e["ele_pos"]) for e in seg["elements"] if e["errors"])
                if tset["errors"]:
                    located.append((10_000, None))  # set-level (SE) errors: after every segment
                first = min(located, key=lambda x: (x[0], x[1] or 0)) if located else None
                verdicts[tset["trn_set_control_num"]] = ("R" if located else "A", first)
    return verdicts


def our_verdicts(data: bytes) -> dict[str, tuple[str, tuple[int, int | None] | None]]:
    """ST02 -> (A|R, first error) according to our envelope checks and compiled validator."""
    verdicts = {}
    for ic in EnvelopeWalker(data):
        for group in ic.groups:
            for tset in group.sets:
                problems = [*tset.problems, *check_transaction_set(tset.segments, group.version, tset.locator)]
                errors = [p for p in problems if p.severity == "error"]
                # Envelope faults of the set (SE count or control number) are set-level, as in pyx12.
                located = [(p.segment_position, p.element_position) for p in errors
                           if p.segment_position is not None and p not in tset.problems]
                located += [(10_000, None) for p in errors if p.segment_position is None or p in tset.problems]
                first = min(located, key=lambda x: (x[0], x[1] or 0)) if located else None
                verdicts[tset.control_number] = ("R" if errors else "A", first)
    return verdicts


def _replace(data: bytes, old: bytes, new: bytes, *, se_delta: int = 0, count: int = 1) -> bytes:
    assert old in data, old
    out = data.replace(old, new, count)
    if se_delta:
        head, _, rest = out.rpartition(b"SE*")
        number, _, tail = rest.partition(b"*")
        out = head + b"SE*" + str(int(number) + se_delta).encode() + b"*" + tail
    return out


ACME = (DATA / "acme_850_4010.x12").read_bytes()
NORTHWIND = (DATA / "northwind_850_5010.x12").read_bytes()
GENERATED = build_850(PARTNERS.get("acme"), purchase_orders=3, lines=[SampleLine("A-1", "2", "3.50", description="x")])

CORPUS: dict[str, bytes] = {
    "acme_valid": ACME,
    "northwind_5010_valid": NORTHWIND,
    "generated_valid": GENERATED,
    "bluebird_valid": (DATA / "bluebird_850_4010.x12").read_bytes(),
    "drop_beg": _replace(ACME, b"BEG*00*SA*4500012345**20240105~\n", b"", se_delta=-1),
    "drop_all_po1": _replace(GENERATED, b"PO1*1*2*EA*3.50*PE*VN*A-1~\nPID*F****x~\n", b"", se_delta=-2, count=3),
    "dtm_after_n1_loop": _replace(ACME, b"PO1*1*", b"DTM*002*20240115~\nPO1*1*", se_delta=1),
    "po1_after_ctt": _replace(ACME, b"SE*31", b"PO1*4*1*EA*1.00*PE*VN*X~\nSE*32"),
    "second_beg": _replace(ACME, b"CUR*BY*USD~", b"BEG*00*SA*4500012345**20240105~\nCUR*BY*USD~", se_delta=1),
    "unknown_segment": _replace(ACME, b"CUR*BY*USD~", b"CUR*BY*USD~\nZZZ*1~", se_delta=1),
    "cur_twice": _replace(ACME, b"CUR*BY*USD~", b"CUR*BY*USD~\nCUR*BY*USD~", se_delta=1),
    "per_four_times": _replace(ACME, b"PER*BD*Buyer Desk*TE*5550100~", b"PER*BD*Buyer Desk*TE*5550100~\n" * 4,
                               se_delta=3),
    "sac_loop_26_times": _replace(ACME, b"SAC*C*D240***2500**********Freight~",
                                  b"SAC*C*D240***2500**********Freight~\n" * 26, se_delta=25),
    "qty_not_numeric": _replace(ACME, b"PO1*1*12*", b"PO1*1*ABC*"),
    "ctt_decimal": _replace(ACME, b"CTT*3*114", b"CTT*3.5*114"),
    "po_number_too_long": _replace(ACME, b"*4500012345*", b"*" + b"9" * 23 + b"*"),
    "n102_too_long": _replace(ACME, b"N1*BY*ACME Retail Stores*", b"N1*BY*" + b"N" * 61 + b"*"),
    "beg02_too_short": _replace(ACME, b"BEG*00*SA*", b"BEG*00*S*"),
    "bad_date": _replace(ACME, b"**20240105~", b"**20240231~"),
    "bad_dtm_date": _replace(ACME, b"DTM*002*20240115", b"DTM*002*2024-01-15"),
    "bad_time": _replace(ACME, b"DTM*002*20240115", b"DTM*002*20240115*2500"),
    "bad_beg01_code": _replace(ACME, b"BEG*00*", b"BEG*09*"),
    "bad_n101_code": _replace(ACME, b"N1*BY*", b"N1*XX*"),
    "bad_uom": _replace(ACME, b"PO1*1*12*CS*", b"PO1*1*12*QQ*"),
    "bad_se_count": _replace(ACME, b"SE*31*", b"SE*30*"),
    "ref01_missing": _replace(ACME, b"REF*DP*042", b"REF**042"),
    "n1_pair_missing": _replace(ACME, b"N1*BY*ACME Retail Stores*92*0001", b"N1*BY*ACME Retail Stores*92"),
    "po102_conditional": _replace(ACME, b"PO1*1*12*", b"PO1*1**"),
    "ctt_too_many_elements": _replace(ACME, b"CTT*3*114", b"CTT*3*114*1*EA*1*EA*X*1"),
    "control_character": _replace(ACME, b"Buyer Desk", b"Buyer\tDesk"),
    "trailing_space": _replace(ACME, b"N1*BY*ACME Retail Stores*", b"N1*BY*ACME Retail Stores *"),
    "bad_composite_unit": _replace(ACME, b"PID*F****Small bolt M4~", b"PID*F****Small bolt M4~\nMEA*PD*WT*5*Q~",
                                   se_delta=1),
    "good_composite_unit": _replace(ACME, b"PID*F****Small bolt M4~", b"PID*F****Small bolt M4~\nMEA*PD*WT*5*LB~",
                                    se_delta=1),
    "5010_ref_long": _replace(NORTHWIND, b"REF*VR*V-44", b"REF*VR*" + b"V" * 45),
    "5010_bad_qty": _replace(NORTHWIND, b"PO1*10*3*", b"PO1*10*3x*"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_same_decision_and_location_as_pyx12(name, tmp_path):
    data = CORPUS[name]
    theirs = pyx12_verdicts(data, tmp_path)
    ours = our_verdicts(data)
    assert set(ours) == set(theirs)
    for control, (decision, first) in ours.items():
        their_decision, their_first = theirs[control]
        assert decision == their_decision, (name, control, ours, theirs)
        if name in ALLOWED:
            assert first is not None and their_first is not None and first[0] == their_first[0], ALLOWED[name]
            continue
        assert first == their_first, (name, control, ours[control], theirs[control])


def test_corpus_covers_both_outcomes_and_versions():
    ours = {name: our_verdicts(data) for name, data in CORPUS.items()}
    decisions = {d for verdicts in ours.values() for d, _ in verdicts.values()}
    assert decisions == {"A", "R"}
    assert any(b"00501" in data[:120] for data in CORPUS.values())
