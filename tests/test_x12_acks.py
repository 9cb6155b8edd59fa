"""997 and TA1: what we answer, how it is addressed and numbered, and that it reads back as X12."""

from __future__ import annotations

import datetime as dt

import pytest

from canonical.errors import FatalError
from mappings.profiles import PartnerDirectory
from mappings.x12 import iter_segments, process_interchange_file
from mappings.x12._envelope import EnvelopeWalker
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA

NOW = dt.datetime(2024, 1, 6, 9, 30)


def golden(name: str) -> bytes:
    return (DATA / name).read_bytes()


def process(data: bytes, partners: PartnerDirectory = PARTNERS, **kwargs):
    return process_interchange_file(data, partners=partners, now=NOW, **kwargs)


def segments_of(text: str) -> list[list[str]]:
    return [s.elements for s in iter_segments(text.encode("latin-1"))]


def only(result, kind: str):
    acks = [a for a in result.acks if a.kind == kind]
    assert len(acks) == 1, [a.kind for a in result.acks]
    return acks[0]


def with_profile(partner_id: str, **x12_changes) -> PartnerDirectory:
    profiles = []
    for profile in PARTNERS:
        if profile.id == partner_id:
            profile = profile.model_copy(update={"x12": profile.x12.model_copy(update=x12_changes)})
        profiles.append(profile)
    return PartnerDirectory(profiles)


def test_997_for_an_accepted_850_golden_text():
    result = process(golden("acme_850_4010.x12"))
    ack = only(result, "997")
    assert ack.text == (
        "ISA*00*          *00*          *ZZ*ORDERHUB       *ZZ*ACMERETAIL     *240106*0930*U*00401*000000001*0*P*>~\n"
        "GS*FA*ORDERHUB*ACMERETAIL*20240106*0930*1*X*004010~\n"
        "ST*997*0001~\n"
        "AK1*PO*1~\n"
        "AK2*850*0001~\n"
        "AK5*A~\n"
        "AK9*A*1*1*1~\n"
        "SE*6*0001~\n"
        "GE*1*1~\n"
        "IEA*1*000000001~\n"
    )
    assert (ack.partner_id, ack.interchange_control_number, ack.file_name) == (
        "acme",
        "000000001",
        "997_ACMERETAIL_000000001.x12",
    )
    assert len(ack.text.split("~")[0]) == 105  # our ISA keeps the fixed layout too (+ terminator = 106)


def test_997_for_a_partially_accepted_group():
    result = process(golden("acme_group_partial.x12"))
    ack = only(result, "997")
    body = [e for e in segments_of(ack.text) if e[0] in ("AK1", "AK2", "AK3", "AK4", "AK5", "AK9")]
    assert body == [
        ["AK1", "PO", "3"],
        ["AK2", "850", "0001"],
        ["AK5", "A"],
        ["AK2", "850", "0002"],
        ["AK3", "BEG", "2", "", "8"],
        ["AK4", "5", "373", "8"],
        ["AK3", "PO1", "3", "", "8"],
        ["AK4", "2", "330", "6"],
        ["AK5", "R", "5"],
        ["AK9", "P", "2", "2", "1"],
    ]


def test_997_for_5010_carries_the_version_and_repetition_separator():
    result = process(golden("northwind_850_5010.x12"))
    elements = segments_of(only(result, "997").text)
    isa = elements[0]
    assert (isa[11], isa[12], isa[15]) == ("^", "00501", "T")  # test in, test out
    assert (isa[7], isa[8].strip()) == ("01", "123456789")
    assert elements[1] == ["GS", "FA", "ORDERHUB", "123456789", "20240106", "0930", "1", "X", "005010"]
    assert ["AK1", "PO", "2001", "005010"] in elements
    assert ["AK2", "850", "000000001"] in elements


def test_997_reads_back_with_our_own_tokenizer_and_envelope_walker():
    for name in ("acme_group_partial.x12", "northwind_850_5010.x12", "two_interchanges.x12"):
        acks = process(golden(name)).acks
        assert [a.kind for a in acks if a.kind == "997"], f"{name} was answered without a 997: nothing to read back"
        for ack in acks:
            interchanges = list(EnvelopeWalker(ack.text.encode("latin-1")))
            assert len(interchanges) == 1
            ic = interchanges[0]
            assert ic.problems == [], [p.message for p in ic.problems]
            if ack.kind == "TA1":
                assert ic.groups == []  # a TA1 stands alone in its interchange
                continue
            assert [g.functional_id for g in ic.groups] == ["FA"], name  # one FA group per 997 interchange
            [group] = ic.groups
            assert group.problems == [] and group.sets, name
            assert all(s.problems == [] and s.id == "997" for s in group.sets)


