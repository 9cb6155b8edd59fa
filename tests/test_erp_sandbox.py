"""The real ERP connector against the sandbox ERP served over a loopback socket, and the sandbox's contract."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from canonical.errors import ConfigurationError, RetriableError
from canonical.model import Order, OrderLine, Party, PartyRole, Source
from connectors.erp import ErpRejected, OdooConfig, OdooJson2Client
from mappings.odoo import OdooSalesGateway
from sandbox.erp_server import DEMO_PRODUCTS, SandboxErp
from tests.fixtures.erp import ERP_API_KEY

API_KEY = ERP_API_KEY
ERROR_KEYS = {"name", "message", "arguments", "context", "debug"}


@pytest.fixture
def client(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=API_KEY, http={"base_url": erp.base_url, "timeout_seconds": 10})
    with OdooJson2Client(config) as client:
        yield client


@pytest.fixture
def gateway(client: OdooJson2Client) -> OdooSalesGateway:
    return OdooSalesGateway(client)


def make_order(po: str = "4500012345", *lines: OrderLine) -> Order:
    lines = lines or (
        OrderLine(line_no="1", sku="WID-100", quantity=Decimal("3"), unit_price=Decimal("4.40")),
        OrderLine(line_no="2", gtin="00012345678929", quantity=Decimal("2")),  # GAD-300 by barcode, list price
    )
    return Order(
        source=Source.X12,
        source_ref=po,
        partner_id="acme",
        order_date=dt.date(2025, 3, 14),
        parties=[
            Party(role=PartyRole.BUYER, name="ACME Retail", id="0001"),
            Party(
                role=PartyRole.SHIP_TO, name="ACME Store 42", id="0042", address_lines=["1 Main St"], city="Springfield"
            ),
        ],
        lines=list(lines),
        total=Decimal("53.00"),
    )


def test_pushing_twice_makes_one_sale_order(erp, gateway):
    first = gateway.push_sale_order(make_order(), client_order_ref="4500012345")
    second = gateway.push_sale_order(make_order(), client_order_ref="4500012345")

    assert first.created and not second.created
    assert second.sale_order_id == first.sale_order_id and first.name == "S00001"
    (order,) = erp.sale_orders()
    assert order["client_order_ref"] == "4500012345"
    assert order["state"] == "draft"
    assert order["amount_total"] == pytest.approx(3 * 4.40 + 2 * 19.90)
    assert order["origin"] == "orderhub:acme"
    assert order["date_order"] == "2025-03-14 12:00:00"
    partners = {p["ref"]: p for p in erp.records("res.partner")}
    assert set(partners) == {"acme:BY:0001", "acme:ST:0042"}
    assert order["partner_id"][0] == partners["acme:BY:0001"]["id"]
    assert order["partner_shipping_id"][0] == partners["acme:ST:0042"]["id"]
    assert partners["acme:ST:0042"]["type"] == "delivery"
    lines = erp.records("sale.order.line")
    assert [(line["product_id"][1], line["product_uom_qty"], line["price_unit"]) for line in lines] == [
        ("Widget, blue", 3.0, 4.40),
        ("Gadget, large", 2.0, 19.90),
    ]

    # A second order reuses the partners instead of doubling them.
    gateway.push_sale_order(make_order("4500012346"), client_order_ref="acme:4500012346")
    assert len(erp.records("res.partner")) == 2
    assert [o["name"] for o in erp.sale_orders()] == ["S00001", "S00002"]


def test_unknown_sku_is_rejected_and_leaves_nothing_behind(erp, gateway):
    order = make_order("1", OrderLine(line_no="1", sku="NO-SUCH-SKU", quantity=Decimal(1)))

    with pytest.raises(ErpRejected, match="unknown product SKU 'NO-SUCH-SKU'"):
        gateway.push_sale_order(order, client_order_ref="acme:1")

    assert erp.sale_orders() == []
    assert erp.records("res.partner") == []


def test_bad_api_key_is_a_configuration_error(erp):
    config = OdooConfig(database=erp.database, api_key="wrong-key", http={"base_url": erp.base_url})
    with (
        OdooJson2Client(config) as client,
        pytest.raises(ConfigurationError, match=r"HTTP 401 .*Invalid apikey") as caught,
    ):
        OdooSalesGateway(client).sale_order_refs(["acme:1"])
    assert "wrong-key" not in str(caught.value)


def test_wrong_database_is_a_configuration_error(erp):
    config = OdooConfig(database="production", api_key=API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client, pytest.raises(ConfigurationError, match="HTTP 404"):
        client.call("sale.order", "search_count", domain=[])


def test_unlinked_order_counts_as_missing_and_can_be_pushed_again(erp, client, gateway):
    pushed = gateway.push_sale_order(make_order(), client_order_ref="4500012345")
    assert gateway.sale_order_refs(["4500012345"]) == {"4500012345": 1}

    assert client.call("sale.order", "unlink", ids=[pushed.sale_order_id]) is True

    assert gateway.sale_order_refs(["4500012345"]) == {"4500012345": 0}
    again = gateway.push_sale_order(make_order(), client_order_ref="4500012345")
    assert again.created and again.sale_order_id != pushed.sale_order_id


def test_delete_helper_and_doubled_orders_show_in_counts(erp, client, gateway):
    gateway.push_sale_order(make_order("1"), client_order_ref="acme:1")
    gateway.push_sale_order(make_order("2"), client_order_ref="acme:2")
    partner_id = erp.records("res.partner")[0]["id"]
    # Someone keys the same order in by hand in the ERP.
    client.call("sale.order", "create", vals_list=[{"partner_id": partner_id, "client_order_ref": "acme:2"}])
    assert erp.delete_sale_order("acme:1") == 1

    assert gateway.sale_order_refs(["acme:1", "acme:2", "acme:3"]) == {"acme:1": 0, "acme:2": 2, "acme:3": 0}
    assert [o.client_order_ref for o in gateway.list_sale_orders_by_ref_prefix("acme:")] == ["acme:2", "acme:2"]


def test_confirmed_orders_cannot_be_unlinked(client, gateway):
    pushed = gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    client.call("sale.order", "write", ids=[pushed.sale_order_id], vals={"state": "sale"})

    with pytest.raises(ErpRejected, match="cancel it") as caught:
        client.call("sale.order", "unlink", ids=[pushed.sale_order_id])

    assert caught.value.status_code == 422 and caught.value.error_name == "odoo.exceptions.UserError"
    assert gateway.sale_order_refs(["acme:1"])["acme:1"] == 1


@pytest.mark.parametrize(
    ("model", "method", "params", "error", "text"),
    [
        (
            "mrp.production",  # a model the sandbox does not serve (stock.picking it does: the 856)
            "search_read",
            {"domain": []},
            ConfigurationError,
            "the model 'mrp.production' does not exist",
        ),
        # action_done is gone in Odoo 17
        ("sale.order", "action_done", {}, ConfigurationError, "sale.order.action_done' does not exist"),
        (
            "sale.order",
            "search_read",
            {"domain": [], "colour": "red"},
            ErpRejected,
            "unexpected keyword argument 'colour'",
        ),
        ("sale.order", "search_read", {"domain": [["colour", "=", "red"]]}, ErpRejected, "Invalid field"),
        ("sale.order", "create", {"vals_list": [{"client_order_ref": "x"}]}, ErpRejected, "Missing required fields"),
        ("sale.order", "create", {"vals_list": [{"partner_id": 999}]}, ErpRejected, "does not exist"),
    ],
)
def test_contract_errors(client, model, method, params, error, text):
    with pytest.raises(error, match=text):
        client.call(model, method, **params)


def test_a_record_method_on_a_deleted_record_is_missing(client):
    with pytest.raises(ErpRejected) as caught:
        client.call("sale.order", "read", ids=[404], fields=["name"])
    assert caught.value.status_code == 404 and caught.value.error_name == "odoo.exceptions.MissingError"


def test_model_methods_refuse_ids(client):
    with pytest.raises(ErpRejected, match=re.escape("cannot call sale.order.search_read with ids")):
        client.call("sale.order", "search_read", ids=[1], domain=[])


def test_a_failed_create_leaves_no_partial_records(erp, client):
    lines = [[0, 0, {"product_id": 1, "product_uom_qty": 1}], [0, 0, {"product_id": 999}]]
    partner_id = client.call("res.partner", "create", vals_list=[{"name": "ACME"}])[0]

    with pytest.raises(ErpRejected):
        client.call("sale.order", "create", vals_list=[{"partner_id": partner_id, "order_line": lines}])

    assert erp.sale_orders() == [] and erp.records("sale.order.line") == []


def test_domains_support_or_not_ilike_and_in(client):
    ids = client.call(
        "res.partner",
        "create",
        vals_list=[
            {"name": "Deco Addict", "ref": "a"},
            {"name": "Azure Interior", "ref": "b"},
            {"name": "Deco Co", "ref": "c"},
        ],
    )

    def names(domain, **kw):
        return [r["name"] for r in client.call("res.partner", "search_read", domain=domain, fields=["name"], **kw)]

    assert names([["name", "ilike", "deco"]]) == ["Deco Addict", "Deco Co"]
    assert names([["name", "ilike", "%deco%"], ["ref", "!=", "a"]]) == ["Deco Co"]
    assert names(["|", ["ref", "=", "a"], ["ref", "=", "b"]]) == ["Deco Addict", "Azure Interior"]
    assert names(["!", ["ref", "in", ["a", "b"]]]) == ["Deco Co"]
    assert names([], order="name desc", limit=2) == ["Deco Co", "Deco Addict"]
    assert client.call("res.partner", "search", domain=[["id", "in", ids[1:]]]) == ids[1:]
    assert client.call("res.partner", "search_count", domain=[["name", "=like", "Deco%"]]) == 2
    assert client.call("res.partner", "read", ids=[ids[0]], fields=["name", "parent_id"]) == [
        {"id": ids[0], "name": "Deco Addict", "parent_id": False}
    ]
    # Archived records drop out of searches unless the domain or the context asks for them.
    client.call("res.partner", "write", ids=[ids[2]], vals={"active": False})
    assert names([["name", "ilike", "deco"]]) == ["Deco Addict"]
    assert names([["active", "=", False]]) == ["Deco Co"]
    assert names([["name", "ilike", "deco"]], context={"active_test": False}) == ["Deco Addict", "Deco Co"]


def test_injected_rate_limit_is_retriable_with_retry_after(erp, gateway):
    erp.inject_failures(429, retry_after=5)

    with pytest.raises(RetriableError) as caught:
        gateway.sale_order_refs(["acme:1"])

    assert caught.value.retry_after == 5
    assert gateway.sale_order_refs(["acme:1"]) == {"acme:1": 0}  # the next call goes through


def test_state_survives_a_restart(tmp_path: Path):
    state = tmp_path / "erp.json"
    with SandboxErp(api_key=API_KEY, state_path=state) as erp:
        erp.seed_products(DEMO_PRODUCTS)
        with OdooJson2Client(OdooConfig(api_key=API_KEY, http={"base_url": erp.base_url})) as client:
            OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref="acme:1")

    with SandboxErp(api_key=API_KEY, state_path=state) as erp:
        with OdooJson2Client(OdooConfig(api_key=API_KEY, http={"base_url": erp.base_url})) as client:
            gateway = OdooSalesGateway(client)
            assert gateway.push_sale_order(make_order(), client_order_ref="acme:1").created is False
            assert gateway.push_sale_order(make_order("2"), client_order_ref="acme:2").name == "S00002"
        assert len(erp.records("product.product")) == len(DEMO_PRODUCTS)


def test_http_contract_on_the_wire(erp):
    url = f"{erp.base_url}/json/2/res.partner/search_read"

    unauthorized = httpx.post(url, json={"domain": []}, headers={"Authorization": "bearer nope"})
    wrong_type = httpx.post(
        url, content=b"domain=x", headers={"Authorization": f"bearer {API_KEY}", "Content-Type": "text/plain"}
    )
    wrong_verb = httpx.get(url, headers={"Authorization": f"bearer {API_KEY}"})
    ok = httpx.post(
        url, json={"domain": [], "context": {"lang": "en_US"}}, headers={"Authorization": f"Bearer {API_KEY}"}
    )

    assert unauthorized.status_code == 401
    assert set(unauthorized.json()) == ERROR_KEYS
    assert unauthorized.json()["arguments"] == ["Invalid apikey", 401]
    assert wrong_type.status_code == 415
    assert wrong_verb.status_code == 404 and "POST /json/2/<model>/<method>" in wrong_verb.json()["message"]
    assert ok.status_code == 200 and ok.json() == []
    assert ok.headers["content-type"].startswith("application/json")
    assert httpx.get(f"{erp.base_url}/web/version").json()["version"] == "19.0"


# Starlette 1.x would rather its TestClient ran on httpx2; with httpx it still works, only warns.
@pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")
def test_the_app_also_serves_in_process_without_a_socket():
    from starlette.testclient import TestClient

    erp = SandboxErp(api_key=API_KEY)  # never started: no port is bound
    erp.seed_products(DEMO_PRODUCTS[:1])
    config = OdooConfig(api_key=API_KEY, http={"base_url": "http://testserver"})
    with TestClient(erp.app) as http, OdooJson2Client(config, http_client=http) as client:
        line = OrderLine(line_no="1", sku="WID-100", quantity=Decimal(1))
        assert OdooSalesGateway(client).ensure_product(line) == 1
    assert erp.calls == [("product.product", "search_read")]


def test_concurrent_pushes_of_one_order_leave_one_sale_order(erp):
    """Two workers racing on the same order: the look-again-after-create step removes the loser's copy."""
    import threading

    config = OdooConfig(database=erp.database, api_key=API_KEY, http={"base_url": erp.base_url})
    results, errors = [], []
    barrier = threading.Barrier(4)

    def push() -> None:
        try:
            with OdooJson2Client(config) as client:
                barrier.wait(timeout=10)
                results.append(OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref="acme:race"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=push) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert errors == []
    assert len({r.sale_order_id for r in results}) == 1
    (order,) = erp.sale_orders()
    assert order["client_order_ref"] == "acme:race"
    # The buyer and the store were created by several workers at once; one of each stays active.
    active = [p for p in erp.records("res.partner") if p["active"]]
    assert sorted(p["ref"] for p in active) == ["acme:BY:0001", "acme:ST:0042"]
    assert {order["partner_id"][0], order["partner_shipping_id"][0]} == {p["id"] for p in active}


