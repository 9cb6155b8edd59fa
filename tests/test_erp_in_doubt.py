"""Writes without an answer are "in doubt" (issue 8 point 9): which failures, how long to wait, and the ERP's
unique reference constraint turned into "it exists already: look it up"."""

from __future__ import annotations

import httpx
import pytest
import respx

from canonical.errors import RetriableError
from connectors.erp import ErpWriteInDoubt, OdooConfig, OdooJson2Client
from mappings.odoo import OdooSalesGateway
from sandbox.environment import CATALOG
from sandbox.erp_server import SandboxErp
from tests.test_erp_sandbox import make_order

BASE = "https://erp.example.com"
API_KEY = "in-doubt-key-0123456789"


@pytest.fixture
def erp_api():
    """The ERP's JSON-2 API, mocked: each test sets the answers it needs."""
    with respx.mock(base_url=f"{BASE}/json/2", assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(erp_api):
    config = OdooConfig(api_key=API_KEY, write_settle_seconds=200, http={"base_url": BASE, "timeout_seconds": 5})
    with OdooJson2Client(config) as client:
        yield client


@pytest.mark.parametrize(
    "answer, in_doubt",
    [
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
        (httpx.Response(504), True),
        (httpx.Response(502), True),
        (httpx.ConnectError("refused"), False),  # never reached the server
        (httpx.Response(503), False),  # Odoo (or its proxy) refused before doing anything
        (httpx.Response(429, headers={"Retry-After": "7"}), False),
    ],
)
def test_a_write_without_an_answer_is_in_doubt_and_waits_longer_than_the_timeout(client, erp_api, answer, in_doubt):
    route = erp_api.post("/sale.order/create")
    if isinstance(answer, Exception):
        route.side_effect = answer
    else:
        route.return_value = answer
    with pytest.raises(RetriableError) as caught:
        client.call("sale.order", "create", vals_list=[{"partner_id": 1}])
    assert isinstance(caught.value, ErpWriteInDoubt) is in_doubt
    if in_doubt:
        assert caught.value.retry_after == 200 and "outcome unknown" in str(caught.value)
    assert route.call_count == 1  # a write is never sent twice by the client


def test_a_read_that_times_out_is_not_in_doubt(client, erp_api):
    erp_api.post("/sale.order/search_read").side_effect = httpx.ReadTimeout("read timed out")
    with pytest.raises(RetriableError) as caught:
        client.call("sale.order", "search_read", domain=[])
    assert not isinstance(caught.value, ErpWriteInDoubt)


def test_the_settle_wait_is_longer_than_the_timeout():
    assert OdooConfig(api_key=API_KEY, http={"base_url": BASE, "timeout_seconds": 30}).in_doubt_wait_seconds >= 180
    assert OdooConfig(api_key=API_KEY, http={"base_url": BASE, "timeout_seconds": 300}).in_doubt_wait_seconds == 360
    with pytest.raises(ValueError, match="longer than timeout_seconds"):
        OdooConfig(api_key=API_KEY, write_settle_seconds=30, http={"base_url": BASE, "timeout_seconds": 30})


def test_a_create_refused_by_the_unique_reference_constraint_is_looked_up_not_failed():
    """The lookup ran before another push's create committed; the ERP's constraint refuses ours."""
    with SandboxErp(api_key=API_KEY, unique_sale_order_refs=True) as erp:
        erp.seed_products(CATALOG)
        config = OdooConfig(database=erp.database, api_key=API_KEY,
                            http={"base_url": erp.base_url, "timeout_seconds": 10})
        with OdooJson2Client(config) as client:
            gateway = OdooSalesGateway(client)
            order = make_order("PO-UNIQ-1")
            first = gateway.push_sale_order(order, client_order_ref="PO-UNIQ-1")
            assert first.action == "created"

            stale = OdooSalesGateway(client)
            looked = []

            def find_too_early(refs, *, partner_id=None):
                # The first lookup misses the sale order (it was not committed yet when it ran).
                looked.append(refs)
                if len(looked) == 1:
                    return {ref: [] for ref in refs}
                return OdooSalesGateway.find_sale_orders(stale, refs, partner_id=partner_id)

            stale.find_sale_orders = find_too_early  # type: ignore[method-assign]  # this gateway only
            again = stale.push_sale_order(order, client_order_ref="PO-UNIQ-1")

        assert again.action == "unchanged" and again.sale_order_id == first.sale_order_id
        assert len(erp.sale_orders_by_ref("PO-UNIQ-1")) == 1
        assert ("sale.order", "create") in erp.calls[-8:]  # the create was tried and refused by the ERP


def test_without_the_constraint_module_the_sandbox_takes_a_second_create_as_odoo_does():
    with SandboxErp(api_key=API_KEY) as erp:
        erp.seed_products(CATALOG)
        config = OdooConfig(database=erp.database, api_key=API_KEY,
                            http={"base_url": erp.base_url, "timeout_seconds": 10})
        with OdooJson2Client(config) as client:
            partner = client.call("res.partner", "create", vals_list=[{"name": "X"}])[0]
            vals = {"partner_id": partner, "client_order_ref": "R1", "origin": "orderhub:acme"}
            client.call("sale.order", "create", vals_list=[vals])
            client.call("sale.order", "create", vals_list=[vals])
            assert len(erp.sale_orders_by_ref("R1")) == 2
            erp.enforce_unique_sale_order_refs()
            with pytest.raises(Exception, match="orderhub_ref_unique"):
                client.call("sale.order", "create", vals_list=[vals])
