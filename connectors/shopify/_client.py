"""Shopify Admin REST API client: orders updated since a moment, page by page, within the call limit."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError
from connectors._http import HttpConnector, LinkHeaderPaginator, StaticHeaderAuth
from connectors.shopify._config import ShopifyConfig
from connectors.shopify._models import OrderPage
from connectors.shopify._rate import ShopifyCallLimiter

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"


class ShopifyClient(HttpConnector):
    """One store's Admin REST API (one client per partner profile; several shops, several clients).

    ``GET /admin/api/{version}/orders.json?status=any&updated_at_min=...&limit=250`` then the
    ``Link: <...page_info=...>; rel="next"`` cursors to the end; the call-limit bucket is read from
    every answer so the client waits before Shopify would refuse it; 429s wait ``Retry-After``.
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
        limiter = ShopifyCallLimiter(config.bucket_size, config.leak_rate, headroom=config.bucket_headroom,
                                     clock=clock)
        super().__init__(config.http_config(), auth=StaticHeaderAuth(ACCESS_TOKEN_HEADER, config.access_token),
                         rate_limiter=limiter, transport=transport, sleep=sleep, clock=clock, rng=rng)

    @property
    def api_root(self) -> str:
        """``/admin/api/<version>``: the pinned version's path."""
        return f"/admin/api/{self.shop.api_version}"

    def iter_order_pages(
        self,
        updated_at_min: dt.datetime,
        *,
        updated_at_max: dt.datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[OrderPage]:
        """Every order (any status, test orders included) updated at or after ``updated_at_min``, page by page.

        Shopify documents no sort order for this listing, so callers must not assume one: advance a
        cursor only after the last page, to the newest ``updated_at`` seen. ``updated_at_max`` pins
        the window's end so orders edited while paging are left for the next sync instead of moving
        under the cursor.
        """
        params: dict[str, Any] = {
            "status": "any",
            "updated_at_min": _timestamp(updated_at_min, "updated_at_min"),
            "limit": limit or self.shop.page_limit,
        }
        if updated_at_max is not None:
            params["updated_at_max"] = _timestamp(updated_at_max, "updated_at_max")
        for response in self.paginate(LinkHeaderPaginator(), "GET", f"{self.api_root}/orders.json", params=params):
            yield _order_page(response)

    def get_order(self, order_id: int | str) -> OrderPage:
        """One order by id (``GET /orders/{id}.json``), as a page of one."""
        response = self.request("GET", f"{self.api_root}/orders/{int(order_id)}.json")
        body = _json(response)
        order = body.get("order") if isinstance(body, dict) else None
        if not isinstance(order, dict):
            raise FatalError(f"shopify {response.request.url.path}: no 'order' object in the answer")
        return OrderPage(response.content, [order], _path_and_query(response))

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """Shopify specifics on top of the shared mapping: a frozen (402) or locked (423) shop needs a person."""
        if response.status_code in (402, 423):
            what = f"{response.request.method} {response.request.url.path}"
            reason = "frozen: unpaid" if response.status_code == 402 else "locked"
            return ConfigurationError(f"shopify {what}: HTTP {response.status_code}, the shop is {reason}")
        return super().classify_error(response)


def _timestamp(value: dt.datetime, name: str) -> str:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.isoformat(timespec="seconds")


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise FatalError(f"shopify {response.request.url.path}: HTTP {response.status_code} but not JSON") from exc


def _path_and_query(response: httpx.Response) -> str:
    return response.request.url.raw_path.decode("ascii")


def _order_page(response: httpx.Response) -> OrderPage:
    """The page's orders; a body that is not a page is handed on as ``unreadable`` (to be archived, not dropped)."""
    try:
        body = _json(response)
    except FatalError as exc:
        return OrderPage(response.content, [], _path_and_query(response), unreadable=str(exc))
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        return OrderPage(response.content, [], _path_and_query(response),
                         unreadable=f"shopify {response.request.url.path}: no 'orders' list in the answer")
    # An entry that is no object is that order's problem: the mapper rejects it, the page goes on.
    return OrderPage(response.content, orders, _path_and_query(response))
