"""Sending 855s (hub/delivery/_acks855.py): once per PO version, validated before upload, 997s followed, SLA.

Tests taking ``store`` run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.sftp import SftpClient
from hub import store as st
from hub.delivery import send_pending_acks
from hub.delivery._acks855 import (
    ACK_OVERDUE,
    OUTBOUND_INVALID,
    open_overdue_acks,
    queue_po_acknowledgments,
    record_partner_functional_acks,
)
from hub.intake import process_x12_receipt
from hub.store._po_acks import po_acks_of
from mappings.profiles import PartnerDirectory, X12SftpChannel
from mappings.x12._acks import AckAddress, GroupAck, SetAck, build_functional_ack
from tests.edi855_orders import NOW, order
from tests.fixtures.partners import PARTNERS


def acme_855(**settings) -> PartnerDirectory:
    """ACME asking for 855s (its shipped profile does not)."""
    profile = PARTNERS.get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    return PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_855": True, **settings}))])


class Folders:
    """An in-memory outbound folder tree (the SftpClient calls ack delivery makes)."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, bytes]] = {}

    def list_files(self, folder: str) -> list:
        return [type("F", (), {"name": name})() for name in self.files.get(folder, {})]

    def write_file_atomic(self, folder: str, name: str, data: bytes) -> str:
        self.files.setdefault(folder, {})[name] = data
        return f"{folder}/{name}"


def stored_order(store: st.HubStore, *, state=st.DONE, po: str = "PO-855-1") -> int:
    """An ACME order saved and its ERP delivery finished in ``state``."""
    with store.transaction() as conn:
        saved = st.save_order(conn, order(po=po), receipt_id=None, now=NOW)
        st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)
        delivery = st.delivery_of(conn, order_id=saved.stored_id, target="erp")
        assert delivery is not None
        st.finish_delivery(conn, delivery.id, state=state, now=NOW, external_ref="S00042" if state == st.DONE else None)
        if state == st.DEAD:
            st.open_exception(conn, channel="erp", kind="erp_rejected", reason="the ERP refused the order: no product",
                              order_id=saved.stored_id, partner_id="acme", now=NOW)
        return saved.stored_id


def outbound(store: st.HubStore) -> list[st.OutboundDocument]:
    with store.transaction() as conn:
        return [d for d in st.pending_outbound(conn) if d.kind == "855"]


def test_an_order_in_the_erp_gets_one_855_ad_and_a_rerun_sends_no_second(store):
    partners = acme_855()
    order_id = stored_order(store)
    first = queue_po_acknowledgments(store, partners, now=NOW)
    again = queue_po_acknowledgments(store, partners, now=NOW)
    assert first.queued == ["855/acme/PO-855-1/r1"] and again.queued == []
    (document,) = outbound(store)
    assert "BAK*00*AD*PO-855-1*20261201****S00042*20261204~" in document.content
    assert document.file_name == "855_ACMERETAIL_000000001.x12" and document.control_number == "000000001"
    with store.transaction() as conn:
        (po_ack,) = po_acks_of(conn, order_id=order_id)
        assert (po_ack.ack_type, po_ack.group_control, po_ack.set_control) == ("AD", "1", "0001")
        assert any(e["kind"] == "acknowledged" for e in st.order_events_of(conn, order_id))


def test_the_855_continues_the_partners_ack_numbers(sqlite_store):
    with sqlite_store.transaction() as conn:  # two 997 interchanges went out before
        for _ in range(2):
            st.next_control_number(conn, "acme", "interchange")
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, acme_855(), now=NOW)
    assert outbound(sqlite_store)[0].control_number == "000000003"


def test_an_order_the_erp_refused_gets_an_rj(sqlite_store):
    stored_order(sqlite_store, state=st.DEAD)
    queue_po_acknowledgments(sqlite_store, acme_855(), now=NOW)
    (document,) = outbound(sqlite_store)
    assert "BAK*00*RJ*PO-855-1*" in document.content
    assert [s for s in document.content.splitlines() if s.startswith("ACK")] == ["ACK*IR*10*EA~", "ACK*IR*3*CA~"]


@pytest.mark.parametrize("state", [st.PENDING, st.FAILED])
def test_an_order_not_yet_done_in_the_erp_waits(sqlite_store, state):
    stored_order(sqlite_store, state=state)
    assert queue_po_acknowledgments(sqlite_store, acme_855(), now=NOW).queued == []


