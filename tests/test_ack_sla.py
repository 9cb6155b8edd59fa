"""The partner's 997 for our 856s and 846s is awaited within its ``ack_sla_hours``, as for 855s and 810s
(hub.store._ack_sla): unanswered past it, ``ack_overdue``; the late 997 closes it. Real intake for the 997s."""

from __future__ import annotations

import datetime as dt

from hub import store as st
from hub.delivery import send_pending_acks
from hub.delivery._acks855 import open_overdue_outbound
from hub.delivery._asn import queue_ship_notices
from hub.delivery._inventory846 import queue_inventory_846
from hub.store._ack_sla import awaited_acks
from hub.store._asns import asns_of
from mappings.profiles import PartnerDirectory, X12SftpChannel
from tests.edi855_orders import NOW
from tests.test_855_sending import Folders, _receive
from tests.test_856_sending import FULL, FakeErp, _partner_997_for_856, acme_856, stored_order
from tests.test_inventory import stock
from tests.test_stock_publish_846 import _partner_997_for_846, acme_846

ASN = "856/acme/PO-855-1/WH/OUT/00007"


def with_sla(partners: PartnerDirectory, hours: int) -> PartnerDirectory:
    """The same partner with another ``ack_sla_hours``."""
    (profile,) = partners
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    return PartnerDirectory([profile.with_channel(channel.model_copy(update={"ack_sla_hours": hours}))])


def open_kinds(store: st.HubStore) -> list[tuple[str, str | None]]:
    with store.transaction() as conn:
        return [(e.kind, e.document_ref) for e in st.list_exceptions(conn, state=st.OPEN)]


def test_an_856_unanswered_past_the_partners_sla_is_overdue_until_the_997_comes(sqlite_store):
    partners = with_sla(acme_856(), 2)
    stored_order(sqlite_store)
    assert queue_ship_notices(sqlite_store, partners, FakeErp(FULL), now=NOW).queued == [ASN]
    assert open_overdue_outbound(sqlite_store, ("856",), now=NOW + dt.timedelta(days=9)) == [], \
        "queued, not written yet: nothing is awaited"
    sent_at = NOW + dt.timedelta(minutes=5)
    send_pending_acks(sqlite_store, partners, Folders(), now=sent_at)

    assert open_overdue_outbound(sqlite_store, ("856",), now=sent_at + dt.timedelta(hours=1, minutes=59)) == []
    late = sent_at + dt.timedelta(hours=2, minutes=1)
    assert open_overdue_outbound(sqlite_store, ("856",), now=late) == [ASN]
    assert open_overdue_outbound(sqlite_store, ("856",), now=late) == [ASN]  # the same one, not two
    assert open_kinds(sqlite_store) == [(st.ExceptionKind.ACK_OVERDUE, ASN)]
    with sqlite_store.transaction() as conn:
        (overdue,) = st.list_exceptions(conn, state=st.OPEN)
        (asn,) = asns_of(conn)
    assert "ack SLA is 2 h" in overdue.reason and overdue.order_id == asn.order_id

    _receive(sqlite_store, partners, _partner_997_for_856(asn.group_control, "A", 900), "997_856.x12")
    assert open_kinds(sqlite_store) == []
    with sqlite_store.transaction() as conn:
        assert st.get_exception(conn, overdue.id).state == st.RESOLVED
        assert awaited_acks(conn, "856") == []
    assert open_overdue_outbound(sqlite_store, ("856",), now=late + dt.timedelta(days=3)) == []


def test_an_846_unanswered_past_the_partners_sla_is_overdue_until_the_997_comes(sqlite_store):
    partners = acme_846()  # the profile's default SLA: 24 h
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0")})
    assert queue_inventory_846(sqlite_store, partners, now=NOW).queued == {"acme": 1}
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)

    assert open_overdue_outbound(sqlite_store, ("846",), now=NOW + dt.timedelta(hours=23, minutes=59)) == []
    late = NOW + dt.timedelta(hours=24, minutes=1)
    assert open_overdue_outbound(sqlite_store, ("846",), now=late) == ["846/acme/1"]
    assert open_kinds(sqlite_store) == [(st.ExceptionKind.ACK_OVERDUE, "846/acme/1")]
    with sqlite_store.transaction() as conn:
        (awaited,) = awaited_acks(conn, "846")
    assert (awaited.partner_id, awaited.group_control, awaited.ack_due_hours) == ("acme", "1", 24)

    _receive(sqlite_store, partners, _partner_997_for_846(awaited.group_control), "997_846.x12")
    assert open_kinds(sqlite_store) == []
    assert open_overdue_outbound(sqlite_store, ("846",), now=late + dt.timedelta(days=3)) == []


def test_846s_queued_before_the_upgrade_still_match_their_997_and_are_not_reported_overdue(tmp_path):
    from alembic import command

    from hub.settings import sqlite_url
    from hub.store._ack_sla import apply_outbound_functional_ack
    from hub.store._engine import alembic_config, make_engine

    engine = make_engine(sqlite_url(tmp_path / "hub.sqlite3"))
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0016_published_stock")
        connection.execute(st.tables.outbound_documents.insert().values(
            partner_id="acme", kind="846", control_number="000000007", file_name="846_ACMERETAIL_000000007.x12",
            content="ISA*00*...~\nGS*IB*ORDERHUB*ACMERETAIL*20261204*0900*7*X*004010~\nST*846*0001~\n",
            state="sent", created_at=NOW, sent_at=NOW))
        command.upgrade(config, "head")
    store = st.HubStore(engine.url.render_as_string(hide_password=False))
    with store.transaction() as conn:
        assert awaited_acks(conn, "846") == [], "nobody tracked it: not reported overdue after the upgrade"
        row = apply_outbound_functional_ack(conn, partner_id="acme", functional_ack=("IB", "7", "R"),
                                            document_ref="997_late.x12", raw_sha256=None, now=NOW)
        assert row is not None and row.reference == "846/acme/7"
        (rejected,) = st.list_exceptions(conn, state=st.OPEN)
    assert rejected.kind == st.ExceptionKind.OUTBOUND_REJECTED and "status R" in rejected.reason
    store.dispose()
    engine.dispose()
