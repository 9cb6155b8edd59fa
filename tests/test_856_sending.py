"""Sending 856s (hub/delivery/_asn.py): one per done ERP delivery, validated before upload, numbers gap-free.

Tests taking ``store`` run on SQLite and PostgreSQL; ``erp`` is the sandbox Odoo serving stock.picking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from connectors.erp._pickings import OdooPickings, PickedQuantity, Picking
from hub import store as st
from hub.delivery import deliver_due_orders, send_pending_acks
from hub.delivery._asn import OUTBOUND_INVALID, deliveries_without_asn, queue_ship_notices
from hub.store._asns import asns_of
from hub.store._shipments import mark_shipment_bought, record_shipment_created
from hub.targets import OdooTarget
from mappings.asn_settings import AsnSettings
from mappings.odoo import OdooSalesGateway
from mappings.profiles import CarrierAddress, CarrierRouting, PartnerDirectory, TargetRef, X12SftpChannel
from mappings.x12._856_check import asn_problems
from mappings.x12._sscc import is_valid_sscc
from tests.edi855_orders import NOW, order
from tests.fixtures.erp import ERP_API_KEY
from tests.fixtures.partners import PARTNERS
from tests.test_855_sending import Folders

PREFIX = "0614141"


def acme_856(*, targets: list[TargetRef] | None = None, **settings) -> PartnerDirectory:
    """ACME asking for 856s (its shipped profile does not)."""
    profile = PARTNERS.get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    asn = AsnSettings(gs1_company_prefix=PREFIX, **settings)
    profile = profile.with_channel(channel.model_copy(update={"asn": asn}))
    if targets is not None:
        profile = profile.model_copy(update={"targets": targets})
    return PartnerDirectory([profile])


def stored_order(store: st.HubStore, *, po: str = "PO-855-1", sale_order_id: int = 42) -> int:
    """The 855 tests' ACME order (line 1: SKU-1 x 10 EA; line 2: SKU-2 x 3 CA), in the ERP as ``sale_order_id``."""
    with store.transaction() as conn:
        saved = st.save_order(conn, order(po=po), receipt_id=None, now=NOW)
        st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)
        delivery = st.delivery_of(conn, order_id=saved.stored_id, target="erp")
        assert delivery is not None
        st.finish_delivery(conn, delivery.id, state=st.DONE, now=NOW, external_ref="S00042",
                           external_id=str(sale_order_id))
        return saved.stored_id


def picking(picking_id: int, *contents: tuple[str, float, str | None], sale_order_id: int = 42,
            tracking: str = "") -> Picking:
    return Picking(id=picking_id, name=f"WH/OUT/{picking_id:05d}", sale_order_id=sale_order_id, origin="S00042",
                   date_done=NOW, tracking_ref=tracking, carrier="", weight=Decimal("12.5"),
                   contents=tuple(PickedQuantity(product_id=1, default_code=code, barcode="", quantity=Decimal(str(q)),
                                                 package=package) for code, q, package in contents))


class FakeErp:
    """Done deliveries per sale order id, as ``OdooPickings`` returns them; counts the reads."""

    def __init__(self, *pickings: Picking) -> None:
        self.pickings = list(pickings)
        self.reads = 0

    def done_deliveries(self, sale_order_ids):
        self.reads += 1
        return {i: [p for p in self.pickings if p.sale_order_id == i] for i in sale_order_ids}


def outbound(store: st.HubStore) -> list[st.OutboundDocument]:
    with store.transaction() as conn:
        return [d for d in st.pending_outbound(conn) if d.kind == "856"]


FULL = picking(7, ("SKU-1", 6, "PACK1"), ("SKU-1", 4, "PACK2"), ("SKU-2", 3, "PACK2"))