def test_the_same_po_number_from_two_partners_makes_two_sale_orders(erp, gateway):
    acme = make_order("1001")
    other = acme.model_copy(update={"partner_id": "northwind"})

    assert gateway.push_sale_order(acme, client_order_ref="1001").created
    assert gateway.push_sale_order(other, client_order_ref="1001").created
    assert not gateway.push_sale_order(other, client_order_ref="1001").created

    assert sorted(o["origin"] for o in erp.sale_orders()) == ["orderhub:acme", "orderhub:northwind"]
    assert gateway.sale_order_refs(["1001"], partner_id="acme") == {"1001": 1}
    assert gateway.sale_order_refs(["1001"]) == {"1001": 2}


# -- changing and cancelling sale orders: Odoo 17+'s state rules ------------------------------------


def _sale_order(client: OdooJson2Client, order_id: int) -> dict:
    (row,) = client.call("sale.order", "read", ids=[order_id], fields=["state", "locked", "order_line", "amount_total"])
    return row


def test_order_line_commands_rewrite_a_quotation(erp, client, gateway):
    pushed = gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    first, second = _sale_order(client, pushed.sale_order_id)["order_line"]
    giz = erp.seed_products([("GIZ-400", "Gizmo", 7.25, None)])[0]

    client.call("sale.order", "write", ids=[pushed.sale_order_id], vals={"order_line": [
        [1, first, {"product_uom_qty": 5}], [2, second, 0], [0, 0, {"product_id": giz, "product_uom_qty": 2}]]})

    lines = erp.sale_order_lines("acme:1")
    assert [(line["product_id"][1], line["product_uom_qty"]) for line in lines] == [("Widget, blue", 5.0),
                                                                                    ("Gizmo", 2.0)]
    assert _sale_order(client, pushed.sale_order_id)["amount_total"] == 5 * 4.40 + 2 * 7.25
    assert second not in {r["id"] for r in erp.records("sale.order.line")}

    client.call("sale.order", "write", ids=[pushed.sale_order_id], vals={"order_line": [[5, 0, 0]]})
    assert _sale_order(client, pushed.sale_order_id)["order_line"] == []


