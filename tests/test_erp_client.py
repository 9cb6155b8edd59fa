"""The Odoo JSON-2 client and sales gateway against a mocked server (respx): wire shapes and error mapping."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
from decimal import Decimal

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from canonical.model import Order, OrderLine, Party, PartyRole, Source
from connectors.erp import ErpRejected, OdooConfig, OdooJson2Client, retry_after_seconds
from mappings.odoo import CancelResult, OdooSalesGateway, PushResult, party_ref
from tests.fixtures.clock import FakeClock
from tests.present import present

BASE = "https://erp.example.com"
API_KEY = "6578616d706c65206a736f6e20617069206b6579"
CUSTOMER_NAME = "Jane Q. Customer"
CUSTOMER_STREET = "17 Privacy Lane"


@pytest.fixture
def config() -> OdooConfig:
    return OdooConfig(database="mycompany", api_key=API_KEY, http={"base_url": BASE, "timeout_seconds": 5})


@pytest.fixture
def mock_erp():
    with respx.mock(base_url=f"{BASE}/json/2", assert_all_called=False) as router:
        # The company's currencies: USD (id 1) with its pricelist (id 1).
        router.post("/res.currency/search_read").mock(return_value=httpx.Response(200, json=[{"id": 1}]))
        router.post("/product.pricelist/search_read").mock(return_value=httpx.Response(200, json=[{"id": 1}]))
        yield router


@pytest.fixture
def client(config: OdooConfig):
    with OdooJson2Client(config) as client:
        yield client


def body_of(request: httpx.Request) -> dict:
    return json.loads(request.content)


def odoo_error(status: int, name: str, message: str, headers: dict | None = None) -> httpx.Response:
    """An error answer shaped like the one in Odoo's External JSON-2 API documentation."""
    return httpx.Response(
        status,
        json={
            "name": name,
            "message": message,
            "arguments": [message, status],
            "context": {},
            "debug": "Traceback ...",
        },
        headers=headers,
    )


def make_order(*lines: OrderLine, parties: list[Party] | None = None) -> Order:
    lines = lines or (
        OrderLine(
            line_no="1", sku="WID-100", quantity=Decimal("3"), unit_price=Decimal("4.50"), description="Widget, blue"
        ),
    )
    if parties is None:
        parties = [
            Party(role=PartyRole.BUYER, name="ACME Retail", id="0001"),
            Party(
                role=PartyRole.SHIP_TO,
                name=CUSTOMER_NAME,
                id="0042",
                address_lines=[CUSTOMER_STREET],
                city="Springfield",
            ),
        ]
    return Order(
        source=Source.X12,
        source_ref="4500012345",
        partner_id="acme",
        order_date=dt.date(2025, 3, 14),
        parties=parties,
        lines=list(lines),
        total=Decimal("13.50"),
    )


# -- the generic client ---------------------------------------------------------------------------


def test_call_posts_the_documented_request_and_parses_the_result(mock_erp, client):
    route = mock_erp.post("/res.partner/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 25, "name": "Deco Addict", "credit": 12.5}])
    )

    result = client.call(
        "res.partner",
        "search_read",
        context={"lang": "en_US"},
        domain=[("name", "ilike", "%deco%"), ("is_company", "=", True)],
        fields=["name", "credit"],
    )

    assert result == [{"id": 25, "name": "Deco Addict", "credit": Decimal("12.5")}]
    assert isinstance(result[0]["credit"], Decimal)  # money never goes through binary floats
    request = route.calls.last.request
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/json/2/res.partner/search_read"
    assert request.headers["Authorization"] == f"bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Odoo-Database"] == "mycompany"
    assert request.headers["User-Agent"].startswith("orderhub/")
    assert body_of(request) == {
        "context": {"lang": "en_US"},
        "domain": [["name", "ilike", "%deco%"], ["is_company", "=", True]],
        "fields": ["name", "credit"],
    }


def test_record_methods_send_ids_and_no_database_header_when_not_configured(mock_erp):
    route = mock_erp.post("/res.partner/read").mock(return_value=httpx.Response(200, json=[{"id": 1, "name": "A"}]))
    config = OdooConfig(api_key=API_KEY, http={"base_url": f"{BASE}/json/2/"})  # a copied /json/2 suffix is forgiven

    with OdooJson2Client(config) as client:
        client.call("res.partner", "read", ids=[1, 2, 3], fields=["name"], load=None)

    request = route.calls.last.request
    assert "X-Odoo-Database" not in request.headers
    assert body_of(request) == {"ids": [1, 2, 3], "fields": ["name"], "load": None}


