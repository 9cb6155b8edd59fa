"""Issue 8 points 1-3 through the real intake path (archive, process_x12_receipt, acks to a real SFTP folder).

1. One bad byte must not stop all acks: no ack carries bytes outside the X12 character set, and one
   document the sender cannot write never blocks the others (it is failed, queued, replayable).
2. Trailing junk after the IEA opens an exception; the intake's blocking check looks only at the
   receipts of its own run.
3. A misaddressed interchange gets a TA1 and an exception, and the inbox keeps working.
"""

from __future__ import annotations

import shutil
from contextlib import nullcontext

import dagster as dg
import pytest
from sqlalchemy import select

from canonical.errors import RetriableError
from hub import store as st
from hub.defs.edi.assets import edi_documents_accounted_for, edi_inbound_orders
from hub.defs.resources import HubStoreResource
from hub.delivery import send_pending_acks
from hub.replay import replay_exception
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850
from tests.faults.invariants import assert_each_once, assert_store_invariants, unaccounted_receipts, unsent_acks
from tests.faults.x12_path import PARTNERS, REPO, is_x12_text, x12_path

ACME, BLUEBIRD, NORTHWIND = PARTNERS.get("acme"), PARTNERS.get("bluebird"), PARTNERS.get("northwind")


def open_exceptions(store: st.HubStore) -> list[st.QueuedException]:
    with store.transaction() as conn:
        return st.list_exceptions(conn, state=st.OPEN)


# -- 1. one bad byte stops all acks --------------------------------------------------------------

def test_a_non_ascii_segment_id_is_reported_by_position_and_every_ack_is_sent(store, tmp_path):
    bad = build_850(ACME, po_number="PO-BAD", control_number=1).replace(b"REF*", b"R\xc9F*")
    good = [build_850(ACME, po_number="PO-2", control_number=2), build_850(BLUEBIRD, po_number="PO-3")]
    with x12_path(store, tmp_path) as path:
        for n, (data, partner) in enumerate([(bad, "acme"), (good[0], "acme"), (good[1], "bluebird")]):
            path.process(path.receive(data, f"{n}.x12", partner))
        path.send_acks()
        files = path.outbound_files()
    assert len(files) == 3, sorted(files)
    assert all(is_x12_text(data) for data in files.values())
    (ack,) = [data.decode() for data in files.values() if b"AK5*R" in data]
    assert "AK3*R?F*3**1~" in ack, "the bad segment is named by its position, its id only in ASCII"
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-2"), ("x12", "bluebird", "PO-3")])


def test_an_unknown_sender_id_with_non_ascii_bytes_gets_an_ascii_ta1(store, tmp_path):
    data = build_850(ACME).replace(b"ACMERETAIL     *ZZ", b"ACME\xc9\xa0ETAIL   *ZZ", 1)
    with x12_path(store, tmp_path) as path:
        summary = path.process(path.receive(data, "wrong-sender.x12"))
        path.send_acks()
        files = path.outbound_files()
    assert summary.outcome == "rejected"
    (ta1,) = files.values()
    assert is_x12_text(ta1) and b"*R*006~" in ta1
    assert_store_invariants(store)


