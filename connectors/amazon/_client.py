"""The Orders API v0 client: getOrders by LastUpdatedAfter with NextToken, getOrderItems per order."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument
from connectors._http import (
    Auth,
    HttpConnector,
    NextTokenPaginator,
    OAuthRefreshAuth,
    PageRequest,
)
from connectors.amazon._config import AmazonConfig
from connectors.amazon._models import (
    GET_ORDER_ITEMS,
    GET_ORDERS,
    ORDERS_PATH,
    OrderItemsPage,
    OrdersPage,
    order_items_path,
    parse_order_items_page,
    parse_orders_page,
)
from connectors.amazon._rate import OperationBucket, OperationRateLimiter
from connectors.amazon._restricted import (
    CREATE_RESTRICTED_DATA_TOKEN,
    RESTRICTED_DATA_TOKEN_PATH,
    RestrictedDataAuth,
    parse_restricted_data_token,
    restricted_data_token_request,
)

ACCESS_TOKEN_HEADER = "x-amz-access-token"
# Amazon order ids are 3-7-7 digits; anything else would be a path injection, not an order.
_ORDER_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$")
_ITEMS_PATH = re.compile(r"^/orders/v0/orders/[^/]+/orderItems$")


class _OrdersNextToken(NextTokenPaginator):
    """``payload.NextToken`` -> ``NextToken``; only the marketplaces go with it.

    The API uses the token instead of every other criterion; ``MarketplaceIds`` is a required
    parameter on every call, so it stays.
    """

    def __init__(self, keep: tuple[str, ...]) -> None:
        super().__init__("payload.NextToken", "NextToken", keep_params=False)
        self.keep = keep

    def next(self, response: httpx.Response, previous: PageRequest) -> PageRequest | None:
        """The same path with the token and the kept parameters only."""
        following = super().next(response, previous)
        if following is None:
            return None
        kept = {k: v for k, v in (previous.params or {}).items() if k in self.keep}
        return PageRequest(following.path, {**kept, **(following.params or {})})


class AmazonClient(HttpConnector):
    """Reads a seller account's orders and order items, keeping each raw page byte for byte.

    Auth is Login with Amazon: the refresh token is traded for an access token, cached until
    ``token_margin_seconds`` before it expires and sent as ``x-amz-access-token``; a 403
    ``Unauthorized`` (e.g. the token expired early) fetches a new one once and retries.
    Each operation has its own token bucket (usage plan); 429 ``QuotaExceeded`` empties it and
    the call is retried after the bucket refills.

    With ``restricted_data`` set, getOrders is sent with a Restricted Data Token instead (created
    through the Tokens API, cached the same way, renewed once on a 403): then the orders carry the
    buyer's name, street and phone. Neither token nor any of that data is ever logged.
    """

    name = "amazon"

    def __init__(
        self,
        config: AmazonConfig,
        *,
        auth: Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        token_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.amazon = config
        if auth is None:
            auth = OAuthRefreshAuth(
                config.token_url,
                client_id=config.client_id,
                client_secret=config.client_secret,
                refresh_token=config.refresh_token,
                header=ACCESS_TOKEN_HEADER,
                prefix="",
                margin_seconds=config.token_margin_seconds,
                timeout_seconds=config.http.timeout_seconds,
                transport=token_transport or transport,
                clock=clock,
            )
        if config.restricted_data:
            auth = RestrictedDataAuth(
                auth,
                self._create_restricted_data_token,
                restricted=_is_get_orders,
                header=ACCESS_TOKEN_HEADER,
                margin_seconds=config.token_margin_seconds,
                clock=clock,
            )
        self.limiter = OperationRateLimiter(
            {
                GET_ORDERS: OperationBucket(config.get_orders_limit.rate, config.get_orders_limit.burst, clock=clock),
                GET_ORDER_ITEMS: OperationBucket(
                    config.get_order_items_limit.rate, config.get_order_items_limit.burst, clock=clock
                ),
                CREATE_RESTRICTED_DATA_TOKEN: OperationBucket(
                    config.create_restricted_data_token_limit.rate,
                    config.create_restricted_data_token_limit.burst,
                    clock=clock,
                ),
            }
        )
        super().__init__(
            config.http, auth=auth, rate_limiter=self.limiter, transport=transport, sleep=sleep, clock=clock, rng=rng
        )

    def close(self) -> None:
        """Close the API's and the token endpoint's connection pools."""
        super().close()
        close = getattr(self.auth, "close", None)
        if callable(close):
            close()

    # -- the two operations -----------------------------------------------------------------------

    def iter_order_pages(
        self, last_updated_after: dt.datetime, *, last_updated_before: dt.datetime | None = None
    ) -> Iterator[OrdersPage]:
        """Every getOrders page of orders updated at or after ``last_updated_after``, following NextToken."""
        params: dict[str, Any] = {
            "MarketplaceIds": ",".join(self.amazon.marketplace_ids),
            "LastUpdatedAfter": _iso(last_updated_after),
            "MaxResultsPerPage": self.amazon.max_results_per_page,
        }
        if last_updated_before is not None:
            params["LastUpdatedBefore"] = _iso(last_updated_before)
        paginator = _OrdersNextToken(keep=("MarketplaceIds",))
        for response in self.paginate(paginator, "GET", ORDERS_PATH, params=params):
            try:
                yield parse_orders_page(response.content, what=f"{GET_ORDERS} {ORDERS_PATH}")
            except FatalError as exc:
                # Handed on, not raised: the caller archives the body and queues it (nothing dropped).
                yield OrdersPage(response.content, [], unreadable=str(exc))

    def order_item_pages(self, order_id: str) -> list[OrderItemsPage]:
        """Every getOrderItems page of one order, following its own NextToken (alone on later pages)."""
        if not _ORDER_ID.match(order_id):
            raise RejectedDocument(f"not an Amazon order id: {order_id[:50]!r}", location="AmazonOrderId")
        path = order_items_path(order_id)
        paginator = NextTokenPaginator("payload.NextToken", "NextToken", keep_params=False)
        pages = []
        for response in self.paginate(paginator, "GET", path):
            try:
                what = f"{GET_ORDER_ITEMS} {path}"
                pages.append(parse_order_items_page(response.content, order_id=order_id, what=what))
            except FatalError as exc:
                # Handed on, not raised: the caller archives the body and queues it (nothing dropped).
                pages.append(OrderItemsPage(response.content, order_id, [], unreadable=str(exc)))
        return pages

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        """All items of one order (every page's ``OrderItems``, in order)."""
        return [item for page in self.order_item_pages(order_id) for item in page.items]

    def _create_restricted_data_token(self) -> tuple[SecretStr, float]:
        """createRestrictedDataToken for getOrders and the configured data elements (sent with the LWA token)."""
        body = restricted_data_token_request("GET", ORDERS_PATH, self.amazon.restricted_data)
        # Creating a token changes nothing on the account: a timed-out call may be sent again.
        response = self.request("POST", RESTRICTED_DATA_TOKEN_PATH, json=body, idempotent=True)
        return parse_restricted_data_token(
            response.content, what=f"{CREATE_RESTRICTED_DATA_TOKEN} {RESTRICTED_DATA_TOKEN_PATH}"
        )

    # -- the base's hooks -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """One call, paced by its operation's bucket."""
        with self.limiter.using(_operation(path)):
            return super().request(method, path, params=params, json=json, headers=headers, **kw)

    def needs_fresh_token(self, response: httpx.Response) -> bool:
        """SP-API answers an expired or revoked access token with 403 Unauthorized, not 401."""
        return response.status_code == 401 or (
            response.status_code == 403 and bool(_error_codes(response) & _TOKEN_ERRORS))

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """SP-API specifics on top of the shared mapping."""
        status = response.status_code
        if status == 404 and _ITEMS_PATH.match(response.request.url.path):
            return RejectedDocument(
                f"{self._what(response.request)}: HTTP 404: {_first_message(response)}",
                location=response.request.url.path,
            )
        if status == 403 and response.request.url.path == RESTRICTED_DATA_TOKEN_PATH:
            # Still refused after a fresh LWA token: the app lacks the role for these data elements.
            return ConfigurationError(
                f"{self._what(response.request)}: HTTP 403: {_first_message(response)} (the application needs "
                f"the roles for {', '.join(self.amazon.restricted_data)}, or remove restricted_data)"
            )
        if status == 400:
            # We only read: a refused query is our configuration or code, not a partner's document.
            return ConfigurationError(
                f"{self._what(response.request)}: HTTP 400: {_first_message(response)} "
                "(check the marketplace ids and the query)"
            )
        return super().classify_error(response)


_TOKEN_ERRORS = frozenset({"Unauthorized", "InvalidAccessToken", "ExpiredToken"})


def _operation(path: str) -> str:
    plain = httpx.URL(path).path
    if plain == RESTRICTED_DATA_TOKEN_PATH:
        return CREATE_RESTRICTED_DATA_TOKEN
    return GET_ORDER_ITEMS if _ITEMS_PATH.match(plain) else GET_ORDERS


def _is_get_orders(request: httpx.Request) -> bool:
    # The RDT covers exactly the resource it was created for: GET /orders/v0/orders.
    return request.method == "GET" and request.url.path == ORDERS_PATH


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("LastUpdatedAfter/Before must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_codes(response: httpx.Response) -> set[str]:
    return {e["code"] for e in _errors(response) if isinstance(e.get("code"), str)}


def _first_message(response: httpx.Response) -> str:
    for error in _errors(response):
        code, message = error.get("code"), error.get("message")
        if isinstance(message, str):
            return f"{code}: {message}" if isinstance(code, str) else message
    return response.reason_phrase or ""
