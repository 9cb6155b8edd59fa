"""810s end to end: invoiced through the hold gate in the sandbox ERP (never sent while held), and the
Dagster asset writing each 810 once to the partner's folder on a real OpenSSH server."""

from __future__ import annotations

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.accounting import invoice_order
from hub.delivery._invoices810 import queue_invoices_810
from hub.store import InvoiceState
from hub.targets import OdooAccountingTarget
from mappings.odoo import OdooSalesGateway
from mappings.x12._outbound_check import outbound_problems
from tests.edi855_orders import NOW
from tests.fixtures.erp import ERP_API_KEY
from tests.test_810_sending import acme_810, invoice, outbound, stored_order
from tests.test_erp_sandbox import make_order
from tests.test_holds import PO, invoice_by_hand


@pytest.fixture
def erp_client(erp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": 5})
    with OdooJson2Client(config) as client:
        yield client


def test_an_invoice_held_by_the_match_gets_its_810_only_once_released_and_posted(erp, erp_client, sqlite_store):
    partners = acme_810()
    order = make_order(PO)
    OdooSalesGateway(erp_client).push_sale_order(order, client_order_ref=PO)
    erp.confirm_sale_order(PO)
    with sqlite_store.transaction() as conn:
        order_id = st.save_order(conn, order, receipt_id=None, now=NOW).stored_id
    target = OdooAccountingTarget(erp_client)
    erp.deliver(PO, [3, 2])
    invoice_by_hand(erp, erp_client, [3, 2])  # billed already in the ERP: ours would over-bill, it is held

    (held,) = invoice_order(sqlite_store, target, order, order_id=order_id)
    assert held.action == "held"
    assert queue_invoices_810(sqlite_store, partners, now=NOW).queued == []
    assert outbound(sqlite_store) == []

    with sqlite_store.transaction() as conn:
        (ours,) = st.list_invoices(conn)
        assert st.release_invoice(conn, ours.id, actor="maria", note="agreed with the customer", now=NOW)
    assert queue_invoices_810(sqlite_store, partners, now=NOW).queued == []  # released is not posted yet
    (posted,) = invoice_order(sqlite_store, target, order, order_id=order_id)
    assert posted.action == "posted"

    assert queue_invoices_810(sqlite_store, partners, now=NOW).queued == [f"810/orderhub:acme:{PO}/1"]
    assert queue_invoices_810(sqlite_store, partners, now=NOW).queued == []
    (document,) = outbound(sqlite_store)
    assert f"*{posted.record}*20250314*{PO}***DI~" in document.content
    assert "IT1*1*3*EA*4.4**VN*WID-100~" in document.content
    assert "IT1*2*2*EA*19.9**UK*00012345678929~" in document.content  # the 850's GTIN, ordered by barcode
    assert "TDS*5300~" in document.content and outbound_problems(document.content) == []


@pytest.mark.integration
def test_the_dagster_asset_writes_each_810_once_over_sftp(tmp_path, openssh_server):
    import dagster as dg

    from hub.defs.edi.invoices810 import edi_invoices_810, every_posted_invoice_sent_as_810
    from hub.defs.resources import HubStoreResource, SftpResource
    from hub.settings import sqlite_url
    from tests.fixtures.partners import REPO

    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    profile = (REPO / "mappings" / "partners" / "acme.yaml").read_text()
    assert "    sftp:\n" in profile
    (partners_dir / "acme.yaml").write_text(profile.replace("    sftp:\n", "    send_810: true\n    sftp:\n"))
    url = sqlite_url(tmp_path / "hub.sqlite3")
    store = st.HubStore(url).migrate()
    order_id = stored_order(store)
    invoice(store, order_id)
    invoice(store, order_id, state=InvoiceState.HELD, number=2)  # held by the match: not sent
    outbound_dir = openssh_server.make_folder("acme/outbound")
    server = openssh_server
    resources = {
        "hub_store": HubStoreResource(database_url=url, partners_dir=str(partners_dir), max_document_bytes=1 << 20),
        "sftp": SftpResource(host=server.host, port=server.port, username=server.username,
                             private_key_path=str(server.private_key_path),
                             known_hosts_path=str(server.known_hosts_path)),
    }
    check = dg.materialize([every_posted_invoice_sent_as_810], resources=resources,
                           selection=dg.AssetSelection.all_asset_checks())
    assert [e.passed for e in check.get_asset_check_evaluations()] == [False]  # the posted invoice waits
    first = dg.materialize([edi_invoices_810, every_posted_invoice_sent_as_810], resources=resources)
    assert [e.passed for e in first.get_asset_check_evaluations()] == [True]
    second = dg.materialize([edi_invoices_810], resources=resources)
    metadata = [r.asset_materializations_for_node("edi_invoices_810")[0].metadata for r in (first, second)]
    assert metadata[0]["queued_810"].value == ["810/orderhub:acme:PO-855-1/1"]
    assert metadata[1]["queued_810"].value == []
    assert [p.name for p in outbound_dir.iterdir() if p.name.startswith("810_")] == ["810_ACMERETAIL_000000001.x12"]
    assert "BIG*20261204*INV/2026/00001*" in (outbound_dir / "810_ACMERETAIL_000000001.x12").read_text()
    store.dispose()