def test_values_are_sent_in_odoo_formats(mock_erp, client):
    route = mock_erp.post("/sale.order/create").mock(return_value=httpx.Response(200, json=[7]))

    client.call(
        "sale.order",
        "create",
        vals_list=[
            {
                "price": Decimal("4.50"),
                "day": dt.date(2025, 3, 14),
                "at": dt.datetime(2025, 3, 14, 12, 30, tzinfo=dt.UTC),
            }
        ],
    )

    assert body_of(route.calls.last.request) == {
        "vals_list": [{"price": 4.5, "day": "2025-03-14", "at": "2025-03-14 12:30:00"}]
    }


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (odoo_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey"), ConfigurationError),
        (
            odoo_error(403, "odoo.exceptions.AccessError", "You are not allowed to create sale orders"),
            ConfigurationError,
        ),
        (odoo_error(404, "werkzeug.exceptions.NotFound", "the model 'sale.order' does not exist"), ConfigurationError),
        (httpx.Response(404, text="<html>Not Found</html>"), ConfigurationError),
        (odoo_error(404, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."), ErpRejected),
        (
            odoo_error(422, "odoo.exceptions.ValidationError", "Missing required fields on sale.order: partner_id"),
            ErpRejected,
        ),
        (
            odoo_error(
                422, "werkzeug.exceptions.UnprocessableEntity", "search_read() got an unexpected keyword argument 'x'"
            ),
            ErpRejected,
        ),
        (odoo_error(400, "werkzeug.exceptions.BadRequest", "could not parse the body as json"), ErpRejected),
        (odoo_error(500, "builtins.KeyError", "internal server error"), RetriableError),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), RetriableError),
        (httpx.Response(504), RetriableError),
        (odoo_error(418, "werkzeug.exceptions.ImATeapot", "teapot"), FatalError),
    ],
)
def test_error_statuses_become_hub_errors(mock_erp, client, response, error_type):
    mock_erp.post("/sale.order/search_read").mock(return_value=response)

    with pytest.raises(error_type) as caught:
        client.call("sale.order", "search_read", domain=[])

    assert f"HTTP {response.status_code}" in str(caught.value)
    assert "Traceback" not in str(caught.value)  # Odoo's debug field can quote record values
    if error_type is ErpRejected:
        assert caught.value.status_code == response.status_code
        assert caught.value.error_name == response.json()["name"]
    if error_type is RetriableError:
        assert caught.value.retry_after is None


def test_rate_limit_carries_retry_after_seconds(mock_erp, client):
    mock_erp.post("/sale.order/search_read").mock(
        return_value=odoo_error(429, "werkzeug.exceptions.TooManyRequests", "slow down", headers={"Retry-After": "7"})
    )

    with pytest.raises(RetriableError) as caught:
        client.call("sale.order", "search_read", domain=[])

    assert caught.value.retry_after == 7


def test_unavailable_with_http_date_retry_after(mock_erp, client):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(503, headers={"Retry-After": later}))

    with pytest.raises(RetriableError) as caught:
        client.call("sale.order", "search_read", domain=[])

    assert 3000 < present(caught.value.retry_after) <= 3600


def test_retry_after_header_forms():
    now = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("side_effect", "text"),
    [(httpx.ConnectError("connection refused"), "cannot reach"), (httpx.ReadTimeout("slow"), "timed out")],
)
def test_network_failures_are_retriable(mock_erp, client, side_effect, text):
    mock_erp.post("/sale.order/search_read").mock(side_effect=side_effect)

    with pytest.raises(RetriableError, match=text):
        client.call("sale.order", "search_read", domain=[])


def test_a_200_that_is_not_json_means_a_wrong_base_url(mock_erp, client):
    mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(200, text="<html>login</html>"))

    with pytest.raises(ConfigurationError, match="not JSON"):
        client.call("sale.order", "search_read", domain=[])


def test_private_or_malformed_names_are_refused_before_any_request(mock_erp, client):
    route = mock_erp.route()
    with pytest.raises(ValueError):
        client.call("sale.order", "_compute_amounts")
    with pytest.raises(ValueError):
        client.call("../admin", "search")
    assert route.call_count == 0


def test_api_key_never_appears_in_errors_logs_or_reprs(mock_erp, client, config, caplog):
    caplog.set_level(logging.DEBUG)
    # A server (or proxy) that echoes the credential back must not leak it through us.
    mock_erp.post("/res.partner/search_read").mock(
        return_value=odoo_error(401, "werkzeug.exceptions.Unauthorized", f"Invalid apikey {API_KEY}")
    )

    with pytest.raises(ConfigurationError) as caught:
        client.call("res.partner", "search_read", domain=[])

    assert API_KEY not in str(caught.value)
    assert "Invalid apikey ***" in str(caught.value)
    assert caplog.records, "the failed call should be logged"
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(config) and API_KEY not in str(config.model_dump())


def test_empty_api_key_is_a_configuration_mistake():
    with pytest.raises(ValueError):
        OdooConfig(api_key="  ", http={"base_url": BASE})
    with pytest.raises(ValueError):
        OdooConfig(api_key=API_KEY, http={"base_url": "erp.example.com"})


# -- the sales gateway ----------------------------------------------------------------------------