def test_a_partner_that_does_not_ask_gets_none(sqlite_store):
    stored_order(sqlite_store)
    assert queue_po_acknowledgments(sqlite_store, PartnerDirectory([PARTNERS.get("acme")]), now=NOW).queued == []


def test_a_new_po_version_gets_its_own_855(sqlite_store):
    partners = acme_855()
    order_id = stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    with sqlite_store.transaction() as conn:  # a replacement was delivered: revision 2
        conn.execute(st.tables.orders.update().where(st.tables.orders.c.id == order_id).values(revision=2))
    assert queue_po_acknowledgments(sqlite_store, partners, now=NOW).queued == ["855/acme/PO-855-1/r2"]


def test_an_855_that_fails_our_maps_is_an_exception_and_uses_no_control_number(sqlite_store, monkeypatch):
    import hub.delivery._acks855 as module

    real = module.build_855
    monkeypatch.setattr(module, "build_855", lambda *a, **k: real(*a, **k).replace("ACK*IA*", "ACK*ZZ*"))
    stored_order(sqlite_store)
    summary = queue_po_acknowledgments(sqlite_store, acme_855(), now=NOW)
    assert summary.queued == [] and summary.invalid == ["855/acme/PO-855-1/r1"]
    assert outbound(sqlite_store) == []
    with sqlite_store.transaction() as conn:
        (exception,) = st.list_exceptions(conn)
        assert exception.kind == OUTBOUND_INVALID and "ACK" in exception.reason
    monkeypatch.setattr(module, "build_855", real)  # fixed: the next pass builds it, numbered 1, and closes it
    assert queue_po_acknowledgments(sqlite_store, acme_855(), now=NOW).queued == ["855/acme/PO-855-1/r1"]
    assert outbound(sqlite_store)[0].control_number == "000000001"
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []


def test_an_invalid_outbound_document_goes_to_the_exception_queue_not_the_partner(sqlite_store):
    partners = acme_855()
    stored_order(sqlite_store)
    stored_order(sqlite_store, po="PO-855-2")
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    bad, good = outbound(sqlite_store)
    with sqlite_store.transaction() as conn:  # a bad element forced into the queued text: ACK01 not a code
        conn.execute(st.tables.outbound_documents.update().where(st.tables.outbound_documents.c.id == bad.id)
                     .values(content=bad.content.replace("ACK*IA*10*", "ACK*XX*10*")))
    folders = Folders()
    written = send_pending_acks(sqlite_store, partners, folders, now=NOW)
    assert written == [f"acme/outbound/{good.file_name}"]
    assert bad.file_name not in folders.files["acme/outbound"]
    with sqlite_store.transaction() as conn:
        assert st.get_outbound(conn, bad.id).state == st.OutboundState.FAILED
        (exception,) = st.list_exceptions(conn)
    assert exception.kind == st.ExceptionKind.ACK_NOT_SENT
    assert "fails validation against our maps" in exception.reason and "ACK" in exception.reason


def _partner_997(group_control: str, status: str = "A") -> bytes:
    """ACME's 997 for our 855 group ``group_control``."""
    group = GroupAck("PR", group_control, "004010", 1, [SetAck("855", "0001", status)])
    text = build_functional_ack("997", ours=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"),
                                theirs=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), interchange_control=900,
                                groups=[(group, 77, 1)], isa12="00401", test=False, now=NOW)
    return text.encode()


def _receive(store: st.HubStore, partners: PartnerDirectory, data: bytes, name: str) -> None:
    with store.transaction() as conn:
        sha = st.archive_raw(conn, data, now=NOW)
        receipt = st.record_receipt(conn, channel="sftp", partner_id="acme", source_name=name, raw_sha256=sha, now=NOW)
    process_x12_receipt(store, partners, receipt.id, now=NOW)