def test_a_done_delivery_gets_one_856_and_a_rerun_sends_no_second(store):
    order_id = stored_order(store)
    erp = FakeErp(FULL)
    first = queue_ship_notices(store, acme_856(), erp, now=NOW)
    again = queue_ship_notices(store, acme_856(), erp, now=NOW)
    assert first.queued == ["856/acme/PO-855-1/WH/OUT/00007"] and again.queued == []
    (document,) = outbound(store)
    assert asn_problems(document.content, "004010") == []
    assert document.file_name == "856_ACMERETAIL_000000001.x12"
    with store.transaction() as conn:
        (asn,) = asns_of(conn, order_id=order_id)
        assert asn.complete and asn.picking_name == "WH/OUT/00007"
        assert asn.ssccs == ["006141410000000012", "006141410000000029"]  # serials 1, 2 of our prefix
        assert any(e["kind"] == "ship_notice" for e in st.order_events_of(conn, order_id))
    assert [line for line in document.content.splitlines() if line.startswith("MAN")] == [
        "MAN*GM*006141410000000012~", "MAN*GM*006141410000000029~"]
    assert "SN1*1*6*EA**10*EA~" in document.content and "SN1*2*3*CA**3*CA~" in document.content
    # A complete order is not read from the ERP again.
    reads = erp.reads
    queue_ship_notices(store, acme_856(), erp, now=NOW)
    assert erp.reads == reads


def test_a_partial_delivery_then_the_rest_get_an_856_each_with_new_ssccs(sqlite_store):
    order_id = stored_order(sqlite_store)
    erp = FakeErp(picking(7, ("SKU-1", 6, "PACK1")))
    queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    erp.pickings.append(picking(8, ("SKU-1", 4, "PACK3"), ("SKU-2", 3, "PACK3")))
    second = queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    assert second.queued == ["856/acme/PO-855-1/WH/OUT/00008"]
    with sqlite_store.transaction() as conn:
        first_asn, second_asn = asns_of(conn, order_id=order_id)
    assert (first_asn.complete, second_asn.complete) == (False, True)
    assert first_asn.ssccs + second_asn.ssccs == ["006141410000000012", "006141410000000029"]
    assert [d.control_number for d in outbound(sqlite_store)] == ["000000001", "000000002"]


def test_soi_hierarchy_and_the_partners_sscc_convention(sqlite_store):
    stored_order(sqlite_store)
    queue_ship_notices(sqlite_store, acme_856(hierarchy="SOI", sscc_extension_digit=3, sscc_with_ai=True),
                       FakeErp(FULL), now=NOW)
    (document,) = outbound(sqlite_store)
    lines = document.content.splitlines()
    assert "*0004~" in next(line for line in lines if line.startswith("BSN"))
    marks = [line.removeprefix("MAN*GM*").rstrip("~") for line in lines if line.startswith("MAN")]
    assert [m[:2] for m in marks] == ["00", "00"] and all(is_valid_sscc(m[2:]) and m[2] == "3" for m in marks)
    assert not any(line.startswith("HL") and "*P*" in line for line in lines)


def test_the_carriers_label_gives_tracking_and_scac(sqlite_store):
    routing = CarrierRouting(ship_from=CarrierAddress(company="Us", street1="1 Main", city="Reno", zip="89501"),
                             scac_carriers={"UPSN": "UPS"})
    partners = acme_856(targets=[TargetRef(kind="odoo", name="erp"),
                                 TargetRef(kind="easypost", name="carrier", carrier=routing)])
    stored_order(sqlite_store)
    with sqlite_store.transaction() as conn:
        row = record_shipment_created(conn, target="carrier", reference="acme:PO-855-1", partner_id="acme",
                                      po_number="PO-855-1", mode="test", shipment_id="shp_1")
        mark_shipment_bought(conn, row.id, rate_id="rate_1", carrier="UPS", service="Ground", rate=Decimal("9.1"),
                             tracking_code="1Z999AA10123456784", label_url=None, tracker_id=None, tracking_status=None)
    queue_ship_notices(sqlite_store, partners, FakeErp(picking(7, ("SKU-1", 10, None), tracking="ERP-REF")), now=NOW)
    (document,) = outbound(sqlite_store)
    assert "TD5**2*UPSN*M~" in document.content and "REF*CN*1Z999AA10123456784~" in document.content
    assert "ERP-REF" not in document.content


