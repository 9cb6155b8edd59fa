"""Shopify GraphQL Admin API client: orders updated since a moment, page by page, within the cost budget."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError
from connectors._http import HttpConnector, StaticHeaderAuth, error_message
from connectors._http._connector import _NOT_SENT
from connectors.shopify._config import ShopifyConfig
from connectors.shopify._models import OrderPage
from connectors.shopify._query import ORDER_QUERY, ORDERS_QUERY, updated_between
from connectors.shopify._rate import THROTTLED, QueryCost, ShopifyCostLimiter, query_cost

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
_MAX_MESSAGE = 300
# Top-level error codes (errors[].extensions.code) that are not a bug in our query.
_RETRIABLE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "TIMEOUT"})
_CONFIGURATION_CODES = frozenset({"ACCESS_DENIED", "SHOP_INACTIVE", "MAX_COST_EXCEEDED"})


class NotExecuted(RetriableError):
    """Shopify refused the call before running it (HTTP 429): safe to send again, even a mutation."""


class ShopifyClient(HttpConnector):
    """One store's GraphQL Admin API (one client per partner profile; several shops, several clients).

    ``POST /admin/api/{version}/graphql.json`` with the ``orders`` query (``sortKey: UPDATED_AT``,
    ``query: "updated_at:>=..."``), then ``after: pageInfo.endCursor`` to the last page. Every
    answer's ``extensions.cost`` paces the next query so the shop's cost bucket is not run dry;
    a ``THROTTLED`` answer (HTTP 200) waits the time the bucket needs for the query, then asks again.
    """

    name = "shopify"

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.shop = config
        self.cost_limiter = ShopifyCostLimiter(config.bucket_size, config.restore_rate,
                                               expected_cost=config.expected_query_cost,
                                               headroom=config.cost_headroom, clock=clock)
        super().__init__(config.http_config(), auth=StaticHeaderAuth(ACCESS_TOKEN_HEADER, config.access_token),
                         rate_limiter=self.cost_limiter, transport=transport, sleep=sleep, clock=clock, rng=rng)

    @property
    def graphql_path(self) -> str:
        """``/admin/api/<version>/graphql.json``: the pinned version's endpoint."""
        return f"/admin/api/{self.shop.api_version}/graphql.json"

    @property
    def last_cost(self) -> QueryCost | None:
        """The last answer's cost report (requested and actual cost, the bucket as Shopify saw it)."""
        return self.cost_limiter.last_cost

    def execute(self, query: str, variables: dict[str, Any], *,
                idempotent: bool = True) -> tuple[httpx.Response, Any]:
        """Run one query: the answer and its parsed body (None when it is not JSON), errors raised as hub errors.

        ``THROTTLED`` is waited out and asked again (up to ``max_retries`` times, each wait at most
        ``backoff_cap_seconds``, else a :class:`RetriableError` carrying the wait), Shopify's
        ``INTERNAL_SERVER_ERROR``/``TIMEOUT`` asked again after a jittered backoff; any other
        top-level ``errors`` entry becomes the hub error its ``extensions.code`` means.

        ``idempotent=False`` (a mutation without an idempotency key) is sent again only when Shopify
        cannot have run it (``THROTTLED``, HTTP 429, no connection). After anything else that may
        have reached it (a timeout, a 5xx, ``INTERNAL_SERVER_ERROR``/``TIMEOUT``) the call raises a
        :class:`RetriableError` marked ``write_in_doubt``: the caller looks up before sending again.
        """
        throttled = 0
        failed = 0
        while True:
            response = self._post(query, variables, idempotent=idempotent)
            body = _json(response.content)
            cost = query_cost(body)
            self.cost_limiter.observe_cost(cost)
            errors = body.get("errors") if isinstance(body, dict) else None
            if not errors:
                return response, body
            codes = _codes(errors)
            if codes & _RETRIABLE_CODES and not codes - _RETRIABLE_CODES:
                if not idempotent:  # Shopify may have run the mutation before it failed
                    error = self.graphql_error(errors)
                    if isinstance(error, RetriableError):
                        error.write_in_doubt = True
                    raise error
                if failed < self.config.max_retries:
                    failed += 1
                    self._back_off(self._backoff_delay(failed), throttled=False)
                    continue
            if THROTTLED not in codes:
                raise self.graphql_error(errors)
            self.stats.responses_429 += 1  # a THROTTLED answer is GraphQL's 429
            wait = cost.wait_for(cost.requested or self.cost_limiter.expected_cost) if cost else None
            if wait is None:
                wait = self._backoff_delay(throttled + 1)
            if throttled >= self.config.max_retries or wait > self.config.backoff_cap_seconds:
                raise RetriableError(f"shopify POST {self.graphql_path}: throttled, "
                                     f"the cost bucket needs {wait:.1f}s", retry_after=wait)
            throttled += 1
            self._back_off(wait, throttled=True)

    def _post(self, query: str, variables: dict[str, Any], *, idempotent: bool) -> httpx.Response:
        """POST the query; a mutation is sent again only after a refusal Shopify did not run."""
        payload = {"query": query, "variables": variables}
        if idempotent:  # a query changes nothing: the shared retries (timeouts, 5xx, 429) are safe
            return self.request("POST", self.graphql_path, json=payload, idempotent=True)
        refused = 0
        while True:
            try:
                # max_retries=0: the shared retries would resend after a 5xx, which may follow a done mutation.
                return self.request("POST", self.graphql_path, json=payload, idempotent=False, max_retries=0)
            except RetriableError as exc:
                unsent = isinstance(exc, NotExecuted) or isinstance(exc.__cause__, _NOT_SENT)
                exc.write_in_doubt = not unsent
                wait = exc.retry_after if exc.retry_after is not None else self._backoff_delay(refused + 1)
                if not unsent or refused >= self.config.max_retries or wait > self.config.backoff_cap_seconds:
                    raise
                refused += 1
                self._back_off(wait, throttled=isinstance(exc, NotExecuted))

    def iter_order_pages(
        self,
        updated_at_min: dt.datetime,
        *,
        updated_at_max: dt.datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[OrderPage]:
        """Every order (any status, test orders included) updated in [min, max], oldest update first, page by page.

        ``updated_at_max`` pins the window's end so orders edited while paging are left for the next
        sync instead of moving under the cursor. An answer that is not a page of orders is handed on
        as ``unreadable`` (to be archived) and the same page asked once more; a second one ends the read.
        """
        variables: dict[str, Any] = {
            "first": limit or self.shop.page_limit,
            "after": None,
            "query": updated_between(updated_at_min, updated_at_max),
            "lineItems": self.shop.line_items_limit,
            "shippingLines": self.shop.shipping_lines_limit,
        }
        unreadable_in_a_row = 0
        while True:
            response, body = self.execute(ORDERS_QUERY, variables)
            page = _order_page(response, body, self._page_name(variables["after"]))
            yield page
            if page.unreadable is not None:
                unreadable_in_a_row += 1
                if unreadable_in_a_row > 1:
                    return
                continue
            unreadable_in_a_row = 0
            if page.end_cursor is None:
                return
            if page.end_cursor == variables["after"]:
                raise FatalError(f"shopify POST {self.graphql_path}: the next page is this page again")
            variables["after"] = page.end_cursor

    def get_order(self, order_id: int | str) -> OrderPage:
        """One order by its numeric id (``order(id: "gid://shopify/Order/<id>")``), as a page of one."""
        gid = f"gid://shopify/Order/{int(order_id)}"
        response, body = self.execute(ORDER_QUERY, {"id": gid, "lineItems": self.shop.line_items_limit,
                                                    "shippingLines": self.shop.shipping_lines_limit})
        order = body.get("data", {}).get("order") if isinstance(body, dict) else None
        if not isinstance(order, dict):
            raise ConfigurationError(f"shopify POST {self.graphql_path}: no order {int(order_id)} in this shop")
        return OrderPage(response.content, [order], f"{self.graphql_path} order {int(order_id)}")

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """Shopify specifics on top of the shared mapping: a frozen (402) or locked (423) shop needs a person."""
        if response.status_code in (402, 423):
            what = f"{response.request.method} {response.request.url.path}"
            reason = "frozen: unpaid" if response.status_code == 402 else "locked"
            message = error_message(response)
            return ConfigurationError(f"shopify {what}: HTTP {response.status_code}, the shop is {reason}"
                                      + (f" ({message})" if message else ""))
        error = super().classify_error(response)
        if response.status_code == 429 and isinstance(error, RetriableError):
            # Shopify refuses a call over the REST-style rate limit before running it.
            return NotExecuted(str(error), retry_after=error.retry_after)
        return error

    def graphql_error(self, errors: Any) -> HubError:
        """The hub error for a GraphQL answer's top-level ``errors`` (HTTP 200)."""
        codes = _codes(errors)
        text = f"shopify POST {self.graphql_path}: {_messages(errors)}"
        if codes & _CONFIGURATION_CODES:
            return ConfigurationError(f"{text} (check the app's access scopes, the shop, or page_limit and "
                                      "line_items_limit for MAX_COST_EXCEEDED)")
        if codes & _RETRIABLE_CODES:
            return RetriableError(text)
        # A query the schema refuses: the API version changed under the query (or the query is wrong).
        return FatalError(f"{text} (API version {self.shop.api_version})")

    def _page_name(self, after: str | None) -> str:
        # The receipt's source name: which page of the listing this was (cursors are opaque and short).
        return f"{self.graphql_path} orders after {after[:400]}" if after else f"{self.graphql_path} orders"


def raise_for_user_errors(payload: Any, *, mutation: str) -> None:
    """Raise :class:`RejectedDocument` for a mutation payload's ``userErrors`` (field path and message each).

    The sync sends no mutations today; a connector method that does passes its payload here.
    """
    errors = payload.get("userErrors") if isinstance(payload, dict) else None
    if not errors:
        return
    parts = []
    for error in errors if isinstance(errors, list) else [errors]:
        if isinstance(error, dict):
            field = ".".join(str(f) for f in error.get("field") or [])
            parts.append(f"{field}: {error.get('message')}" if field else str(error.get("message")))
    message = "; ".join(parts)[:_MAX_MESSAGE]
    raise RejectedDocument(f"shopify {mutation}: {message}", location=mutation)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError):
        return None


