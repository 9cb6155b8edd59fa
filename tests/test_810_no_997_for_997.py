"""A partner's 997 or 999 is never acknowledged (X12: no functional ack answers a functional ack).

The partner's 997s for our 855s and 810s arrive in its inbox like its 850s; before the fix the intake
answered each with a 997 of ours (AK1*FA), which the partner's translator would in turn have to match
to nothing. A group of functional acks (GS01 FA) gets no 997 now; other groups of the same interchange
still do, and an envelope fault is still answered with a TA1.
"""

from __future__ import annotations

import datetime as dt

import pytest

from mappings.x12 import process_interchange_file
from mappings.x12._acks import AckAddress, GroupAck, SetAck, build_functional_ack
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA

NOW = dt.datetime(2026, 12, 4, 9, 30)


def partners_fa(kind: str = "997", control: int = 901) -> str:
    """ACME's 997 (or 999) for our group 1 of 810s, addressed to us as its 850s are."""
    group = GroupAck("IN", "1", "004010", 1, [SetAck("810", "0001", "A")])
    return build_functional_ack(kind, ours=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"),
                                theirs=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), interchange_control=control,
                                groups=[(group, 78, 1)], isa12="00401", test=False, now=NOW)


def ack_kinds(data: bytes, *, streaming: bool) -> list:
    handed: list = []
    result = process_interchange_file(data, partners=PARTNERS, now=NOW,
                                      on_document=handed.append if streaming else None)
    return [(ack.kind, ack.text) for interchange in result.interchanges for ack in interchange.acks]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("kind", ["997", "999"])
def test_a_received_functional_ack_gets_no_functional_ack(kind, streaming):
    assert ack_kinds(partners_fa(kind).encode(), streaming=streaming) == []


@pytest.mark.parametrize("streaming", [False, True])
def test_the_850_group_beside_a_997_group_is_still_acknowledged_alone(streaming):
    fa = partners_fa()
    fa_group = fa[fa.index("GS*"):fa.index("IEA*")]
    orders = (DATA / "acme_850_4010.x12").read_text()
    both = orders.replace("IEA*1*000000101~", fa_group + "IEA*2*000000101~")
    (ack,) = ack_kinds(both.encode(), streaming=streaming)
    assert ack[0] == "997"
    assert "AK1*PO*1~" in ack[1] and "AK1*FA" not in ack[1] and "AK2*997" not in ack[1]


def test_a_997_with_an_envelope_fault_is_still_answered_with_a_ta1():
    broken = partners_fa().replace("IEA*1*000000901~", "IEA*1*000000902~")  # IEA02 differs from ISA13
    kinds = [kind for kind, _ in ack_kinds(broken.encode(), streaming=False)]
    assert kinds == ["TA1"]