def fake_partner_directory(mock_erp, existing: dict[str, int], *, first_new_id: int) -> tuple[respx.Route, respx.Route]:
    """res.partner search_read / create routes backed by a dict of ref -> id."""
    by_ref = dict(existing)

    def search(request: httpx.Request) -> httpx.Response:
        ((_, _, ref),) = body_of(request)["domain"]
        return httpx.Response(200, json=[{"id": by_ref[ref]}] if ref in by_ref else [])

    def create(request: httpx.Request) -> httpx.Response:
        (vals,) = body_of(request)["vals_list"]
        by_ref[vals["ref"]] = first_new_id + len(by_ref) - len(existing)
        return httpx.Response(200, json=[by_ref[vals["ref"]]])

    return (
        mock_erp.post("/res.partner/search_read").mock(side_effect=search),
        mock_erp.post("/res.partner/create").mock(side_effect=create),
    )


def sale_order_row(id_: int, ref: str, name: str | None = None) -> dict:
    return {"id": id_, "name": name or f"S{id_:05d}", "client_order_ref": ref, "state": "draft", "amount_total": 13.5}


def mock_existing_sale_order(mock_erp, *, state="draft", locked=False, lines=None, shipping_id=11):
    """An ERP holding sale order S00031 (id 31) for PO 4500012345, as `read` and `search_read` return it."""
    if lines is None:
        lines = [sale_order_line(101, product=(5, "[WID-100] Widget, blue"), qty=3.0, price=4.5, name="Widget, blue")]
    mock_erp.post("/sale.order/search_read").mock(
        return_value=httpx.Response(200, json=[{**sale_order_row(31, "4500012345"), "state": state}])
    )
    detail = mock_erp.post("/sale.order/read").mock(return_value=httpx.Response(200, json=[{
        "id": 31, "name": "S00031", "state": state, "locked": locked, "partner_id": [11, "ACME Retail"],
        "partner_invoice_id": [11, "ACME Retail"], "partner_shipping_id": [shipping_id, "ACME Retail"],
        "date_order": "2025-03-14 12:00:00",
    }]))
    line_search = mock_erp.post("/sale.order.line/search_read").mock(return_value=httpx.Response(200, json=lines))
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(
            200, json=[{"id": 5, "default_code": "WID-100"}, {"id": 7, "default_code": "GAD-300"}]
        )
    )
    mock_erp.post("/res.partner/search_read").mock(return_value=httpx.Response(200, json=[{"id": 11}]))
    write = mock_erp.post("/sale.order/write").mock(return_value=httpx.Response(200, json=True))
    create = mock_erp.post("/sale.order/create").mock(return_value=httpx.Response(200, json=[99]))
    return detail, line_search, write, create


def sale_order_line(id_, *, product, qty, price, name="", delivered=0.0, invoiced=0.0) -> dict:
    return {"id": id_, "sequence": 10, "display_type": False, "product_id": list(product), "name": name,
            "product_uom_qty": qty, "price_unit": price, "qty_delivered": delivered, "qty_invoiced": invoiced}


def test_push_of_an_order_already_in_the_erp_compares_and_changes_nothing(mock_erp, client):
    detail, line_search, write, create = mock_existing_sale_order(mock_erp)

    result = OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref="4500012345")

    assert result == PushResult(sale_order_id=31, name="S00031", created=False, action="unchanged")
    assert body_of(detail.calls.last.request) == {
        "ids": [31],
        "fields": ["id", "name", "state", "locked", "partner_id", "partner_invoice_id", "partner_shipping_id",
                   "date_order", "currency_id"],
    }
    assert body_of(line_search.calls.last.request) == {
        "domain": [["order_id", "=", 31], ["display_type", "=", False]],
        "fields": ["id", "sequence", "display_type", "product_id", "name", "product_uom_qty", "price_unit",
                   "qty_delivered", "qty_invoiced"],
        "order": "sequence asc, id asc",
    }
    assert write.call_count == 0 and create.call_count == 0


def test_push_rewrites_a_quotation_with_x2many_commands(mock_erp, client):
    _, _, write, create = mock_existing_sale_order(mock_erp, state="sent", lines=[
        sale_order_line(101, product=(5, "[WID-100] Widget, blue"), qty=2.0, price=4.5, name="Widget, blue"),
        sale_order_line(102, product=(5, "[WID-100] Widget, blue"), qty=1.0, price=4.5, name="extra"),
    ])
    order = make_order(
        OrderLine(line_no="1", sku="WID-100", quantity=Decimal("3"), unit_price=Decimal("4.50"),
                  description="Widget, blue"),
    )

    result = OdooSalesGateway(client).push_sale_order(order, client_order_ref="4500012345")

    assert result.action == "updated" and not result.created
    assert result.changes == ("line 1: quantity 2 -> 3", "ERP line 2 removed ([WID-100] Widget, blue, quantity 1)")
    assert body_of(write.calls.last.request) == {
        "ids": [31],
        "vals": {
            "note": "Imported by orderhub from x12 order 4500012345 of acme.",
            "order_line": [[1, 101, {"product_uom_qty": 3.0}], [2, 102, 0]],
        },
    }
    assert create.call_count == 0