def test_ta1_for_an_interchange_control_number_mismatch():
    result = process(golden("acme_bad_envelope.x12"))
    assert result.outcome == "rejected"
    assert "IEA control number" in result.reason
    assert [d.outcome for d in result.documents] == ["rejected"] and result.orders == []
    ta1 = only(result, "TA1")
    assert [a.kind for a in result.acks] == ["TA1"]  # a rejected interchange gets no 997
    assert segments_of(ta1.text)[1:] == [["TA1", "000000104", "240105", "1200", "R", "001"], ["IEA", "0", "000000001"]]
    assert ta1.file_name == "TA1_ACMERETAIL_000000001.x12"


def test_unknown_sender_is_rejected_with_ta1_006():
    data = golden("acme_850_cancel.x12").replace(b"ZZ*ACMERETAIL     ", b"ZZ*STRANGER      ", 1)
    result = process(data)
    assert result.outcome == "rejected"
    interchange = result.interchanges[0]
    assert (interchange.partner_id, interchange.sender_id) == (None, "STRANGER")
    assert "unknown interchange sender ZZ/STRANGER" in interchange.reason
    ta1 = only(result, "TA1")
    elements = segments_of(ta1.text)
    assert elements[1][4:6] == ["R", "006"]
    # answered from the receiver id it was sent to, back to the sender it came from
    assert (elements[0][6].strip(), elements[0][8].strip()) == ("ORDERHUB", "STRANGER")
    assert ta1.partner_id is None and ta1.file_name == "TA1_STRANGER_000000001.x12"


def test_wrong_receiver_is_rejected_with_ta1_009():
    data = golden("acme_850_cancel.x12").replace(b"ZZ*ORDERHUB       ", b"ZZ*SOMEONEELSE    ", 1)
    result = process(data)
    assert result.outcome == "rejected"
    assert segments_of(only(result, "TA1").text)[1][4:6] == ["R", "009"]


def test_duplicate_interchange_is_refused_whole():
    calls = []

    def seen_before(qualifier: str, sender: str, control: str) -> bool:
        calls.append((qualifier, sender, control))
        return True

    result = process(golden("acme_850_4010.x12"), is_duplicate_interchange=seen_before)
    assert calls == [("ZZ", "ACMERETAIL", "000000101")]
    assert result.outcome == "duplicate"
    assert result.documents == [] and result.orders == []
    assert [a.kind for a in result.acks] == ["TA1"]
    assert segments_of(result.acks[0].text)[1] == ["TA1", "000000101", "240105", "1200", "R", "025"]


def test_the_same_interchange_twice_in_one_file_is_a_duplicate():
    data = golden("acme_850_cancel.x12") * 2
    result = process(data)
    assert [ic.outcome for ic in result.interchanges] == ["accepted", "duplicate"]
    assert result.outcome == "partially_accepted"
    assert len(result.orders) == 1


def test_control_numbers_come_from_the_callback():
    calls = []
    numbers = {"interchange": 41, "group": 7, "transaction": 3}

    def next_number(partner_id: str, kind: str) -> int:
        calls.append((partner_id, kind))
        numbers[kind] += 1
        return numbers[kind]

    result = process(golden("acme_bad_envelope.x12") + golden("acme_850_cancel.x12"), next_control_number=next_number)
    assert calls == [("acme", "interchange"), ("acme", "interchange"), ("acme", "group"), ("acme", "transaction")]
    ta1, ack = result.acks
    assert (ta1.kind, ta1.interchange_control_number) == ("TA1", "000000042")
    assert (ack.kind, ack.interchange_control_number) == ("997", "000000043")
    elements = segments_of(ack.text)
    assert elements[0][13] == "000000043" and elements[-1] == ["IEA", "1", "000000043"]
    assert elements[1][6] == "8" and elements[-2] == ["GE", "1", "8"]
    assert elements[2] == ["ST", "997", "0004"]


def test_local_counter_numbers_per_partner_when_no_callback():
    result = process(golden("two_interchanges.x12") + golden("acme_850_4010.x12"))
    assert [(a.partner_id, a.interchange_control_number) for a in result.acks] == [
        ("acme", "000000001"),
        ("bluebird", "000000001"),
        ("acme", "000000002"),
    ]


def test_bad_control_number_from_the_callback_is_a_bug_not_bad_input():
    with pytest.raises(FatalError):
        process(golden("acme_850_cancel.x12"), next_control_number=lambda p, k: 0)


def test_send_ta1_always_acknowledges_a_good_interchange():
    partners = with_profile("acme", send_ta1="always")
    result = process(golden("acme_850_cancel.x12"), partners=partners)
    assert [a.kind for a in result.acks] == ["TA1", "997"]
    assert segments_of(result.acks[0].text)[1][4:6] == ["A", "000"]