def test_a_confirmed_order_keeps_its_lines_and_a_locked_one_its_quantities(erp, client, gateway):
    pushed = gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    first, _ = _sale_order(client, pushed.sale_order_id)["order_line"]
    assert client.call("sale.order", "action_confirm", ids=[pushed.sale_order_id]) is True
    assert _sale_order(client, pushed.sale_order_id)["state"] == "sale"

    with pytest.raises(ErpRejected, match="Once a sales order is confirmed, you can't remove one of its lines") as e:
        client.call("sale.order", "write", ids=[pushed.sale_order_id], vals={"order_line": [[2, first, 0]]})
    assert e.value.status_code == 422 and e.value.error_name == "odoo.exceptions.UserError"
    with pytest.raises(ErpRejected, match="not in a state requiring confirmation"):
        client.call("sale.order", "action_confirm", ids=[pushed.sale_order_id])

    client.call("sale.order", "action_lock", ids=[pushed.sale_order_id])
    response = httpx.post(
        f"{erp.base_url}/json/2/sale.order/write",
        json={"ids": [pushed.sale_order_id], "vals": {"order_line": [[1, first, {"product_uom_qty": 9}]]}},
        headers={"Authorization": f"bearer {API_KEY}"},
    )
    assert response.status_code == 422
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["message"] == "It is forbidden to modify the following fields in a locked order:\nQuantity"
    assert erp.sale_order_lines("acme:1")[0]["product_uom_qty"] == 3.0