def test_without_a_label_the_erps_tracking_ref_and_the_profiles_scac(sqlite_store):
    stored_order(sqlite_store)
    queue_ship_notices(sqlite_store, acme_856(scac="FDEG"), FakeErp(picking(7, ("SKU-1", 10, None), tracking="7489")),
                       now=NOW)
    (document,) = outbound(sqlite_store)
    assert "TD5**2*FDEG*M~" in document.content and "REF*CN*7489~" in document.content


def test_a_delivery_that_cannot_be_told_opens_an_exception_and_gives_its_numbers_back(sqlite_store):
    order_id = stored_order(sqlite_store)
    erp = FakeErp(picking(7, ("NOT-ON-THE-ORDER", 1, None)))
    summary = queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    assert summary.queued == [] and summary.invalid == ["856/acme/PO-855-1/WH/OUT/00007"]
    with sqlite_store.transaction() as conn:
        (item,) = st.list_exceptions(conn, state=st.OPEN)
        assert item.kind == OUTBOUND_INVALID and "NOT-ON-THE-ORDER" in item.reason and item.order_id == order_id
    assert len(deliveries_without_asn(sqlite_store, acme_856(), erp)) == 1
    erp.pickings = [picking(7, ("SKU-1", 10, None), ("SKU-2", 3, None))]  # the product was corrected in the ERP
    assert queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW).queued == ["856/acme/PO-855-1/WH/OUT/00007"]
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn, state=st.OPEN) == []  # closed by the 856 that went out
    (document,) = outbound(sqlite_store)
    assert document.control_number == "000000001"  # the failed build took no number
    assert "MAN*GM*006141410000000012~" in document.content  # nor an SSCC serial


def test_the_check_lists_done_deliveries_without_856_and_passes_after_the_pass(sqlite_store):
    stored_order(sqlite_store)
    erp = FakeErp(FULL)
    assert deliveries_without_asn(sqlite_store, acme_856(), erp) == [
        {"partner": "acme", "order_id": 1, "delivery": "WH/OUT/00007"}]
    queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    assert deliveries_without_asn(sqlite_store, acme_856(), erp) == []


def test_a_partner_that_does_not_ask_and_an_order_not_in_the_erp_get_none(sqlite_store):
    stored_order(sqlite_store)
    assert queue_ship_notices(sqlite_store, PartnerDirectory([PARTNERS.get("acme")]), FakeErp(FULL),
                              now=NOW).queued == []
    with sqlite_store.transaction() as conn:
        saved = st.save_order(conn, order(po="PO-2"), receipt_id=None, now=NOW)
        st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)  # pending: not in the ERP yet
    erp = FakeErp(FULL)
    assert queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW).queued == ["856/acme/PO-855-1/WH/OUT/00007"]


@pytest.mark.parametrize("hierarchy", ["SOPI", "SOI"])
def test_from_the_sandbox_erps_stock_picking_to_the_partners_folder(sqlite_store, erp, hierarchy):
    """The real path: the 850 pushed to the sandbox Odoo, the warehouse validates two cartons, the 856 uploaded."""
    from tests.faults.test_erp_faults import receive_pos

    receive_pos(sqlite_store, "PO-ASN-1")
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        assert deliver_due_orders(sqlite_store, OdooTarget(OdooSalesGateway(client)), now=NOW).pushed == 1
        (sale_order,) = erp.sale_orders()
        erp.confirm_sale_order(sale_order["client_order_ref"])
        partners = acme_856(hierarchy=hierarchy)
        pickings = OdooPickings(client)
        assert queue_ship_notices(sqlite_store, partners, pickings, now=NOW).queued == []  # nothing shipped yet
        name = erp.ship(sale_order["client_order_ref"], [[("WID-100", 1)], [("WID-100", 1)]],
                        tracking_ref="1Z999AA10123456784", carrier="UPS", weight=3.5)
        assert queue_ship_notices(sqlite_store, partners, pickings, now=NOW).queued == [
            f"856/acme/PO-ASN-1/{name}"]
        assert queue_ship_notices(sqlite_store, partners, pickings, now=NOW).queued == []
    folders = Folders()
    written = send_pending_acks(sqlite_store, partners, folders, partner_id="acme", now=NOW)
    (path,) = [p for p in written if "/856_" in p]
    text = folders.files["acme/outbound"][path.rsplit("/", 1)[1]].decode("ascii")
    assert asn_problems(text, "004010") == []
    assert text.count("MAN*GM*") == 2 and "REF*CN*1Z999AA10123456784~" in text and f"REF*BM*{name}~" in text
    assert "TD1*CTN25*2****G*3.5*LB~" in text
    assert send_pending_acks(sqlite_store, partners, folders, partner_id="acme", now=NOW) == []