def test_push_adds_lines_and_moves_the_delivery_address_of_a_draft(mock_erp, client):
    _, _, write, _ = mock_existing_sale_order(mock_erp, shipping_id=12)
    order = make_order(
        OrderLine(line_no="1", sku="WID-100", quantity=Decimal("3"), unit_price=Decimal("4.50"),
                  description="Widget, blue"),
        OrderLine(line_no="2", sku="GAD-300", quantity=Decimal("1")),
    )

    result = OdooSalesGateway(client).push_sale_order(order, client_order_ref="4500012345")

    assert result.changes == ("delivery address changed", "line 2 added (GAD-300, quantity 1)")
    vals = body_of(write.calls.last.request)["vals"]
    assert vals["partner_shipping_id"] == 11
    assert vals["order_line"] == [[0, 0, {"product_id": 7, "product_uom_qty": 1.0}]]


@pytest.mark.parametrize(("state", "locked", "why"), [("sale", False, "confirmed"), ("draft", True, "locked"),
                                                      ("cancel", False, "cancelled")])
def test_push_never_changes_a_confirmed_locked_or_cancelled_order(mock_erp, client, state, locked, why):
    _, _, write, create = mock_existing_sale_order(mock_erp, state=state, locked=locked)
    order = make_order(OrderLine(line_no="1", sku="WID-100", quantity=Decimal("5"), unit_price=Decimal("4.75"),
                                 description="Widget, blue"))

    result = OdooSalesGateway(client).push_sale_order(order, client_order_ref="4500012345")

    assert result.action == "needs_review"
    assert result.reason == f"sale order S00031 is {why} in the ERP; the hub does not change it on its own"
    expected: tuple[str, ...] = ("line 1: quantity 3 -> 5", "line 1: unit price 4.5 -> 4.75")
    if state == "cancel":
        expected = ("the order is open but its sale order is cancelled", *expected)
    assert result.changes == expected
    assert write.call_count == 0 and create.call_count == 0


def mock_cancellable(mock_erp, *, state="sale", lines=None, cancel_answer=None, state_after="cancel"):
    mock_erp.post("/sale.order/search_read").mock(
        return_value=httpx.Response(200, json=[{**sale_order_row(31, "4500012345"), "state": state}])
    )
    mock_erp.post("/sale.order.line/search_read").mock(return_value=httpx.Response(200, json=lines or [
        sale_order_line(101, product=(5, "[WID-100] Widget, blue"), qty=3.0, price=4.5)]))
    cancel = mock_erp.post("/sale.order/action_cancel").mock(
        return_value=cancel_answer or httpx.Response(200, json=True))
    read = mock_erp.post("/sale.order/read").mock(
        return_value=httpx.Response(200, json=[{"id": 31, "state": state_after}]))
    return cancel, read


def test_cancel_calls_action_cancel_without_the_wizard_and_checks_the_state(mock_erp, client):
    cancel, read = mock_cancellable(mock_erp)

    result = OdooSalesGateway(client).cancel_sale_order(make_order(), client_order_ref="4500012345")

    assert result == CancelResult("cancelled", 31, "S00031")
    assert str(cancel.calls.last.request.url) == f"{BASE}/json/2/sale.order/action_cancel"
    assert body_of(cancel.calls.last.request) == {"ids": [31], "context": {"disable_cancel_warning": True}}
    assert body_of(read.calls.last.request) == {"ids": [31], "fields": ["state"]}


def test_cancel_refused_by_odoo_carries_odoos_message(mock_erp, client):
    mock_cancellable(mock_erp, cancel_answer=odoo_error(
        422, "odoo.exceptions.UserError", "You cannot cancel a locked order. Please unlock it first."))

    result = OdooSalesGateway(client).cancel_sale_order(make_order(), client_order_ref="4500012345")

    assert result.action == "refused" and result.name == "S00031"
    assert result.reason == (
        "Odoo refused to cancel sale order S00031: Odoo sale.order.action_cancel: HTTP 422 "
        "odoo.exceptions.UserError: You cannot cancel a locked order. Please unlock it first.")


def test_cancel_answered_with_the_wizard_is_a_refusal(mock_erp, client):
    mock_cancellable(mock_erp, cancel_answer=httpx.Response(200, json={
        "type": "ir.actions.act_window", "res_model": "sale.order.cancel", "target": "new"}), state_after="sale")

    result = OdooSalesGateway(client).cancel_sale_order(make_order(), client_order_ref="4500012345")

    assert result.action == "refused" and "sale.order.cancel" in result.reason


def test_an_invoiced_or_delivered_order_is_not_cancelled(mock_erp, client):
    cancel, _ = mock_cancellable(mock_erp, lines=[
        sale_order_line(101, product=(5, "[WID-100] Widget, blue"), qty=3.0, price=4.5, delivered=3.0, invoiced=3.0)])

    result = OdooSalesGateway(client).cancel_sale_order(make_order(), client_order_ref="4500012345")

    assert result.action == "refused"
    assert "delivered 3, invoiced 3" in result.reason
    assert cancel.call_count == 0


@pytest.mark.parametrize(("rows", "action"), [([], "not_in_erp"), ([{**sale_order_row(31, "4500012345"),
                                                                     "state": "cancel"}], "already_cancelled")])