def test_no_997_within_the_sla_is_an_exception_closed_when_the_997_arrives(store):
    partners = acme_855(ack_sla_hours=24)
    stored_order(store)
    queue_po_acknowledgments(store, partners, now=NOW)
    sent_at = NOW + dt.timedelta(minutes=5)
    send_pending_acks(store, partners, Folders(), now=sent_at)
    assert open_overdue_acks(store, now=sent_at + dt.timedelta(hours=23, minutes=59)).overdue == []
    late = sent_at + dt.timedelta(hours=24, minutes=1)
    assert open_overdue_acks(store, now=late).overdue == ["855/acme/PO-855-1/r1"]
    assert open_overdue_acks(store, now=late).overdue == ["855/acme/PO-855-1/r1"]  # the same one, not two
    with store.transaction() as conn:
        (overdue,) = st.list_exceptions(conn)
        assert overdue.kind == ACK_OVERDUE and "ack SLA is 24 h" in overdue.reason

    _receive(store, partners, _partner_997("1"), "997_from_acme.x12")  # the intake matches it to our 855
    with store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        (po_ack,) = po_acks_of(conn)
        assert po_ack.fa_status == "A" and po_ack.fa_received_at is not None
    assert open_overdue_acks(store, now=late + dt.timedelta(days=3)).overdue == []


def test_a_997_that_rejects_our_855_is_an_exception(sqlite_store):
    partners = acme_855()
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)
    _receive(sqlite_store, partners, _partner_997("1", status="R"), "997_rejecting.x12")
    with sqlite_store.transaction() as conn:
        (exception,) = st.list_exceptions(conn)
        assert po_acks_of(conn)[0].fa_status == "R"
    assert exception.kind == st.ExceptionKind.OUTBOUND_REJECTED and "status R" in exception.reason


def test_a_997_filed_as_unsupported_before_is_matched_by_the_next_run(sqlite_store, monkeypatch):
    import hub.intake._x12 as intake

    partners = acme_855(ack_sla_hours=1)
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)
    open_overdue_acks(sqlite_store, now=NOW + dt.timedelta(hours=2))
    monkeypatch.setattr(intake, "apply_outbound_functional_ack", lambda conn, **kw: None)  # not matched
    _receive(sqlite_store, partners, _partner_997("1"), "997_from_acme.x12")
    monkeypatch.undo()
    with sqlite_store.transaction() as conn:
        assert {e.kind for e in st.list_exceptions(conn)} == {ACK_OVERDUE, "unsupported_transaction_set"}
    summary = record_partner_functional_acks(sqlite_store, partners, now=NOW)
    assert summary.functional_acks == ["855/acme/PO-855-1/r1"]
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        assert po_acks_of(conn)[0].fa_status == "A"


def test_a_997_for_something_else_stays_in_the_queue(sqlite_store):
    partners = acme_855()
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    _receive(sqlite_store, partners, _partner_997("424242"), "997_other.x12")
    assert record_partner_functional_acks(sqlite_store, partners, now=NOW).functional_acks == []
    with sqlite_store.transaction() as conn:
        assert [e.kind for e in st.list_exceptions(conn)] == ["unsupported_transaction_set"]
        assert po_acks_of(conn)[0].fa_received_at is None


@pytest.mark.integration
def test_855s_reach_the_partners_folder_on_a_real_sftp_server_once(sqlite_store, openssh_server):
    partners = acme_855()
    outbound_dir = openssh_server.make_folder("acme/outbound")
    stored_order(sqlite_store)
    for _ in range(2):  # a re-run (the schedule's next tick) neither queues nor writes a second 855
        queue_po_acknowledgments(sqlite_store, partners, now=NOW)
        with SftpClient(openssh_server.sftp_config()) as client:
            send_pending_acks(sqlite_store, partners, client, partner_id="acme", now=NOW)
    # The session's SFTP tests share acme/outbound (the 810 tests write there too): count only 855s.
    files = sorted(p.name for p in outbound_dir.iterdir() if p.name.startswith("855_"))
    assert files == ["855_ACMERETAIL_000000001.x12"]
    assert "BAK*00*AD*PO-855-1*" in (outbound_dir / files[0]).read_text()


