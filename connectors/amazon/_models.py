"""The Orders API v0 wire format as the client hands it on: raw pages (kept byte for byte) and their content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from canonical.errors import FatalError

GET_ORDERS = "getOrders"
GET_ORDER_ITEMS = "getOrderItems"
ORDERS_PATH = "/orders/v0/orders"


def order_items_path(order_id: str) -> str:
    """The getOrderItems path of one order."""
    return f"{ORDERS_PATH}/{order_id}/orderItems"


@dataclass(frozen=True)
class OrdersPage:
    """One getOrders answer: the raw body exactly as received and its ``payload.Orders``."""

    raw: bytes
    orders: list[dict[str, Any]]
    next_token: str | None = None
    last_updated_before: str | None = None
    unreadable: str | None = None
    """Why the body could not be read (not JSON, not the documented shape); then ``orders`` is empty."""

    @property
    def sha256(self) -> str:
        """The raw body's sha256 (the id the hub archives it under)."""
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class OrderItemsPage:
    """One getOrderItems answer: the raw body exactly as received and its ``payload.OrderItems``."""

    raw: bytes
    amazon_order_id: str
    items: list[dict[str, Any]] = field(default_factory=list)
    next_token: str | None = None
    unreadable: str | None = None
    """Why the body could not be read (not JSON, no ``OrderItems`` list); then ``items`` is empty."""

    @property
    def sha256(self) -> str:
        """The raw body's sha256 (the id the hub archives it under)."""
        return hashlib.sha256(self.raw).hexdigest()


def parse_orders_page(raw: bytes, *, what: str) -> OrdersPage:
    """Read a getOrders body; a body that is not the documented shape means the contract changed."""
    payload = _payload(raw, what)
    orders = payload.get("Orders")
    if not isinstance(orders, list):
        # An entry that is no object is that order's problem: the mapper rejects it, the page goes on.
        raise FatalError(f"{what}: payload.Orders is not a list of orders")
    return OrdersPage(raw, orders, _token(payload), payload.get("LastUpdatedBefore"))


def parse_order_items_page(raw: bytes, *, order_id: str | None, what: str) -> OrderItemsPage:
    """Read a getOrderItems body; it must name the order that was asked for.

    ``order_id=None`` (an archived body read again) takes the order from the body's ``AmazonOrderId``.
    """
    payload = _payload(raw, what)
    items = payload.get("OrderItems")
    if not isinstance(items, list):
        # An entry that is no object is that order's problem: the mapper rejects the order, located.
        raise FatalError(f"{what}: payload.OrderItems is not a list of items")
    answered = payload.get("AmazonOrderId")
    if order_id is None:
        if not isinstance(answered, str) or not answered:
            raise FatalError(f"{what}: payload.AmazonOrderId is missing")
        order_id = answered
    elif answered is not None and answered != order_id:
        raise FatalError(f"{what}: asked for the items of {order_id}, got those of {answered}")
    return OrderItemsPage(raw, order_id, items, _token(payload))


def _payload(raw: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise FatalError(f"{what}: HTTP 200 but the body is not JSON") from exc
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict):
        raise FatalError(f"{what}: HTTP 200 without a payload object")
    return payload


def _token(payload: dict[str, Any]) -> str | None:
    token = payload.get("NextToken")
    return token if isinstance(token, str) and token else None
