"""Streaming a large group (set acks kept packed) gives the same 997 as processing it in memory."""

from __future__ import annotations

import datetime as dt

from mappings.x12 import DocumentResult, process_interchange_file
from mappings.x12.samples import build_850
from tests.fixtures.partners import PARTNERS

NOW = dt.datetime(2024, 1, 6, 9, 30, tzinfo=dt.UTC)


def test_streamed_acks_of_a_large_group_match_the_in_memory_ones():
    data = build_850(PARTNERS.get("acme"), purchase_orders=2500, lines=1)
    # One bad set in the middle interrupts the run of plain acceptances.
    data = data.replace(b"PO-1001-1500**20240105~\n", b"PO-1001-1500**20240105~\nZZZ*1~\n", 1)
    handed: list[DocumentResult] = []
    streamed = process_interchange_file(data, partners=PARTNERS, now=NOW, on_document=handed.append)
    in_memory = process_interchange_file(data, partners=PARTNERS, now=NOW)
    assert streamed.outcome == in_memory.outcome == "partially_accepted"
    assert len(handed) == len(in_memory.orders) == 2499
    assert [a.text for a in streamed.acks] == [a.text for a in in_memory.acks]
    ack = streamed.acks[-1].text
    assert "AK2*850*1500~" in ack and "AK9*P*2500*2500*2499~" in ack
