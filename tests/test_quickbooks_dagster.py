"""QuickBooks Online through Dagster: a profile's ``accounting: {kind: quickbooks}`` makes the ERP target's
``erp_invoices`` asset bill in QuickBooks (deliveries still read from the ERP), a re-run creates nothing twice,
and the rotated refresh token ends up in the hub store."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from canonical.errors import ConfigurationError
from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.defs.accounting.assets import build_invoicing_assets
from hub.defs.resources import ErpResource, HubStoreResource
from hub.delivery import deliver_due_orders
from hub.targets import OdooTarget, configured_targets
from hub.targets.quickbooks import StoreTokens, doc_number
from hub.targets.quickbooks._resource import QuickBooksResource
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from sandbox.quickbooks_server import SandboxQuickBooks
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present
from tests.test_erp_sandbox import make_order

PO = "4500012345"
ACCOUNTING = {"kind": "quickbooks", "customer": "Acme Corporation", "items": {"Gadget, large": "GAD-300"}}


def partners_with(folder: Path, accounting: dict | None = ACCOUNTING, **others: dict) -> Path:
    """The repository's profiles, acme's ERP target invoicing in ``accounting``."""
    shutil.copytree("mappings/partners", folder)
    for partner_id, target in {"acme": accounting, **others}.items():
        path = folder / f"{partner_id}.yaml"
        profile = yaml.safe_load(path.read_text())
        profile["targets"] = [{"kind": "odoo", "name": "erp", **({"accounting": target} if target else {})}]
        path.write_text(yaml.safe_dump(profile))
    return folder


@pytest.fixture
def qbo():
    with SandboxQuickBooks() as server:
        server.seed(customers=["Acme Corporation"], items=["WID-100", "GAD-300"])
        yield server


@pytest.fixture
def delivered(tmp_path, erp):
    """The store's URL, with PO 4500012345 pushed to the sandbox ERP by the delivery loop, confirmed, shipped."""
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    store = st.HubStore(url).migrate()
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        with store.transaction() as conn:
            saved = st.save_order(conn, make_order(PO), receipt_id=None, now=st.utcnow())
            st.enqueue_delivery(conn, order_id=present(saved.order_id), target="erp", now=st.utcnow())
        assert deliver_due_orders(store, OdooTarget(OdooSalesGateway(client))).pushed == 1
    erp.confirm_sale_order(PO)
    erp.deliver(PO, [3, 2])
    yield url
    store.dispose()


def materialize(url: str, erp, qbo: SandboxQuickBooks, partners: Path, seed: str):
    asset, checks = build_invoicing_assets("erp", dg.AssetKey("erp_sales_orders"), "erp_accounting")
    erp_resource = ErpResource(base_url=erp.base_url, database=erp.database, api_key=ERP_API_KEY)
    result = dg.materialize([asset, *checks], resources={
        "hub_store": HubStoreResource(database_url=url, partners_dir=str(partners)),
        "erp_accounting": QuickBooksResource(
            erp=erp_resource, realm_id=qbo.realm_id, client_id=qbo.client_id, client_secret=qbo.client_secret,
            refresh_token=seed, base_url=qbo.base_url, token_url=qbo.token_url, database_url=url,
            partners_dir=str(partners)),
    }, raise_on_error=True)
    (materialization,) = result.asset_materializations_for_node("erp_invoices")
    return materialization.metadata


def test_the_asset_bills_erp_deliveries_in_quickbooks_once(tmp_path, delivered, erp, qbo):
    partners, seed = partners_with(tmp_path / "partners"), qbo.refresh_token
    metadata = materialize(delivered, erp, qbo, partners, seed)
    assert metadata["this_run"].value == {"posted": 1}
    (invoice,) = qbo.invoices
    assert invoice["DocNumber"] == doc_number(f"orderhub:acme:{PO}/1")
    assert [line["SalesItemLineDetail"]["Qty"] for line in invoice["Line"]] == [3, 2]
    assert erp.records("account.move") == []  # the ERP only told what was delivered

    metadata = materialize(delivered, erp, qbo, partners, seed)  # the seed is dead by now: the store has the new one
    assert metadata["this_run"].value == {} and len(qbo.invoices) == 1
    assert StoreTokens(st.HubStore(delivered), qbo.realm_id, seed=seed).load() == qbo.refresh_token

    erp.deliver(PO, [1, 2])  # two came back: a credit memo
    metadata = materialize(delivered, erp, qbo, partners, seed)
    assert metadata["this_run"].value == {"credit_note_posted": 1}
    (memo,) = qbo.credit_memos
    assert memo["PrivateNote"] == f"orderhub:acme:{PO}/C1 refund_of={invoice['Id']}"


def test_the_code_location_binds_quickbooks_when_a_profile_selects_it(monkeypatch, tmp_path):
    from hub.defs import build_definitions

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(partners_with(tmp_path / "partners")))
    defs = build_definitions()
    assert dg.AssetKey("erp_invoices") in defs.resolve_asset_graph().get_all_asset_keys()
    assert defs.resources is not None and isinstance(defs.resources["erp_accounting"], QuickBooksResource)
    assert defs.resolve_job_def("erp_invoice_job") is not None


def test_profiles_must_agree_where_a_target_is_invoiced(tmp_path):
    partners = partners_with(tmp_path / "partners", greenleaf={"kind": "odoo"})
    with pytest.raises(ConfigurationError, match=re.escape(
            "partner profile 'greenleaf': target 'erp' is invoiced in 'odoo' but 'acme' says 'quickbooks'")):
        configured_targets(PartnerDirectory.load(partners))
    assert configured_targets(PartnerDirectory.load(partners_with(tmp_path / "one")))["erp"].accounting == "quickbooks"


def test_a_customer_quickbooks_does_not_know_opens_an_exception_with_the_reason(tmp_path, delivered, erp, qbo):
    partners = partners_with(tmp_path / "partners", {**ACCOUNTING, "customer": "Nobody Ltd"})
    metadata = materialize(delivered, erp, qbo, partners, qbo.refresh_token)
    assert metadata["this_run"].value == {"rejected": 1} and qbo.invoices == []
    with st.HubStore(delivered).transaction() as conn:
        (queued,) = st.list_exceptions(conn, state=st.OPEN)
    assert (queued.kind, queued.channel) == ("erp_invoice_rejected", "erp_invoices")
    assert "no QuickBooks customer with DisplayName 'Nobody Ltd'" in queued.reason
