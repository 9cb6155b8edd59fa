"""X12 tokenizer and envelope robustness: delimiters per ISA, positions, non-X12 input, fuzzing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.x12 import NotX12, iter_segments, process_interchange_file
from mappings.x12._results import DOCUMENT_OUTCOMES, FILE_OUTCOMES
from mappings.x12._tokenizer import ISA_LENGTH, read_isa
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA
from tests.present import present

NOW = dt.datetime(2024, 1, 6, 9, 30)


def golden(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_delimiters_are_read_from_the_isa():
    acme = next(iter_segments(golden("acme_850_4010.x12"))).delimiters
    assert (acme.element, acme.component, acme.segment, acme.repetition) == ("*", ">", "~", None)
    northwind = next(iter_segments(golden("northwind_850_5010.x12"))).delimiters
    assert (northwind.element, northwind.component, northwind.segment, northwind.repetition) == ("*", ":", "~", "^")
    bluebird = next(iter_segments(golden("bluebird_850_4010.x12"))).delimiters
    assert (bluebird.element, bluebird.component, bluebird.segment) == ("|", "^", "~")


def test_segments_carry_elements_positions_and_offsets():
    data = golden("acme_850_4010.x12")
    segments = list(iter_segments(data))
    ids = [s.id for s in segments]
    assert ids[:4] == ["ISA", "GS", "ST", "BEG"]
    assert ids[-3:] == ["SE", "GE", "IEA"]
    beg = segments[3]
    assert beg.elements == ["BEG", "00", "SA", "4500012345", "", "20240105"]
    assert beg.element(3) == "4500012345" and beg.element(99) == ""
    assert (segments[2].position, beg.position) == (1, 2)
    se = segments[-3]
    assert se.position == int(se.element(1))  # SE01 counts ST..SE, the same numbering
    assert [s.position for s in (segments[0], segments[1], segments[-2], segments[-1])] == [0, 0, 0, 0]
    for seg in segments:
        assert data[seg.offset : seg.offset + len(seg.id)] == seg.id.encode()
    assert segments[0].elements[13] == "000000101" and len(segments[0].elements) == 17


def test_crlf_after_terminators_is_not_data():
    segments = list(iter_segments(golden("northwind_850_5010.x12")))
    assert all("\r" not in e and "\n" not in e for s in segments for e in s.elements)
    assert segments[-1].elements == ["IEA", "1", "000002001"]


def test_single_line_file_with_pipe_separator():
    segments = list(iter_segments(golden("bluebird_850_4010.x12")))
    po1 = next(s for s in segments if s.id == "PO1")
    assert po1.elements[:4] == ["PO1", "1", "4", "EA"]
    assert (po1.element(8), po1.element(9)) == ("EN", "5012345678900")


def test_every_interchange_brings_its_own_delimiters():
    segments = list(iter_segments(golden("two_interchanges.x12")))
    isas = [s for s in segments if s.id == "ISA"]
    assert [s.delimiters.element for s in isas] == ["*", "|"]
    second_beg = [s for s in segments if s.id == "BEG"][1]
    assert second_beg.element(3) == "BB-9002" and second_beg.delimiters.element == "|"


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_line_break_as_segment_terminator(line_end):
    text = golden("acme_850_cancel.x12").replace(b"~\n", line_end)
    segments = list(iter_segments(text))
    assert segments[0].delimiters.segment == line_end[:1].decode()
    assert [s.id for s in segments][:3] == ["ISA", "GS", "ST"]
    assert segments[-1].elements == ["IEA", "1", "000000106"]
    assert all("\r" not in e and "\n" not in e for s in segments for e in s.elements)
    result = process_interchange_file(text, partners=PARTNERS, now=NOW)
    assert result.outcome == "accepted"


def test_repetition_and_component_separators():
    data = golden("northwind_850_5010.x12").replace(b"REF*VR*V-44", b"REF*VR*V-44^V-45*A:B")
    ref = next(s for s in iter_segments(data) if s.id == "REF")
    assert ref.repetitions(2) == ["V-44", "V-45"]
    assert ref.components(3) == ["A", "B"]


def test_isa_layout_is_fixed_and_trimmed_isa_is_still_read():
    data = golden("acme_850_cancel.x12")
    header = read_isa(data, 0)
    assert header.fixed_layout and header.end == ISA_LENGTH
    trimmed = data.replace(b"ACMERETAIL     ", b"ACMERETAIL", 1)
    header = read_isa(trimmed, 0)
    assert not header.fixed_layout
    assert header.elements[6] == "ACMERETAIL" and header.delimiters.segment == "~"
    result = process_interchange_file(trimmed, partners=PARTNERS, now=NOW)
    assert result.outcome == "accepted_with_warnings"
    ta1 = next(a for a in result.acks if a.kind == "TA1")
    assert "TA1*000000106*240105*1200*E*022~" in ta1.text
    assert len(result.documents[0].order.lines) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \r\n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (golden("edifact_orders.edi"), "EDIFACT"),
        (b"UNB+UNOC:3+SENDER+RECEIVER+240105:1200+1'", "EDIFACT"),
        (golden("not_x12.txt"), "does not start"),
        (b"ISA*00*   ", "truncated"),
        (golden("acme_850_4010.x12")[:80], "truncated"),
        (b"ISAAC Newton was here and wrote a long letter about gravity and apples and other things" * 2, "separator"),
    ],
)
def test_non_x12_input_is_refused_with_a_reason(data, reason):
    with pytest.raises(NotX12) as info:
        list(iter_segments(data))
    assert reason in info.value.reason
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "not_x12"
    assert reason in (result.reason or "")
    assert result.acks == [] and result.documents == []
    assert result.to_json() == {"outcome": "not_x12", "reason": result.reason, "documents": [], "acks": []}


def test_utf8_bom_and_leading_blank_lines_are_tolerated():
    data = b"\xef\xbb\xbf\r\n" + golden("acme_850_cancel.x12")
    assert process_interchange_file(data, partners=PARTNERS, now=NOW).outcome == "accepted"


def test_unreadable_second_isa_keeps_the_first_interchange():
    data = golden("acme_850_cancel.x12") + b"ISA*00*garbage~"
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "partially_accepted"
    assert "reading stopped" in present(result.reason)
    assert len(result.documents) == 1 and result.documents[0].order is not None


def test_junk_after_the_last_iea_is_reported():
    data = golden("acme_850_cancel.x12") + b"THIS IS NOT EDI~"
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "partially_accepted"
    assert "after the IEA" in present(result.reason)
    # a DOS end-of-file mark and NUL padding are not junk
    padded = golden("acme_850_cancel.x12") + b"\x1a\x00\x00"
    assert process_interchange_file(padded, partners=PARTNERS, now=NOW).outcome == "accepted"


# -- fuzzing: whatever happens to the bytes, processing ends in a documented outcome ----------------

_SEEDS = [
    golden(name)
    for name in (
        "acme_850_4010.x12",
        "northwind_850_5010.x12",
        "bluebird_850_4010.x12",
        "two_interchanges.x12",
        "acme_group_partial.x12",
    )
]
_INTERESTING = [
    b"*",
    b"~",
    b"|",
    b">",
    b"^",
    b"\n",
    b"\r",
    b"ISA",
    b"SE",
    b"ST*850*",
    b"GE*",
    b"IEA*",
    b"-",
    b".",
    b"0",
    b"\x00",
    b"\xff",
]


@st.composite
def mutated_files(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        if action == "replace":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=8)))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif action == "truncate":
            del data[at:]
        else:
            end = data.find(b"~", at)
            data[at:at] = data[at : end + 1 if end != -1 else at + 10]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_files())
def test_mutated_files_never_raise(data):
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome in FILE_OUTCOMES
    assert all(d.outcome in DOCUMENT_OUTCOMES for d in result.documents)
    assert all(ic.outcome in FILE_OUTCOMES for ic in result.interchanges)
    if result.outcome == "not_x12":
        assert result.reason and not result.acks
    for doc in result.documents:
        assert (doc.order is not None) == (doc.outcome in ("accepted", "accepted_with_warnings"))
        doc.to_json()
    for ack in result.acks:  # what we send must always be readable X12 again
        segments = list(iter_segments(ack.text.encode("latin-1")))
        assert segments[0].id == "ISA" and segments[-1].id == "IEA"


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunk_boundaries_do_not_change_the_segments(monkeypatch, chunk):
    import mappings.x12._tokenizer as tokenizer

    paths = sorted(DATA.glob("*.x12"))
    assert len(paths) >= 10, "the golden files are missing: nothing would be cut at chunk boundaries"
    for path in paths:
        data = path.read_bytes() + b"\r\n" + path.read_bytes()
        expected = [(s.elements, s.offset, s.position, s.delimiters) for s in iter_segments(data)]
        assert expected, path.name  # each golden file is X12: no segments would compare nothing
        monkeypatch.setattr(tokenizer, "_CHUNK", chunk)
        assert [(s.elements, s.offset, s.position, s.delimiters) for s in iter_segments(data)] == expected, path.name
        monkeypatch.undo()


def _many_interchanges(count: int) -> bytes:
    from mappings.x12.samples import build_850

    acme = PARTNERS.get("acme")
    return b"".join(build_850(acme, po_number=f"MI-{n}", control_number=n) for n in range(1, count + 1))


@pytest.mark.parametrize("as_stream", [False, True], ids=["bytes", "stream"])
def test_work_grows_linearly_with_the_number_of_interchanges(monkeypatch, as_stream):
    """Each byte is decoded a bounded number of times, however many interchanges share the file.

    The tokenizer used to decode everything from each interchange's start to the end of its buffer
    (the whole file for bytes, 1 MiB for a stream) and throw the rest away at the next ISA:
    10,000 interchanges in 10 MB took 75 s. Counting decoded bytes proves the fix without a clock.
    """
    import io

    import mappings.x12._tokenizer as tokenizer

    decoded = [0]
    real_decode = tokenizer._decode

    def counting_decode(data: bytes, start: int, end: int) -> str:
        decoded[0] += end - start
        return real_decode(data, start, end)

    monkeypatch.setattr(tokenizer, "_decode", counting_decode)
    per_byte = {}
    for count in (100, 1000):
        data = _many_interchanges(count)
        decoded[0] = 0
        segments = list(iter_segments(io.BytesIO(data) if as_stream else data))
        assert sum(s.id == "ISA" for s in segments) == count
        assert segments[-1].id == "IEA" and segments[-1].element(2) == f"{count:09d}"
        per_byte[count] = decoded[0] / len(data)
    assert per_byte[1000] <= 3, per_byte
    assert per_byte[1000] <= per_byte[100] * 1.5, per_byte
