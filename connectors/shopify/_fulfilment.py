"""Shopify fulfilments (GraphQL Admin API): an order's fulfillment orders, ``fulfillmentCreate``, its fulfillments.

Shopify splits an order into fulfillment orders, each assigned to one location; ``fulfillmentCreate``
takes fulfillment orders of one location only, so a shipment becomes one mutation per location. The
mutation's ``userErrors`` become :class:`RejectedDocument`; a ``THROTTLED`` answer (the mutation did
not run) is waited out by the client's cost bucket; a timeout or a 5xx is handed back as a
:class:`RetriableError` with ``write_in_doubt`` set (the caller looks the order's fulfillments up
before sending again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canonical.errors import FatalError, RejectedDocument
from connectors.shopify._client import ShopifyClient, raise_for_user_errors

FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfillment order statuses ``fulfillmentCreate`` accepts (not CLOSED, CANCELLED, ON_HOLD, SCHEDULED...)."""

FULFILLMENT_ORDERS_QUERY = """query FulfillmentOrders($id: ID!, $first: Int!, $lines: Int!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: $first) {
      nodes {
        id
        status
        assignedLocation { name location { id } }
        lineItems(first: $lines) {
          nodes { id sku remainingQuantity totalQuantity lineItem { id } }
        }
      }
    }
  }
}
"""

ORDER_FULFILLMENTS_QUERY = """query OrderFulfillments($id: ID!, $first: Int!) {
  order(id: $id) {
    id
    fulfillments(first: $first) {
      id
      status
      createdAt
      location { id }
      trackingInfo(first: 10) { company number url }
    }
  }
}
"""

FULFILLMENT_CREATE = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment {
      id
      status
      location { id }
      trackingInfo(first: 10) { company number url }
    }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class FulfillmentOrderLine:
    """One line of a fulfillment order: its own id, the order's line item (numeric id) and what is left to ship."""

    id: str
    line_item_id: str
    sku: str | None
    remaining: int


@dataclass(frozen=True)
class FulfillmentOrder:
    """A fulfillment order: the part of an order one location ships."""

    id: str
    status: str
    location_id: str
    location_name: str
    lines: tuple[FulfillmentOrderLine, ...]

    @property
    def fulfillable(self) -> bool:
        """Open (or in progress) with something left to ship."""
        return self.status in FULFILLABLE_STATUSES and any(line.remaining > 0 for line in self.lines)


@dataclass(frozen=True)
class TrackingInfo:
    """``trackingInfo { company number url }``: the carrier's name as Shopify knows it, the number, a link."""

    company: str | None
    number: str
    url: str | None = None

    def as_input(self) -> dict[str, Any]:
        """The ``FulfillmentTrackingInput`` (fields left out when unknown)."""
        value: dict[str, Any] = {"number": self.number}
        if self.company:
            value["company"] = self.company
        if self.url:
            value["url"] = self.url
        return value


@dataclass(frozen=True)
class Fulfillment:
    """A fulfillment Shopify holds for an order."""

    id: str
    status: str
    location_id: str | None
    tracking_numbers: tuple[str, ...]


def numeric_tail(gid: str) -> str:
    """``gid://shopify/LineItem/123`` -> ``123`` (the canonical order's line numbers are the numeric ids)."""
    return gid.rsplit("/", 1)[-1]


def by_location(orders: Sequence[FulfillmentOrder]) -> dict[str, list[FulfillmentOrder]]:
    """The fulfillable fulfillment orders grouped by assigned location (one ``fulfillmentCreate`` each)."""
    grouped: dict[str, list[FulfillmentOrder]] = {}
    for order in orders:
        if order.fulfillable:
            grouped.setdefault(order.location_id, []).append(order)
    return grouped


