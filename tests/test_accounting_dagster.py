"""The ``erp_invoices`` asset: delivered orders invoiced through Dagster, a re-run creating nothing twice,
the hold gate, and an asset check per held category; the code location has the asset when a profile
delivers to the Odoo ERP."""

from __future__ import annotations

import dagster as dg
import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.defs.accounting.assets import build_invoicing_assets
from hub.defs.resources import ErpResource, HubStoreResource
from hub.delivery import deliver_due_orders
from hub.matching import EXCEPTIONS
from hub.targets import OdooTarget
from mappings.odoo import OdooSalesGateway
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present
from tests.test_erp_sandbox import make_order
from tests.test_holds import invoice_by_hand

PO = "4500012345"


@pytest.fixture
def client(erp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": 5})
    with OdooJson2Client(config) as client:
        yield client


@pytest.fixture
def delivered(tmp_path, erp, client):
    """The store's URL, with PO 4500012345 pushed to the sandbox ERP by the delivery loop, confirmed, shipped."""
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    store = st.HubStore(url).migrate()
    with store.transaction() as conn:
        saved = st.save_order(conn, make_order(PO), receipt_id=None, now=st.utcnow())
        st.enqueue_delivery(conn, order_id=present(saved.order_id), target="erp", now=st.utcnow())
    assert deliver_due_orders(store, OdooTarget(OdooSalesGateway(client))).pushed == 1
    erp.confirm_sale_order(PO)
    erp.deliver(PO, [3, 2])
    yield url
    store.dispose()


def materialize(url, erp):
    asset, checks = build_invoicing_assets("erp", dg.AssetKey("erp_sales_orders"), "erp")
    result = dg.materialize([asset, *checks], resources={
        "hub_store": HubStoreResource(database_url=url, partners_dir="mappings/partners"),
        "erp": ErpResource(base_url=erp.base_url, database=erp.database, api_key=ERP_API_KEY),
    }, raise_on_error=True)
    (materialization,) = result.asset_materializations_for_node("erp_invoices")
    checked = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    return materialization.metadata, checked


def test_the_asset_invoices_delivered_orders_and_a_re_run_creates_nothing_twice(delivered, erp):
    metadata, checked = materialize(delivered, erp)
    assert metadata["this_run"].value == {"posted": 1}
    assert len(checked) == len(EXCEPTIONS) and all(checked.values())

    before = len(erp.calls)
    metadata, _ = materialize(delivered, erp)
    assert metadata["this_run"].value == {} and metadata["by_state"].value == {"posted": 1}
    assert len(erp.records("account.move")) == 1 and erp.calls.count(("account.move", "create")) == 1
    # Nothing new: the pass read the deliveries of every order at once and looked at no invoice.
    assert erp.calls[before:] == [("sale.order", "search_read"), ("sale.order.line", "search_read")]

    erp.deliver(PO, [1, 2])  # a return: the next run credits it
    metadata, _ = materialize(delivered, erp)
    assert metadata["this_run"].value == {"credit_note_posted": 1}


def test_a_held_invoice_fails_its_category_check_until_released(delivered, erp, client):
    invoice_by_hand(erp, client, [3, 2])
    metadata, checked = materialize(delivered, erp)
    assert metadata["this_run"].value == {"held": 1}
    assert metadata["held_by_category"].value == {"over_billed": 1}
    assert checked["no_invoice_held_for_over_billed"] is False
    assert all(passed for name, passed in checked.items() if name != "no_invoice_held_for_over_billed")

    store = st.HubStore(delivered)
    with store.transaction() as conn:
        (held,) = st.list_invoices(conn, state=st.InvoiceState.HELD)
        st.release_invoice(conn, held.id, actor="maria", note="billed twice on purpose: deposit", now=st.utcnow())
    store.dispose()
    metadata, checked = materialize(delivered, erp)
    assert metadata["this_run"].value == {"posted": 1} and all(checked.values())
    assert len(erp.records("account.move")) == 2


def test_the_code_location_has_the_invoicing_asset_of_the_erp(monkeypatch, tmp_path):
    from hub.defs import build_definitions

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("erp_invoices") in graph.get_all_asset_keys()
    assert dg.AssetKey("erp_sales_orders") in graph.get(dg.AssetKey("erp_invoices")).parent_keys
    assert defs.resolve_job_def("erp_invoice_job") is not None


class RefusingOnce:
    """The real Odoo accounting target, except that its first create is refused (a closed period, say)."""

    def __init__(self, target):
        self.target, self.refused = target, False

    def __getattr__(self, name):
        return getattr(self.target, name)

    def create(self, order, draft):
        if not self.refused:
            self.refused = True
            from canonical.errors import RejectedDocument

            raise RejectedDocument("the accounting period is locked", location="account.move")
        return self.target.create(order, draft)


def test_a_refused_invoice_opens_an_exception_that_the_run_posting_it_closes(delivered, erp, client):
    from hub.defs.accounting.assets import invoice_delivered_orders
    from hub.targets import OdooAccountingTarget

    store = st.HubStore(delivered)
    target = RefusingOnce(OdooAccountingTarget(client))
    assert invoice_delivered_orders(store, target, None) == {"rejected": 1}
    with store.transaction() as conn:
        (queued,) = st.list_exceptions(conn, state=st.OPEN)
    assert (queued.kind, queued.channel, queued.document_ref) == ("erp_invoice_rejected", "erp_invoices",
                                                                  f"orderhub:acme:{PO}/1")
    assert "period is locked" in queued.reason and erp.records("account.move") == []

    assert invoice_delivered_orders(store, target, None) == {"posted": 1}
    with store.transaction() as conn:
        assert st.list_exceptions(conn, state=st.OPEN) == []
        assert "posted as INV/" in (st.get_exception(conn, queued.id).resolution or "")
    store.dispose()