def test_version_not_agreed_with_the_partner_rejects_the_group():
    data = golden("acme_850_cancel.x12").replace(b"*X*004010~", b"*X*005010~")
    result = process(data)
    assert result.outcome == "rejected"
    assert result.documents[0].outcome == "rejected"
    elements = segments_of(only(result, "997").text)
    assert ["AK9", "R", "1", "1", "0", "2"] in elements
    assert ["AK5", "R"] in elements


def test_test_interchanges_can_be_refused_by_profile():
    partners = with_profile("northwind", accept_test_interchanges=False)
    result = process(golden("northwind_850_5010.x12"), partners=partners)
    assert result.outcome == "rejected"
    assert segments_of(only(result, "TA1").text)[1][4:6] == ["R", "020"]


@pytest.mark.parametrize(
    ("old", "new", "ak5"),
    [
        (b"SE*5*0001", b"SE*6*0001", ["AK5", "R", "4"]),
        (b"SE*5*0001", b"SE*5*0002", ["AK5", "R", "3"]),
    ],
)
def test_transaction_set_trailer_errors(old, new, ak5):
    result = process(golden("acme_850_cancel.x12").replace(old, new))
    assert result.documents[0].outcome == "rejected"
    elements = segments_of(only(result, "997").text)
    assert ak5 in elements
    assert ["AK9", "R", "1", "1", "0"] in elements


@pytest.mark.parametrize(
    ("old", "new", "ak9"),
    [
        (b"GE*1*6", b"GE*2*6", ["AK9", "R", "2", "1", "0", "5"]),
        (b"GE*1*6", b"GE*1*7", ["AK9", "R", "1", "1", "0", "4"]),
    ],
)
def test_group_trailer_errors(old, new, ak9):
    result = process(golden("acme_850_cancel.x12").replace(old, new))
    assert result.outcome == "rejected" and result.orders == []
    assert ak9 in segments_of(only(result, "997").text)


def test_truncated_file_is_a_premature_end():
    data = golden("acme_850_4010.x12")
    result = process(data[: data.index(b"CTT*")])
    assert result.outcome == "rejected"
    assert segments_of(only(result, "TA1").text)[1][4:6] == ["R", "023"]


def test_group_count_mismatch_is_accepted_with_errors_noted():
    result = process(golden("acme_850_cancel.x12").replace(b"IEA*1*", b"IEA*2*"))
    assert result.outcome == "accepted_with_warnings"
    assert len(result.orders) == 1
    assert segments_of(only(result, "TA1").text)[1][4:6] == ["E", "021"]
    assert only(result, "997")


def test_ack_never_echoes_our_delimiters():
    # a partner using '|' may put '*' or '~' in ISA13; our TA1 must stay parseable
    data = golden("bluebird_850_4010.x12").replace(b"|000000005|", b"|00000*~05|")
    result = process(data)
    ta1 = only(result, "TA1")
    elements = segments_of(ta1.text)
    assert [e[0] for e in elements] == ["ISA", "TA1", "IEA"]
    assert elements[1][4:6] == ["R", "018"]


@pytest.mark.parametrize(
    "old, new",
    [
        (b"REF*DP", b"R\xc9F*DP"),  # segment id: AK3 names it by position, in ASCII
        (b"REF*DP*042", b"REF*D\xc9*042"),  # an element: AK4 code 6, the value is not copied
        (b"ST*850*0001", b"ST*850*0\xc901"),  # ST02 echoed in AK2
        (b"GS*PO*ACMERETAIL*ORDERHUB*20240105*1200*1*", b"GS*P\xc9*ACMERETAIL*ORDERHUB*20240105*1200*\xc91*"),
        (b"*240105*1200*U*00401*000000101*", b"*24\xc9105*1200*U*00401*0000\xc90101*"),  # echoed in TA1
        (b"ACMERETAIL     *ZZ", b"ACM\xc9RETAIL\xff    *ZZ"),  # unknown sender: TA1 addressed to it
        (b"ISA*00*", b"ISA*0\x01*"),
    ],
    ids=["segment-id", "element", "st02", "gs", "isa-date-and-control", "unknown-sender", "control-byte"],
)
def test_acks_carry_only_x12_characters_whatever_bytes_were_received(old, new):
    data = golden("acme_850_4010.x12")
    assert old in data
    result = process(data.replace(old, new, 1))
    assert result.acks
    for ack in result.acks:
        assert all(32 <= ord(c) < 127 or c == "\n" for c in ack.text), ack.text


def test_a_segment_id_outside_the_character_set_is_named_by_position():
    result = process(golden("acme_850_4010.x12").replace(b"REF*DP", b"R\xc9F*DP", 1))
    ack = only(result, "997").text
    assert "AK3*R?F*4**1~" in ack