def line_items_by_fulfillment_order(orders: Sequence[FulfillmentOrder],
                                    quantities: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """``lineItemsByFulfillmentOrder`` for one location: every remaining line, or ``quantities`` per line item id."""
    entries = []
    for order in orders:
        lines = []
        for line in order.lines:
            wanted = line.remaining if quantities is None else min(line.remaining, quantities.get(line.line_item_id, 0))
            if wanted > 0:
                lines.append({"id": line.id, "quantity": wanted})
        if lines:
            entries.append({"fulfillmentOrderId": order.id, "fulfillmentOrderLineItems": lines})
    return entries


class ShopifyFulfilments:
    """One store's fulfilment calls, on its :class:`ShopifyClient` (the same cost bucket as the order sync)."""

    def __init__(self, client: ShopifyClient, *, max_fulfillment_orders: int = 20, max_lines: int = 100) -> None:
        self.client = client
        self.max_fulfillment_orders = max_fulfillment_orders
        self.max_lines = max_lines

    def fulfillment_orders(self, order_id: str | int) -> list[FulfillmentOrder]:
        """The order's fulfillment orders (``order.fulfillmentOrders``), each with its location and lines."""
        _, body = self.client.execute(FULFILLMENT_ORDERS_QUERY, {
            "id": _order_gid(order_id), "first": self.max_fulfillment_orders, "lines": self.max_lines})
        order = _order(body, self.client.graphql_path, order_id)
        return [_fulfillment_order(node) for node in _nodes(order.get("fulfillmentOrders"))]

    def fulfillments(self, order_id: str | int) -> list[Fulfillment]:
        """The fulfillments Shopify holds for the order (ours and any made by hand)."""
        _, body = self.client.execute(ORDER_FULFILLMENTS_QUERY, {"id": _order_gid(order_id), "first": 50})
        order = _order(body, self.client.graphql_path, order_id)
        found = order.get("fulfillments")
        return [_fulfillment(node) for node in found if isinstance(node, dict)] if isinstance(found, list) else []

    def create(self, line_items: list[dict[str, Any]], tracking: TrackingInfo, *,
               notify_customer: bool) -> Fulfillment:
        """``fulfillmentCreate`` for one location's fulfillment orders; sent once (a timeout is a write in doubt)."""
        variables = {"fulfillment": {"lineItemsByFulfillmentOrder": line_items, "trackingInfo": tracking.as_input(),
                                     "notifyCustomer": notify_customer}}
        # Sent once: after a timeout or a 5xx the client raises write_in_doubt (look before sending again);
        # a THROTTLED or 429 refusal it gives up on was never run, so it is not in doubt.
        _, body = self.client.execute(FULFILLMENT_CREATE, variables, idempotent=False)
        payload = body.get("data", {}).get("fulfillmentCreate") if isinstance(body, dict) else None
        raise_for_user_errors(payload, mutation="fulfillmentCreate")
        node = payload.get("fulfillment") if isinstance(payload, dict) else None
        if not isinstance(node, dict):
            raise FatalError(f"shopify POST {self.client.graphql_path}: fulfillmentCreate answered no fulfillment")
        return _fulfillment(node)


def _order_gid(order_id: str | int) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{int(text)}"


def _order(body: Any, path: str, order_id: str | int) -> dict[str, Any]:
    order = body.get("data", {}).get("order") if isinstance(body, dict) else None
    if not isinstance(order, dict):  # deleted, or another shop's: that order's problem, not the pass's
        raise RejectedDocument(f"shopify POST {path}: no order {order_id} in this shop", location=f"order {order_id}")
    return order


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [node for node in nodes if isinstance(node, dict)] if isinstance(nodes, list) else []


def _fulfillment_order(node: dict[str, Any]) -> FulfillmentOrder:
    assigned = node.get("assignedLocation") or {}
    location = assigned.get("location") or {}
    lines = tuple(
        FulfillmentOrderLine(id=str(line["id"]), line_item_id=numeric_tail(str((line.get("lineItem") or {}).get("id"))),
                             sku=line.get("sku"), remaining=int(line.get("remainingQuantity") or 0))
        for line in _nodes(node.get("lineItems")))
    return FulfillmentOrder(id=str(node["id"]), status=str(node.get("status")),
                            location_id=str(location.get("id") or ""), location_name=str(assigned.get("name") or ""),
                            lines=lines)


def _fulfillment(node: dict[str, Any]) -> Fulfillment:
    location = node.get("location") if isinstance(node.get("location"), dict) else {}
    tracking = node.get("trackingInfo")
    tracking = tracking if isinstance(tracking, list) else []
    numbers = tuple(str(t["number"]) for t in tracking if isinstance(t, dict) and t.get("number"))
    return Fulfillment(id=str(node.get("id")), status=str(node.get("status")),
                       location_id=str(location["id"]) if location and location.get("id") else None,
                       tracking_numbers=numbers)