def test_action_cancel_shows_its_wizard_unless_told_not_to_and_refuses_a_locked_order(erp, client, gateway):
    pushed = gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    client.call("sale.order", "action_confirm", ids=[pushed.sale_order_id])

    wizard = client.call("sale.order", "action_cancel", ids=[pushed.sale_order_id])
    assert wizard["res_model"] == "sale.order.cancel" and wizard["type"] == "ir.actions.act_window"
    assert _sale_order(client, pushed.sale_order_id)["state"] == "sale", "the wizard cancels nothing"

    client.call("sale.order", "action_lock", ids=[pushed.sale_order_id])
    with pytest.raises(ErpRejected, match=re.escape("You cannot cancel a locked order. Please unlock it first.")):
        client.call("sale.order", "action_cancel", ids=[pushed.sale_order_id],
                    context={"disable_cancel_warning": True})

    client.call("sale.order", "action_unlock", ids=[pushed.sale_order_id])
    assert client.call("sale.order", "action_cancel", ids=[pushed.sale_order_id],
                       context={"disable_cancel_warning": True}) is True
    assert _sale_order(client, pushed.sale_order_id)["state"] == "cancel"
    client.call("sale.order", "action_draft", ids=[pushed.sale_order_id])
    assert _sale_order(client, pushed.sale_order_id)["state"] == "draft"