def _codes(errors: Any) -> set[str]:
    entries = errors if isinstance(errors, list) else [errors]
    return {str(e["extensions"].get("code")) for e in entries
            if isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code")}


def _messages(errors: Any) -> str:
    entries = errors if isinstance(errors, list) else [errors]
    texts = [str(e.get("message")) if isinstance(e, dict) else str(e) for e in entries]
    message = " ".join("; ".join(t for t in texts if t).split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _order_page(response: httpx.Response, body: Any, name: str) -> OrderPage:
    """The page's order nodes and next cursor; a body that is not a page is handed on as ``unreadable``."""
    if body is None:
        return OrderPage(response.content, [], name,
                         unreadable=f"shopify {name}: HTTP {response.status_code} but not JSON")
    data = body.get("data") if isinstance(body, dict) else None
    orders = data.get("orders") if isinstance(data, dict) else None
    nodes = orders.get("nodes") if isinstance(orders, dict) else None
    if not isinstance(nodes, list):
        return OrderPage(response.content, [], name, unreadable=f"shopify {name}: no data.orders.nodes list")
    info: Any = orders.get("pageInfo") if isinstance(orders, dict) else None
    cursor = info.get("endCursor") if isinstance(info, dict) and info.get("hasNextPage") is True else None
    if isinstance(info, dict) and info.get("hasNextPage") is True and not (isinstance(cursor, str) and cursor):
        # More pages but no way to them: reading on would silently end the sync early.
        return OrderPage(response.content, [], name, unreadable=f"shopify {name}: hasNextPage without endCursor")
    # An entry that is no object is that order's problem: the mapper rejects it, the page goes on.
    return OrderPage(response.content, nodes, name, end_cursor=cursor)