@pytest.mark.integration
def test_the_dagster_asset_writes_each_855_once_over_sftp(tmp_path, openssh_server):
    import dagster as dg

    from hub.defs.edi.acknowledgments import edi_po_acknowledgments
    from hub.defs.resources import HubStoreResource, SftpResource
    from hub.settings import sqlite_url
    from tests.fixtures.partners import REPO

    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    profile = (REPO / "mappings" / "partners" / "acme.yaml").read_text()
    assert "    sftp:\n" in profile
    (partners_dir / "acme.yaml").write_text(profile.replace("    sftp:\n", "    send_855: true\n    sftp:\n"))
    url = sqlite_url(tmp_path / "hub.sqlite3")
    store = st.HubStore(url).migrate()
    stored_order(store)
    outbound_dir = openssh_server.make_folder("acme/outbound")
    server = openssh_server
    resources = {
        "hub_store": HubStoreResource(database_url=url, partners_dir=str(partners_dir), max_document_bytes=1 << 20),
        "sftp": SftpResource(host=server.host, port=server.port, username=server.username,
                             private_key_path=str(server.private_key_path),
                             known_hosts_path=str(server.known_hosts_path)),
    }
    from hub.defs.edi.acknowledgments import every_order_acknowledged

    check = dg.materialize([every_order_acknowledged], resources=resources,
                           selection=dg.AssetSelection.all_asset_checks())
    assert [e.passed for e in check.get_asset_check_evaluations()] == [False]  # the order waits for its 855
    first = dg.materialize([edi_po_acknowledgments, every_order_acknowledged], resources=resources)
    assert [e.passed for e in first.get_asset_check_evaluations()] == [True]
    second = dg.materialize([edi_po_acknowledgments], resources=resources)
    metadata = [r.asset_materializations_for_node("edi_po_acknowledgments")[0].metadata for r in (first, second)]
    assert metadata[0]["queued_855"].value == ["855/acme/PO-855-1/r1"] and metadata[1]["queued_855"].value == []
    assert [p.name for p in outbound_dir.iterdir() if p.name.startswith("855_")] == ["855_ACMERETAIL_000000001.x12"]
    store.dispose()


def test_replaying_an_ack_overdue_says_what_settles_it(sqlite_store):
    from hub.replay import replay_exception

    partners = acme_855(ack_sla_hours=1)
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)
    open_overdue_acks(sqlite_store, now=NOW + dt.timedelta(hours=2))
    with sqlite_store.transaction() as conn:
        (exception,) = st.list_exceptions(conn)
    outcome = replay_exception(sqlite_store, partners, exception.id, now=NOW)
    assert not outcome.done and "997 arrives" in outcome.message


def test_a_005010_partner_gets_a_005010_855_from_its_first_control_number(sqlite_store):
    profile = PARTNERS.get("greenleaf")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel) and channel.x12.first_control_number == 5001
    partners = PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_855": True}))])
    with sqlite_store.transaction() as conn:
        saved = st.save_order(conn, order(partner_id="greenleaf"), receipt_id=None, now=NOW)
        st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)
        delivery = st.delivery_of(conn, order_id=saved.stored_id, target="erp")
        assert delivery is not None
        st.finish_delivery(conn, delivery.id, state=st.DONE, now=NOW, external_ref="S7")
    queue_po_acknowledgments(sqlite_store, partners, now=NOW)
    (document,) = outbound(sqlite_store)
    isa, gs = document.content.splitlines()[:2]
    assert isa.split("*")[12:14] == ["00501", "000005001"] and isa.split("*")[8].strip() == "0614141000036"
    assert gs == "GS*PR*ORDERHUB*GREENLEAF*20261204*0930*5001*X*005010~"
    assert "ST*855*5001~" in document.content


def test_concurrent_runs_queue_one_855_and_leave_no_gap_in_the_numbers(store):
    import threading

    partners = acme_855()
    stored_order(store)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            queue_po_acknowledgments(store, partners, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    stored_order(store, po="PO-855-2")
    queue_po_acknowledgments(store, partners, now=NOW)
    documents = outbound(store)
    assert [d.control_number for d in documents] == ["000000001", "000000002"]
    assert ["PO-855-1" in documents[0].content, "PO-855-2" in documents[1].content] == [True, True]


def test_orders_that_wait_do_not_starve_the_ones_done(sqlite_store):
    from hub.store._po_acks import orders_to_acknowledge

    for n in range(3):
        stored_order(sqlite_store, state=st.FAILED, po=f"PO-WAIT-{n}")
    done = stored_order(sqlite_store, po="PO-DONE")
    with sqlite_store.transaction() as conn:
        listed = orders_to_acknowledge(conn, partner_id="acme", targets=("erp",), limit=1)
    assert [item.order_id for item in listed] == [done]