def test_cancel_with_nothing_to_cancel_sends_no_action(mock_erp, client, rows, action):
    mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(200, json=rows))
    cancel = mock_erp.post("/sale.order/action_cancel")

    assert OdooSalesGateway(client).cancel_sale_order(make_order(), client_order_ref="4500012345").action == action
    assert cancel.call_count == 0


def test_push_creates_a_sale_order_with_partners_and_lines(mock_erp, client):
    ref = "4500012345"
    search = mock_erp.post("/sale.order/search_read").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[sale_order_row(40, ref)])]
    )
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}])
    )
    partner_search, partner_create = fake_partner_directory(mock_erp, {"acme:BY:0001": 11}, first_new_id=12)
    create = mock_erp.post("/sale.order/create").mock(return_value=httpx.Response(200, json=[40]))

    result = OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref=ref)

    assert result == PushResult(sale_order_id=40, name="S00040", created=True)
    assert search.call_count == 2  # looked before creating and again after
    assert [body_of(c.request)["domain"] for c in partner_search.calls] == [
        [["ref", "=", "acme:BY:0001"]],
        [["ref", "=", "acme:ST:0042"]],
        [["ref", "=", "acme:ST:0042"]],  # looked again after creating it
    ]
    assert partner_create.call_count == 1
    (ship_to_vals,) = body_of(partner_create.calls.last.request)["vals_list"]
    assert ship_to_vals == {
        "name": CUSTOMER_NAME,
        "ref": "acme:ST:0042",
        "street": CUSTOMER_STREET,
        "city": "Springfield",
        "parent_id": 11,
        "type": "delivery",
    }
    (vals,) = body_of(create.calls.last.request)["vals_list"]
    assert vals == {
        "partner_id": 11,
        "partner_invoice_id": 11,
        "partner_shipping_id": 12,
        "client_order_ref": ref,
        "pricelist_id": 1,
        "date_order": "2025-03-14 12:00:00",
        "origin": "orderhub:acme",
        "order_line": [[0, 0, {"product_id": 5, "product_uom_qty": 3.0, "price_unit": 4.5, "name": "Widget, blue"}]],
        "note": "Imported by orderhub from x12 order 4500012345 of acme.",
    }


def test_push_drops_its_own_order_when_a_concurrent_push_won(mock_erp, client):
    ref = "4500012345"
    mock_erp.post("/sale.order/search_read").mock(
        side_effect=[
            httpx.Response(200, json=[]),
            httpx.Response(200, json=[sale_order_row(40, ref), sale_order_row(41, ref)]),
        ]
    )
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}])
    )
    mock_erp.post("/res.partner/search_read").mock(return_value=httpx.Response(200, json=[{"id": 11}]))
    mock_erp.post("/sale.order/create").mock(return_value=httpx.Response(200, json=[41]))
    unlink = mock_erp.post("/sale.order/unlink").mock(return_value=httpx.Response(200, json=True))

    result = OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref=ref)

    assert result == PushResult(sale_order_id=40, name="S00040", created=False)
    assert unlink.call_count == 1
    assert body_of(unlink.calls.last.request) == {"ids": [41]}


def test_unknown_sku_rejects_the_order_before_any_partner_or_order_is_created(mock_erp, client):
    mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(200, json=[]))
    products = mock_erp.post("/product.product/search_read").mock(
        side_effect=[httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}]), httpx.Response(200, json=[])]
    )
    partner_calls = mock_erp.post(path__startswith="/res.partner/")
    create = mock_erp.post("/sale.order/create")
    order = make_order(
        OrderLine(line_no="1", sku="WID-100", quantity=Decimal(1)),
        OrderLine(line_no="2", sku="NOPE-1", gtin="00099999999999", quantity=Decimal(1)),
    )

    with pytest.raises(ErpRejected) as caught:
        OdooSalesGateway(client).push_sale_order(order, client_order_ref="acme:1")

    assert "unknown product SKU 'NOPE-1'" in caught.value.reason
    assert caught.value.location == "lines 2"
    # First by SKU, then by GTIN for the line the SKU did not find.
    assert [body_of(c.request)["domain"] for c in products.calls] == [
        [["default_code", "in", ["NOPE-1", "WID-100"]]],
        [["barcode", "in", ["00099999999999"]]],
    ]
    assert partner_calls.call_count == 0 and create.call_count == 0


def test_ensure_product_finds_by_gtin_and_rejects_ambiguous_skus(mock_erp, client):
    products = mock_erp.post("/product.product/search_read")
    gateway = OdooSalesGateway(client)

    products.mock(return_value=httpx.Response(200, json=[{"id": 8, "barcode": "00012345678905"}]))
    assert gateway.ensure_product(OrderLine(line_no="1", gtin="00012345678905", quantity=Decimal(1))) == 8

    products.mock(
        return_value=httpx.Response(200, json=[{"id": 8, "default_code": "DUP"}, {"id": 9, "default_code": "DUP"}])
    )
    with pytest.raises(ErpRejected, match="matches 2 ERP products"):
        gateway.ensure_product(OrderLine(line_no="1", sku="DUP", quantity=Decimal(1)))