class FakeSftp:
    """The ``sftp`` resource's one method the asset calls, over the in-memory folders."""

    def __init__(self) -> None:
        self.folders = Folders()

    def client(self):
        import contextlib

        return contextlib.nullcontext(self.folders)


def test_the_dagster_asset_and_its_check(tmp_path, erp):
    import dagster as dg

    from hub.defs.edi.asn import edi_ship_notices, every_shipped_order_has_an_asn
    from hub.defs.resources import HubStoreResource
    from hub.settings import sqlite_url
    from hub.targets.odoo._resource import ErpResource
    from tests.faults.test_erp_faults import receive_pos
    from tests.fixtures.partners import REPO

    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    profile = (REPO / "mappings" / "partners" / "acme.yaml").read_text()
    assert "    sftp:\n" in profile
    (partners_dir / "acme.yaml").write_text(profile.replace(
        "    sftp:\n", f"    asn: {{gs1_company_prefix: '{PREFIX}', hierarchy: SOI}}\n    sftp:\n"))
    url = sqlite_url(tmp_path / "hub.sqlite3")
    store = st.HubStore(url).migrate()
    receive_pos(store, "PO-ASN-2")
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        deliver_due_orders(store, OdooTarget(OdooSalesGateway(client)), now=NOW)
    (sale_order,) = erp.sale_orders()
    erp.confirm_sale_order(sale_order["client_order_ref"])
    erp.ship(sale_order["client_order_ref"], tracking_ref="1Z1")
    sftp = FakeSftp()
    resources = {
        "hub_store": HubStoreResource(database_url=url, partners_dir=str(partners_dir), max_document_bytes=1 << 20),
        "sftp": sftp,
        "erp_catalogue": ErpResource(base_url=erp.base_url, database=erp.database, api_key=ERP_API_KEY),
    }
    check = dg.materialize([every_shipped_order_has_an_asn], resources=resources,
                           selection=dg.AssetSelection.all_asset_checks())
    assert [e.passed for e in check.get_asset_check_evaluations()] == [False]  # shipped, no 856 yet
    first = dg.materialize([edi_ship_notices, every_shipped_order_has_an_asn], resources=resources)
    assert [e.passed for e in first.get_asset_check_evaluations()] == [True]
    second = dg.materialize([edi_ship_notices], resources=resources)
    metadata = [r.asset_materializations_for_node("edi_ship_notices")[0].metadata for r in (first, second)]
    assert metadata[0]["queued_856"].value == ["856/acme/PO-ASN-2/WH/OUT/00001"]
    assert metadata[1]["queued_856"].value == []
    names = [name for name in sftp.folders.files["acme/outbound"] if name.startswith("856_")]
    assert names == ["856_ACMERETAIL_000000002.x12"]  # 000000001 is the 997 for the 850
    store.dispose()


def test_replaying_an_856_that_cannot_be_told_says_the_next_run_retries_it(sqlite_store):
    from hub.replay import replay_exception

    stored_order(sqlite_store)
    queue_ship_notices(sqlite_store, acme_856(), FakeErp(picking(7, ("NOT-ON-THE-ORDER", 1, None))), now=NOW)
    with sqlite_store.transaction() as conn:
        (item,) = st.list_exceptions(conn, state=st.OPEN)
    outcome = replay_exception(sqlite_store, acme_856(), item.id, now=NOW)
    assert not outcome.done and "edi_ship_notices" in outcome.message


