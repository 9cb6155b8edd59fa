"""Every real-world file layout reads to the same orders: delimiters, terminators, wrapping, envelopes."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from mappings.x12 import DocumentResult, iter_segments, process_interchange_file
from mappings.x12._tokenizer import is_hard_wrapped
from tests.fixtures.partners import PARTNERS, X12_DATA

LAYOUTS = X12_DATA / "layouts"
NOW = dt.datetime(2024, 1, 6, 9, 30)
SINGLE = [
    "tilde_newline.x12",
    "tilde_crlf.x12",
    "one_line.x12",
    "pipe_caret.x12",
    "caret_separator_5010.x12",
    "newline_terminator.x12",
    "crlf_terminator.x12",
    "exclamation_separator.x12",
    "wrapped_80.x12",
    "wrapped_80_crlf.x12",
    "wrapped_128.x12",
]


def _lines(result) -> list[tuple]:
    """What matters of the orders, independent of partner and envelope numbers."""
    return [
        (o.source_ref, [(line.sku, str(line.quantity), str(line.unit_price), line.description) for line in o.lines])
        for o in result.orders
    ]


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


REFERENCE = _lines(process_interchange_file((LAYOUTS / "tilde_newline.x12").read_bytes(), partners=PARTNERS,
                                            now=NOW))


@pytest.mark.parametrize("name", SINGLE)
def test_each_layout_reads_to_the_same_order(name):
    data = (LAYOUTS / name).read_bytes()
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "accepted", result.reason
    lines = _lines(result)
    if name.startswith("pipe"):  # Bluebird's SKU qualifier differs: compare quantities and prices only
        assert [[q[1:] for q in o[1]] for o in lines] == [[q[1:] for q in o[1]] for o in REFERENCE]
    else:
        assert lines == REFERENCE
    assert any("AK5*A" in a.text for a in result.acks)


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_streamed_in_chunks_reads_the_same_segments(name, size):
    data = (LAYOUTS / name).read_bytes()
    whole = [(s.elements, s.position) for s in iter_segments(data)]
    assert [(s.elements, s.position) for s in iter_segments(_chunks(data, size))] == whole
    assert [(s.elements, s.position) for s in iter_segments(io.BytesIO(data))] == whole
    assert all("\n" not in e and "\r" not in e for elements, _ in whole for e in elements)


@pytest.mark.parametrize(
    ("name", "element", "component", "segment", "repetition"),
    [
        ("pipe_caret.x12", "|", "^", "~", None),
        ("caret_separator_5010.x12", "^", ":", "~", None),  # ISA11 '^' is the element separator: no repetition
        ("newline_terminator.x12", "*", ">", "\n", None),
        ("crlf_terminator.x12", "*", ">", "\r", None),
        ("exclamation_separator.x12", "!", "\\", "'", None),
        ("wrapped_80.x12", "*", ">", "~", None),
    ],
)
def test_delimiters_come_from_the_isa(name, element, component, segment, repetition):
    first = next(iter_segments((LAYOUTS / name).read_bytes()))
    assert (first.delimiters.element, first.delimiters.component, first.delimiters.segment) == (
        element, component, segment)
    assert first.delimiters.repetition == repetition


def test_5010_repetition_separator_is_read_from_isa11():
    data = (LAYOUTS / "tilde_newline.x12").read_bytes().replace(b"*U*00401*", b"*^*00501*", 1)
    data = data.replace(b"REF*DP*042", b"REF*DP*042^043")
    segments = list(iter_segments(data))
    assert segments[0].delimiters.repetition == "^"
    assert next(s for s in segments if s.id == "REF").repetitions(2) == ["042", "043"]


def test_hard_wrapping_is_detected_only_for_fixed_length_records():
    assert is_hard_wrapped((LAYOUTS / "wrapped_80.x12").read_bytes())
    assert is_hard_wrapped((LAYOUTS / "wrapped_80_crlf.x12").read_bytes())
    assert is_hard_wrapped((LAYOUTS / "wrapped_128.x12").read_bytes())
    for name in ("tilde_newline.x12", "tilde_crlf.x12", "one_line.x12", "newline_terminator.x12",
                 "crlf_terminator.x12"):
        assert not is_hard_wrapped((LAYOUTS / name).read_bytes()), name


def test_several_interchanges_each_with_its_own_delimiters():
    data = (LAYOUTS / "three_interchanges.x12").read_bytes()
    isas = [s for s in iter_segments(data) if s.id == "ISA"]
    assert [s.delimiters.element for s in isas] == ["*", "|", "*"]
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "accepted", result.reason
    assert [ic.partner_id for ic in result.interchanges] == ["acme", "bluebird", "northwind"]
    assert len(result.orders) == 3


def test_several_groups_and_sets_per_interchange():
    data = (LAYOUTS / "two_groups_two_sets.x12").read_bytes()
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert result.outcome == "accepted", result.reason
    assert [o.source_ref for o in result.orders] == ["PO-1001-1", "PO-1001-2", "PO-2001-1", "PO-2001-2"]
    ack = next(a.text for a in result.acks if a.kind == "997")
    assert ack.count("AK1*PO*") == 2 and ack.count("AK2*850*") == 4


@pytest.mark.parametrize("name", [*SINGLE, "three_interchanges.x12", "two_groups_two_sets.x12"])
def test_streaming_hands_over_the_same_documents(name):
    data = (LAYOUTS / name).read_bytes()
    whole = process_interchange_file(data, partners=PARTNERS, now=NOW)
    handed: list[DocumentResult] = []
    streamed = process_interchange_file(_chunks(data, 13), partners=PARTNERS, now=NOW, on_document=handed.append)
    assert [d.order.model_dump() for d in handed] == [o.model_dump() for o in whole.orders]
    assert streamed.orders == [] and sum(ic.handed_over for ic in streamed.interchanges) == len(handed)
    assert [a.text for a in streamed.acks] == [a.text for a in whole.acks]
    assert streamed.outcome == whole.outcome