def test_ensure_partner_reuses_by_ref_or_creates(mock_erp, client):
    search, create = fake_partner_directory(mock_erp, {"acme:BY:0001": 3}, first_new_id=4)
    gateway = OdooSalesGateway(client)

    assert gateway.ensure_partner(Party(role=PartyRole.BUYER, name="ACME Retail", id="0001"), ref="acme:BY:0001") == 3
    assert create.call_count == 0
    assert gateway.ensure_partner(Party(role=PartyRole.BUYER, name="Bluebird", id="9"), ref="bluebird:BY:9") == 4
    assert body_of(create.calls.last.request) == {
        "vals_list": [{"name": "Bluebird", "ref": "bluebird:BY:9", "is_company": True}]
    }
    assert gateway.ensure_partner(Party(role=PartyRole.BUYER, name="Bluebird", id="9"), ref="bluebird:BY:9") == 4
    assert create.call_count == 1
    assert search.call_count == 4  # one look each time, plus one more right after creating


def test_ensure_partner_archives_its_copy_when_a_concurrent_push_created_one_first(mock_erp, client):
    mock_erp.post("/res.partner/search_read").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[{"id": 7}, {"id": 8}])]
    )
    mock_erp.post("/res.partner/create").mock(return_value=httpx.Response(200, json=[8]))
    archive = mock_erp.post("/res.partner/write").mock(return_value=httpx.Response(200, json=True))

    partner_id = OdooSalesGateway(client).ensure_partner(Party(role=PartyRole.SHIP_TO, id="0042"), ref="acme:ST:0042")

    assert partner_id == 7
    assert body_of(archive.calls.last.request) == {"ids": [8], "vals": {"active": False}}


def test_order_without_any_customer_party_is_rejected(mock_erp, client):
    mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(200, json=[]))
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}])
    )

    with pytest.raises(ErpRejected, match="no buyer"):
        OdooSalesGateway(client).push_sale_order(make_order(parties=[]), client_order_ref="acme:1")


def test_find_sale_orders_batches_and_groups_by_ref(mock_erp, client):
    refs = [f"acme:{n}" for n in range(450)]

    def answer(request: httpx.Request) -> httpx.Response:
        ((_, _, asked),) = body_of(request)["domain"]
        # acme:0 exists twice, acme:1 once, the rest are missing.
        rows = [sale_order_row(1, "acme:0"), sale_order_row(2, "acme:0"), sale_order_row(3, "acme:1")]
        return httpx.Response(200, json=[row for row in rows if row["client_order_ref"] in asked])

    search = mock_erp.post("/sale.order/search_read").mock(side_effect=answer)
    gateway = OdooSalesGateway(client)

    found = gateway.find_sale_orders(refs)

    assert [len(body_of(c.request)["domain"][0][2]) for c in search.calls] == [200, 200, 50]
    assert body_of(search.calls[0].request)["fields"] == ["id", "name", "client_order_ref", "state", "amount_total"]
    assert list(found) == refs
    assert [o.id for o in found["acme:0"]] == [1, 2]
    assert found["acme:1"][0].amount_total == Decimal("13.5")
    assert found["acme:2"] == []

    counts = gateway.sale_order_refs(["acme:0", "acme:1", "acme:2"])
    assert counts == {"acme:0": 2, "acme:1": 1, "acme:2": 0}


def test_list_by_prefix_escapes_like_wildcards(mock_erp, client):
    search = mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(200, json=[]))

    OdooSalesGateway(client).list_sale_orders_by_ref_prefix("ac_me:", limit=10)

    body = body_of(search.calls.last.request)
    assert body["domain"] == [["client_order_ref", "=like", "ac\\_me:%"]]
    assert body["limit"] == 10


def test_no_customer_data_in_logs_during_a_push(mock_erp, client, caplog):
    caplog.set_level(logging.DEBUG)
    ref = "4500012345"
    mock_erp.post("/sale.order/search_read").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[sale_order_row(40, ref)])]
    )
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}])
    )
    mock_erp.post("/res.partner/search_read").mock(return_value=httpx.Response(200, json=[]))
    mock_erp.post("/res.partner/create").mock(
        side_effect=[
            httpx.Response(200, json=[11]),
            odoo_error(422, "odoo.exceptions.ValidationError", f"bad street {CUSTOMER_STREET}"),
        ]
    )

    with pytest.raises(ErpRejected):
        OdooSalesGateway(client).push_sale_order(make_order(), client_order_ref=ref)

    assert "ERP partner 11" in caplog.text  # the logs do say what happened ...
    for secret in (CUSTOMER_NAME, CUSTOMER_STREET, API_KEY):  # ... but not to whom
        assert secret not in caplog.text