def test_orders_that_never_ship_do_not_starve_newer_ones(sqlite_store, monkeypatch):
    import hub.delivery._asn as asn

    monkeypatch.setattr(asn, "PAGE", 2)
    for n in range(1, 6):  # five orders in the ERP; only the last one ships
        stored_order(sqlite_store, po=f"PO-{n}", sale_order_id=n)
    erp = FakeErp(picking(9, ("SKU-1", 10, None), ("SKU-2", 3, None), sale_order_id=5))
    assert queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW).queued == ["856/acme/PO-5/WH/OUT/00009"]
    assert erp.reads == 3  # pages of 2, 2 and 1 orders


def _partner_997_for_856(group_control: str, status: str, control: int) -> bytes:
    """ACME's 997 for our 856 group ``group_control`` (AK1*SH)."""
    from mappings.x12._acks import AckAddress, GroupAck, SetAck, build_functional_ack

    group = GroupAck("SH", group_control, "004010", 1, [SetAck("856", "0001", status)])
    return build_functional_ack("997", ours=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"),
                                theirs=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), interchange_control=control,
                                groups=[(group, control, 1)], isa12="00401", test=False, now=NOW).encode()


@pytest.mark.parametrize(("status", "exceptions"), [("A", []), ("R", [st.ExceptionKind.OUTBOUND_REJECTED])])
def test_the_partners_997_for_our_856_is_recorded_not_queued_as_unsupported(sqlite_store, status, exceptions):
    from tests.test_855_sending import _receive

    order_id = stored_order(sqlite_store)
    queue_ship_notices(sqlite_store, acme_856(), FakeErp(FULL), now=NOW)
    with sqlite_store.transaction() as conn:
        (asn,) = asns_of(conn, order_id=order_id)
    _receive(sqlite_store, acme_856(), _partner_997_for_856(asn.group_control, status, 900), "997_856.x12")
    with sqlite_store.transaction() as conn:
        (asn,) = asns_of(conn, order_id=order_id)
        assert asn.fa_status == status and asn.fa_received_at is not None
        assert [e.kind for e in st.list_exceptions(conn, state=st.OPEN)] == exceptions
    # A 997 naming a group we never sent stays an exception for a person.
    _receive(sqlite_store, acme_856(), _partner_997_for_856("4242", "A", 901), "997_other.x12")
    with sqlite_store.transaction() as conn:
        kinds = [e.kind for e in st.list_exceptions(conn, state=st.OPEN)]
    assert st.ExceptionKind.UNSUPPORTED_TRANSACTION_SET in kinds


def test_two_lines_of_one_product_are_filled_in_line_order_across_deliveries(sqlite_store):
    from canonical.model import OrderLine

    twice = order().model_copy(update={"lines": [
        OrderLine(line_no="1", sku="SKU-1", quantity=Decimal(4), uom="EA"),
        OrderLine(line_no="2", sku="SKU-1", quantity=Decimal(6), uom="EA")]})
    with sqlite_store.transaction() as conn:
        saved = st.save_order(conn, twice, receipt_id=None, now=NOW)
        st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)
        delivery = st.delivery_of(conn, order_id=saved.stored_id, target="erp")
        assert delivery is not None
        st.finish_delivery(conn, delivery.id, state=st.DONE, now=NOW, external_id="42")
    erp = FakeErp(picking(7, ("SKU-1", 3, None)))
    queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    erp.pickings.append(picking(8, ("SKU-1", 7, None)))
    queue_ship_notices(sqlite_store, acme_856(), erp, now=NOW)
    first, second = (doc.content for doc in outbound(sqlite_store))
    assert [s for s in first.splitlines() if s.startswith("SN1")] == ["SN1*1*3*EA**4*EA~"]
    assert [s for s in second.splitlines() if s.startswith("SN1")] == ["SN1*1*1*EA**4*EA~", "SN1*2*6*EA**6*EA~"]
    with sqlite_store.transaction() as conn:
        assert [a.complete for a in asns_of(conn, order_id=saved.stored_id)] == [False, True]