def test_an_ack_the_sender_cannot_write_is_failed_queued_and_replayable_without_blocking_others(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        acme = path.receive(build_850(ACME, po_number="PO-1"), "1.x12")
        bluebird = path.receive(build_850(BLUEBIRD, po_number="PO-2"), "2.x12", "bluebird")
        path.process(acme)
        path.process(bluebird)
        with store.transaction() as conn:
            first = st.pending_outbound(conn)[0]
            # An ack queued by an older release echoed a received byte: it cannot be written as X12.
            conn.execute(st.tables.outbound_documents.update()
                         .where(st.tables.outbound_documents.c.id == first.id)
                         .values(content=first.content.replace("AK1*", "AK1*\u00c9")))
        written = path.send_acks()
        assert len(written) == 1, "the other partner's ack is written"
        (queued,) = open_exceptions(store)
        assert queued.kind == "ack_not_sent" and first.file_name in queued.reason
        with store.transaction() as conn:
            assert conn.execute(select(st.tables.outbound_documents.c.state)
                                .where(st.tables.outbound_documents.c.id == first.id)).scalar_one() == "failed"
        assert path.send_acks() == [], "a failed ack is not retried by itself"

        assert replay_exception(store, PARTNERS, queued.id).done
        assert len(path.send_acks()) == 1
        files = path.outbound_files()
    assert len(files) == 2 and all(is_x12_text(data) for data in files.values())
    assert open_exceptions(store) == []
    assert_store_invariants(store)


def test_an_ack_for_a_partner_whose_profile_lost_its_sftp_section_is_failed_not_left_pending(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        path.process(path.receive(build_850(ACME, po_number="PO-1"), "1.x12"))
        path.process(path.receive(build_850(BLUEBIRD, po_number="PO-2"), "2.x12", "bluebird"))
        without_sftp = PartnerDirectory([ACME.model_copy(update={"sftp": None}), BLUEBIRD])
        written = send_pending_acks(store, without_sftp, path.client)
        assert len(written) == 1, "bluebird's ack is written"
        (queued,) = open_exceptions(store)
        assert queued.kind == "ack_not_sent" and "no sftp section" in queued.reason
        assert unsent_acks(store) and all(state == "failed" for state in _outbound_states(store, "acme"))

        assert replay_exception(store, PARTNERS, queued.id).done, "once the profile is fixed, a replay sends it"
        assert len(path.send_acks()) == 1
    assert open_exceptions(store) == []
    assert_store_invariants(store)


def _outbound_states(store: st.HubStore, partner_id: str) -> list[str]:
    outbound = st.tables.outbound_documents
    with store.transaction() as conn:
        return list(conn.execute(select(outbound.c.state).where(outbound.c.partner_id == partner_id)).scalars())


def test_an_unreachable_outbound_folder_holds_only_its_own_acks(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        path.process(path.receive(build_850(ACME, po_number="PO-1"), "1.x12"))
        path.process(path.receive(build_850(BLUEBIRD, po_number="PO-2"), "2.x12", "bluebird"))
        shutil.rmtree(path.root / ACME.sftp.outbound)
        with pytest.raises(RetriableError, match="acme/outbound"):
            path.send_acks()
        assert list(path.outbound_files()) == [next(iter(path.outbound_files()))]
        assert all(name.startswith("bluebird/") for name in path.outbound_files())
        (path.root / ACME.sftp.outbound).mkdir()
        assert len(path.send_acks()) == 1, "the next run writes the ack that waited"
        assert len(path.outbound_files()) == 2
    assert_store_invariants(store)


# -- 2. trailing junk after the IEA --------------------------------------------------------------

def test_trailing_junk_after_the_iea_opens_an_exception(store, tmp_path):
    data = build_850(ACME, po_number="PO-1") + b"THIS IS NOT X12\n"
    with x12_path(store, tmp_path) as path:
        summary = path.process(path.receive(data, "junk.x12"))
        path.send_acks()
    assert summary.orders_created == 1, "the sound interchange before the junk is kept"
    (queued,) = open_exceptions(store)
    assert queued.kind == "unreadable_data" and "after the IEA" in queued.reason
    assert unaccounted_receipts(store) == []
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-1")])


def test_every_outcome_but_clean_acceptance_opens_an_exception(store, tmp_path):
    # A file that is half a resend: the new interchange is accepted, the old one is refused (TA1 025).
    first = build_850(ACME, po_number="PO-1", control_number=1)
    mixed = first + build_850(ACME, po_number="PO-2", control_number=2)
    truncated = build_850(ACME, po_number="PO-3", control_number=3)[:-40]
    with x12_path(store, tmp_path) as path:
        outcomes = [path.process(path.receive(first, "1.x12")).outcome,
                    path.process(path.receive(mixed, "2.x12")).outcome,
                    path.process(path.receive(truncated, "3.x12")).outcome]
        path.send_acks()
    assert outcomes == ["accepted", "partially_accepted", "rejected"]
    assert {e.kind for e in open_exceptions(store)} == {"file_not_accepted", "rejected_interchange"}
    assert unaccounted_receipts(store) == []
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-1"), ("x12", "acme", "PO-2")])


class NoSftp(dg.ConfigurableResource):
    """The intake asset only moves processed files out of the inbox: none are there in these tests."""

    def client(self):
        class Empty:
            def list_files(self, folder):
                return []

        return nullcontext(Empty())


def _run_intake(store: st.HubStore, receipt_ids: list[int], tmp_path) -> tuple[bool, dg.AssetCheckEvaluation]:
    """The intake asset and its blocking check, run by Dagster for ``receipt_ids``: (run succeeded, evaluation)."""
    hub_store = HubStoreResource(database_url=store.engine.url.render_as_string(hide_password=False),
                                 partners_dir=str(tmp_path / "partners"))
    result = dg.materialize(
        [edi_inbound_orders, edi_documents_accounted_for],
        resources={"hub_store": hub_store, "sftp": NoSftp()},
        run_config={"ops": {"edi_inbound_orders": {"config": {"receipt_ids": receipt_ids}}}},
        raise_on_error=False,
    )
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "edi_documents_accounted_for"]
    return result.success, evaluation


def test_the_blocking_check_looks_only_at_the_receipts_of_its_run(store, tmp_path):
    shutil.copytree(REPO / "mappings" / "partners", tmp_path / "partners")
    with x12_path(store, tmp_path) as path:
        earlier = path.receive(build_850(ACME, po_number="PO-1", control_number=1), "1.x12")
        path.process(earlier)
        # An earlier receipt left unexplained (e.g. by an older release): reported, never blocking others.
        with store.transaction() as conn:
            st.finish_receipt(conn, earlier, outcome="partially_accepted", reason="legacy", now=st.utcnow())
        later = path.receive(build_850(ACME, po_number="PO-2", control_number=2), "2.x12")
    succeeded, evaluation = _run_intake(store, [later], tmp_path)
    assert succeeded and evaluation.severity == dg.AssetCheckSeverity.WARN, "warns, does not block"
    assert evaluation.metadata["unexplained_receipts"].value == []
    elsewhere = evaluation.metadata["unexplained_elsewhere"].value
    assert isinstance(elsewhere, list) and [r["receipt"] for r in elsewhere] == [earlier]

    succeeded, evaluation = _run_intake(store, [earlier], tmp_path)
    assert not succeeded and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR


# -- 3. a misaddressed interchange -----------------------------------------------------------------

def test_another_partners_file_in_an_inbox_gets_a_ta1_and_the_inbox_keeps_working(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        first = path.process(path.receive(build_850(ACME, po_number="PO-1", control_number=1), "1.x12"))
        stray = path.process(path.receive(build_850(NORTHWIND, po_number="NW-1"), "northwind.x12"))
        wrong_id = build_850(ACME, po_number="PO-X", control_number=3).replace(b"ACMERETAIL     *ZZ",
                                                                                b"ACMERETAIX     *ZZ", 1)
        typo = path.process(path.receive(wrong_id, "typo.x12"))
        later = path.process(path.receive(build_850(ACME, po_number="PO-2", control_number=2), "2.x12"))
        path.send_acks()
        files = path.outbound_files()
    assert first.outcome == later.outcome == "accepted"
    assert stray.outcome == typo.outcome == "rejected"
    assert {e.kind for e in open_exceptions(store)} == {"rejected_interchange"}
    assert len(files) == 4 and all(name.startswith("acme/") for name in files)
    assert sum(b"TA1*" in data for data in files.values()) == 2
    with store.transaction() as conn:
        numbers = [d.control_number for d in st.outbound_for_receipt(conn, typo.receipt_id)]
        numbers += [d.control_number for r in (first, stray, later)
                    for d in st.outbound_for_receipt(conn, r.receipt_id)]
    assert_each_once(numbers, "acme's ack control numbers")
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-1"), ("x12", "acme", "PO-2")])


def test_a_wrong_receiver_id_gets_a_ta1_and_the_inbox_keeps_working(store, tmp_path):
    wrong = build_850(ACME, po_number="PO-X", control_number=5).replace(b"ORDERHUB       *", b"SOMEONEELSE    *", 1)
    with x12_path(store, tmp_path) as path:
        misaddressed = path.process(path.receive(wrong, "wrong-receiver.x12"))
        later = path.process(path.receive(build_850(ACME, po_number="PO-2", control_number=6), "2.x12"))
        path.send_acks()
        files = path.outbound_files()
    assert misaddressed.outcome == "rejected" and later.outcome == "accepted"
    assert [e.kind for e in open_exceptions(store)] == ["rejected_interchange"]
    assert len(files) == 2
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-2")])