def test_party_ref_is_stable_and_does_not_expose_an_unnamed_party():
    order = make_order()
    with_id = Party(role=PartyRole.SHIP_TO, id="0042")
    without_id = Party(role=PartyRole.SHIP_TO, name=CUSTOMER_NAME, address_lines=[CUSTOMER_STREET], city="Springfield")
    same_spelled_differently = Party(
        role=PartyRole.SHIP_TO, name=CUSTOMER_NAME.upper(), address_lines=[f" {CUSTOMER_STREET} "], city="springfield"
    )

    assert party_ref(order, with_id) == "acme:ST:0042"
    ref = party_ref(order, without_id)
    assert ref.startswith("acme:ST:#") and "Jane" not in ref
    assert party_ref(order, same_spelled_differently) == ref


def test_a_push_retried_after_a_timed_out_create_finds_the_committed_order(mock_erp, client):
    """A create that timed out may have committed: the retry must find it rather than create it again."""
    ref = "4500012345"
    mock_erp.post("/sale.order/search_read").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[sale_order_row(40, ref)])]
    )
    mock_erp.post("/product.product/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "default_code": "WID-100"}])
    )
    mock_erp.post("/res.partner/search_read").mock(return_value=httpx.Response(200, json=[{"id": 11}]))
    create = mock_erp.post("/sale.order/create").mock(side_effect=httpx.ReadTimeout("no answer"))
    # What the timed-out create committed: the order as it was sent.
    mock_erp.post("/sale.order/read").mock(return_value=httpx.Response(200, json=[{
        "id": 40, "name": "S00040", "state": "draft", "locked": False, "partner_id": [11, "ACME Retail"],
        "partner_invoice_id": [11, "ACME Retail"], "partner_shipping_id": [11, "ACME Retail"],
        "date_order": "2025-03-14 12:00:00"}]))
    mock_erp.post("/sale.order.line/search_read").mock(return_value=httpx.Response(200, json=[
        sale_order_line(400, product=(5, "Widget, blue"), qty=3.0, price=4.5, name="Widget, blue")]))
    write = mock_erp.post("/sale.order/write")
    gateway = OdooSalesGateway(client)

    with pytest.raises(RetriableError):
        gateway.push_sale_order(make_order(), client_order_ref=ref)
    retried = gateway.push_sale_order(make_order(), client_order_ref=ref)

    assert retried == PushResult(sale_order_id=40, name="S00040", created=False, action="unchanged")
    assert create.call_count == 1 and write.call_count == 0


# -- on the shared HTTP base: what is retried and what is not ----------------------------------------


@pytest.fixture
def retrying_client(clock: FakeClock):
    """A client whose reads are retried (as the hub's ERP resource configures it)."""
    config = OdooConfig(database="mycompany", api_key=API_KEY, http={"base_url": BASE, "max_retries": 3,
                        "backoff_base_seconds": 1, "backoff_cap_seconds": 60})
    with OdooJson2Client(config, sleep=clock.sleep, clock=clock, rng=random.Random(7)) as client:
        yield client


@pytest.mark.parametrize(
    ("model", "method", "params"),
    [
        ("sale.order", "create", {"vals_list": [{"partner_id": 11}]}),
        ("sale.order", "write", {"ids": [31], "vals": {"note": "x"}}),
        ("sale.order", "action_confirm", {"ids": [31]}),
        ("sale.order", "action_cancel", {"ids": [31]}),
        ("res.partner", "create", {"vals_list": [{"name": "ACME"}]}),
    ],
)
def test_a_call_that_changes_data_is_sent_once_on_a_503(mock_erp, retrying_client, clock, model, method, params):
    route = mock_erp.post(f"/{model}/{method}").mock(
        return_value=odoo_error(503, "werkzeug.exceptions.ServiceUnavailable", "maintenance",
                                headers={"Retry-After": "7"})
    )

    with pytest.raises(RetriableError) as caught:
        retrying_client.call(model, method, **params)

    assert route.call_count == 1  # the outbox retries it, after looking whether it took effect
    assert caught.value.retry_after == 7
    assert clock.sleeps == []
    assert retrying_client.stats.retries == 0


def test_a_timed_out_write_is_not_sent_again(mock_erp, retrying_client, clock):
    route = mock_erp.post("/sale.order/create").mock(side_effect=httpx.ReadTimeout("no answer"))

    with pytest.raises(RetriableError, match="timed out"):
        retrying_client.call("sale.order", "create", vals_list=[{"partner_id": 11}])

    assert route.call_count == 1 and clock.sleeps == []


def test_a_read_is_retried_after_the_servers_retry_after(mock_erp, retrying_client, clock):
    route = mock_erp.post("/sale.order/search_read").mock(side_effect=[
        odoo_error(503, "werkzeug.exceptions.ServiceUnavailable", "maintenance", headers={"Retry-After": "2"}),
        odoo_error(429, "werkzeug.exceptions.TooManyRequests", "slow down", headers={"Retry-After": "5"}),
        httpx.Response(200, json=[{"id": 31}]),
    ])

    assert retrying_client.call("sale.order", "search_read", domain=[], fields=["id"]) == [{"id": 31}]

    assert route.call_count == 3
    assert clock.sleeps == [2.0, 5.0]
    # Every attempt is the same request.
    assert {c.request.content for c in route.calls} == {b'{"domain":[],"fields":["id"]}'}
    assert retrying_client.stats.retries == 2 and retrying_client.stats.responses_429 == 1