def test_gateway_updates_a_quotation_and_leaves_a_confirmed_order_alone(erp, gateway):
    gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    changed = make_order("4500012345", OrderLine(line_no="1", sku="WID-100", quantity=Decimal("4"),
                                                 unit_price=Decimal("4.40")))

    updated = gateway.push_sale_order(changed, client_order_ref="acme:1")
    again = gateway.push_sale_order(changed, client_order_ref="acme:1")

    assert updated.action == "updated"
    assert updated.changes == ("line 1: quantity 3 -> 4", "ERP line 2 removed (Gadget, large, quantity 2)")
    assert again.action == "unchanged", "an update already applied is not applied again"
    assert [(x["product_id"][1], x["product_uom_qty"]) for x in erp.sale_order_lines("acme:1")] == [
        ("Widget, blue", 4.0)]

    erp.confirm_sale_order("acme:1")
    review = gateway.push_sale_order(make_order(), client_order_ref="acme:1")
    assert review.action == "needs_review" and "S00001 is confirmed" in review.reason
    assert review.changes == ("line 1: quantity 4 -> 3", "line 2 added (00012345678929, quantity 2)")
    assert len(erp.sale_order_lines("acme:1")) == 1


def test_gateway_cancels_unless_the_order_is_invoiced(erp, gateway):
    gateway.push_sale_order(make_order("1"), client_order_ref="acme:1")
    gateway.push_sale_order(make_order("2"), client_order_ref="acme:2")
    erp.confirm_sale_order("acme:2")
    erp.deliver_and_invoice("acme:2")

    assert gateway.cancel_sale_order(make_order("1"), client_order_ref="acme:1").action == "cancelled"
    assert gateway.cancel_sale_order(make_order("1"), client_order_ref="acme:1").action == "already_cancelled"
    refused = gateway.cancel_sale_order(make_order("2"), client_order_ref="acme:2")
    assert gateway.cancel_sale_order(make_order("3"), client_order_ref="acme:3").action == "not_in_erp"

    assert refused.action == "refused" and "delivered 3, invoiced 3" in refused.reason
    assert {o["client_order_ref"]: o["state"] for o in erp.sale_orders()} == {"acme:1": "cancel", "acme:2": "sale"}
    assert gateway.sale_order_states(["acme:1", "acme:2", "acme:3"]) == {
        "acme:1": ["cancel"], "acme:2": ["sale"], "acme:3": []}