def test_a_read_without_retry_after_backs_off_with_jitter_then_gives_up(mock_erp, retrying_client, clock):
    route = mock_erp.post("/sale.order/search_count").mock(return_value=httpx.Response(502, text="<html>bad</html>"))

    with pytest.raises(RetriableError, match="HTTP 502") as caught:
        retrying_client.call("sale.order", "search_count", domain=[])

    assert route.call_count == 4  # the first attempt and max_read_retries=3 more
    assert caught.value.retry_after is None
    assert len(clock.sleeps) == 3
    for n, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= 2 ** (n - 1)  # full jitter under base * 2^(n-1)


def test_a_read_with_a_retry_after_beyond_the_cap_is_handed_back_at_once(mock_erp, retrying_client, clock):
    busy = httpx.Response(503, headers={"Retry-After": "600"})
    route = mock_erp.post("/sale.order/search_read").mock(return_value=busy)

    with pytest.raises(RetriableError) as caught:
        retrying_client.call("sale.order", "search_read", domain=[])

    assert route.call_count == 1 and clock.sleeps == []
    assert caught.value.retry_after == 600


def test_a_read_that_timed_out_is_sent_again(mock_erp, retrying_client):
    route = mock_erp.post("/sale.order/read").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=[{"id": 31, "name": "S00031"}])]
    )

    assert retrying_client.call("sale.order", "read", ids=[31], fields=["name"]) == [{"id": 31, "name": "S00031"}]
    assert route.call_count == 2


def test_reads_are_not_retried_unless_configured(mock_erp, client):
    route = mock_erp.post("/sale.order/search_read").mock(return_value=httpx.Response(503))

    with pytest.raises(RetriableError):
        client.call("sale.order", "search_read", domain=[])

    assert route.call_count == 1


def test_a_refused_api_key_is_a_configuration_error_and_not_retried(mock_erp, retrying_client, clock):
    route = mock_erp.post("/res.partner/search_read").mock(
        return_value=odoo_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
    )

    refused = re.escape("HTTP 401 werkzeug.exceptions.Unauthorized: Invalid apikey")
    with pytest.raises(ConfigurationError, match=refused):
        retrying_client.call("res.partner", "search_read", domain=[])

    assert route.call_count == 1 and clock.sleeps == []


def test_a_user_error_is_a_rejected_document_with_odoos_message(mock_erp, retrying_client, clock):
    message = "You cannot cancel a locked order. Please unlock it first."
    route = mock_erp.post("/sale.order/action_cancel").mock(
        return_value=odoo_error(422, "odoo.exceptions.UserError", message)
    )

    with pytest.raises(RejectedDocument) as caught:
        retrying_client.call("sale.order", "action_cancel", ids=[31])

    assert isinstance(caught.value, ErpRejected)
    assert caught.value.reason == f"Odoo sale.order.action_cancel: HTTP 422 odoo.exceptions.UserError: {message}"
    assert caught.value.status_code == 422 and caught.value.error_name == "odoo.exceptions.UserError"
    assert route.call_count == 1 and clock.sleeps == []


def test_a_redirect_is_not_followed_and_means_a_wrong_base_url(mock_erp, retrying_client):
    mock_erp.post("/sale.order/search_read").mock(
        return_value=httpx.Response(303, headers={"Location": "https://erp.example.com/web/login"})
    )
    login = respx.get("https://erp.example.com/web/login")

    with pytest.raises(ConfigurationError, match=re.escape("redirected to https://erp.example.com/web/login")):
        retrying_client.call("sale.order", "search_read", domain=[])

    assert login.call_count == 0


def test_retries_log_model_method_and_status_but_no_key_or_values(mock_erp, retrying_client, caplog):
    caplog.set_level(logging.DEBUG)
    mock_erp.post("/res.partner/search_read").mock(side_effect=[
        httpx.Response(503),
        odoo_error(422, "odoo.exceptions.ValidationError", f"bad street {CUSTOMER_STREET} for key {API_KEY}"),
    ])

    with pytest.raises(ErpRejected) as caught:
        retrying_client.call("res.partner", "search_read", domain=[("street", "=", CUSTOMER_STREET)])

    assert "/json/2/res.partner/search_read" in caplog.text and "HTTP 503" in caplog.text and "HTTP 422" in caplog.text
    for secret in (API_KEY, CUSTOMER_STREET):
        assert secret not in caplog.text
    assert API_KEY not in str(caught.value)  # Odoo's message travels in the exception, the key blanked out


def test_the_hub_resource_retries_reads(mock_erp):
    from hub.defs.resources import ErpResource

    route = mock_erp.post("/sale.order/search_read").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200, json=[])]
    )
    resource = ErpResource(base_url=BASE, database="", api_key=API_KEY)

    with resource.gateway() as gateway:
        assert gateway.sale_order_refs(["acme:1"]) == {"acme:1": 0}

    assert route.call_count == 2
    assert "X-Odoo-Database" not in route.calls.last.request.headers  # "" in the environment means none
