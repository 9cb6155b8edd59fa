"""Writing back to the marketplace: shipment confirmations and getOrder (Orders v0), listing quantities (2021-08-01).

    client = AmazonSellerClient(config)            # the same settings as AmazonClient
    client.confirm_shipment(order_id, marketplace_id, PackageDetail(...))   # once per package
    client.get_order(order_id)["OrderStatus"]      # "Shipped" once every item is confirmed
    client.patch_listing_quantity(seller_id, sku, marketplace_ids, 7)       # fulfillment_availability

Each operation has its own usage plan (the documented defaults below; ``x-amzn-RateLimit-Limit``
replaces the rate when sent). A 429 empties that operation's bucket and the call is sent again after
the backoff (a 429 means the call was not processed, so a POST may be repeated); a timeout after a
confirmation was sent is handed back as a write in doubt. ``packageReferenceId`` is a string of
digits: the API documents it as a string and accepts only positive numbers; a confirmation sent
again with the same ``packageReferenceId`` edits that package rather than adding one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from canonical.errors import FatalError, HubError, RejectedDocument, RetriableError
from connectors._http import HttpConnector
from connectors.amazon._client import AmazonClient
from connectors.amazon._models import ORDERS_PATH
from connectors.amazon._rate import OperationBucket

CONFIRM_SHIPMENT = "confirmShipment"
GET_ORDER = "getOrder"
PATCH_LISTINGS_ITEM = "patchListingsItem"
LISTINGS_API_VERSION = "2021-08-01"

# Documented default usage plans (rate per second, burst).
CONFIRM_SHIPMENT_LIMIT = (2.0, 10)
GET_ORDER_LIMIT = (0.5, 30)
PATCH_LISTINGS_ITEM_LIMIT = (5.0, 5)

_CONFIRM_PATH = re.compile(r"^/orders/v0/orders/[^/]+/shipmentConfirmation$")
_ORDER_PATH = re.compile(r"^/orders/v0/orders/[^/]+$")
_LISTINGS_PATH = re.compile(rf"^/listings/{LISTINGS_API_VERSION}/items/[^/]+/[^/]+$")
_ORDER_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$")


@dataclass(frozen=True)
class PackageDetail:
    """One package of a shipment confirmation (``packageDetail``)."""

    package_reference_id: str
    carrier_code: str
    tracking_number: str
    ship_date: dt.datetime
    order_items: Sequence[tuple[str, int]]  # (orderItemId, quantity)
    carrier_name: str | None = None  # required by the API when carrier_code is "Other"
    shipping_method: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``packageDetail`` object, ``packageReferenceId`` as a string of digits."""
        reference = str(self.package_reference_id)
        if not reference.isdigit() or int(reference) <= 0:
            raise RejectedDocument(f"packageReferenceId must be a positive number, got {reference[:20]!r}",
                                   location="packageDetail.packageReferenceId")
        if self.ship_date.tzinfo is None:
            raise ValueError("shipDate must be timezone-aware")
        detail: dict[str, Any] = {
            "packageReferenceId": reference,
            "carrierCode": self.carrier_code,
            "trackingNumber": self.tracking_number,
            "shipDate": self.ship_date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [{"orderItemId": item_id, "quantity": int(quantity)}
                           for item_id, quantity in self.order_items],
        }
        if self.carrier_name:
            detail["carrierName"] = self.carrier_name
        if self.shipping_method:
            detail["shippingMethod"] = self.shipping_method
        return detail


def shipment_confirmation_path(order_id: str) -> str:
    """``/orders/v0/orders/{orderId}/shipmentConfirmation``."""
    return f"{ORDERS_PATH}/{_checked_order_id(order_id)}/shipmentConfirmation"


def listings_item_path(seller_id: str, sku: str) -> str:
    """``/listings/2021-08-01/items/{sellerId}/{sku}``, the SKU percent-encoded (SKUs may hold ``/`` or spaces)."""
    return f"/listings/{LISTINGS_API_VERSION}/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}"


def quantity_patch(quantity: int, *, channel: str = "DEFAULT") -> list[dict[str, Any]]:
    """The JSON Patch setting ``fulfillment_availability`` quantity (``merge``: lead time and restock date stay)."""
    return [{"op": "merge", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": channel, "quantity": max(0, int(quantity))}]}]


class AmazonSellerClient(AmazonClient):
    """:class:`AmazonClient` plus the operations that write: confirmShipment, patchListingsItem; and getOrder."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        clock = self._clock
        for operation, (rate, burst) in ((CONFIRM_SHIPMENT, CONFIRM_SHIPMENT_LIMIT), (GET_ORDER, GET_ORDER_LIMIT),
                                         (PATCH_LISTINGS_ITEM, PATCH_LISTINGS_ITEM_LIMIT)):
            self.limiter.buckets[operation] = OperationBucket(rate, burst, clock=clock)

    def get_order(self, order_id: str) -> dict[str, Any]:
        """getOrder: the order's ``payload`` (``OrderStatus``, ``NumberOfItemsShipped``...)."""
        response = self.request("GET", f"{ORDERS_PATH}/{_checked_order_id(order_id)}")
        body = _json(response)
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise FatalError(f"{GET_ORDER} {ORDERS_PATH}/{order_id}: no payload object")
        return payload

    def confirm_shipment(self, order_id: str, marketplace_id: str, package: PackageDetail) -> None:
        """confirmShipment for one package; sent once (a timeout is a write in doubt), 429 waited out."""
        self.send_shipment_confirmation(order_id, {"marketplaceId": marketplace_id,
                                                   "packageDetail": package.as_json()})

    def send_shipment_confirmation(self, order_id: str, body: Mapping[str, Any]) -> None:
        """confirmShipment with a request body built before (an outbox row's): sent once, 429 waited out."""
        try:
            self.request("POST", shipment_confirmation_path(order_id), json=dict(body))
        except RetriableError as exc:
            exc.write_in_doubt = True  # it may have been taken: look the order up before sending again
            raise

    def patch_listing_quantity(self, seller_id: str, sku: str, marketplace_ids: Sequence[str], quantity: int,
                               *, product_type: str = "PRODUCT") -> dict[str, Any]:
        """patchListingsItem with the quantity patch; the submission (``status`` ACCEPTED, or INVALID with issues)."""
        body = {"productType": product_type, "patches": quantity_patch(quantity)}
        # Setting an absolute quantity twice leaves the same quantity: safe to send again after a timeout.
        response = self.request("PATCH", listings_item_path(seller_id, sku),
                                params={"marketplaceIds": ",".join(marketplace_ids)}, json=body, idempotent=True)
        answer = _json(response)
        if not isinstance(answer, dict):
            raise FatalError(f"{PATCH_LISTINGS_ITEM} {sku}: not a submission response")
        if answer.get("status") != "ACCEPTED":
            issues = "; ".join(str(i.get("message")) for i in answer.get("issues") or [] if isinstance(i, dict))
            raise RejectedDocument(f"{PATCH_LISTINGS_ITEM} {sku}: {answer.get('status')}: {issues}"[:300],
                                   location=f"listings {sku}")
        return answer

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None, **kw: Any) -> httpx.Response:
        """The write operations paced by their own buckets; the read ones as :class:`AmazonClient` paces them."""
        operation = _write_operation(method, httpx.URL(path).path)
        if operation is None:
            return super().request(method, path, params=params, json=json, headers=headers, **kw)
        with self.limiter.using(operation):
            return HttpConnector.request(self, method, path, params=params, json=json, headers=headers, **kw)

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """A refused confirmation or listing patch is that document's problem, not our configuration."""
        path = response.request.url.path
        if response.status_code == 400 and (_CONFIRM_PATH.match(path) or _LISTINGS_PATH.match(path)):
            return RejectedDocument(f"{self._what(response.request)}: HTTP 400: {_messages(response)}",
                                    location=path)
        return super().classify_error(response)


def _write_operation(method: str, path: str) -> str | None:
    if method == "POST" and _CONFIRM_PATH.match(path):
        return CONFIRM_SHIPMENT
    if method == "PATCH" and _LISTINGS_PATH.match(path):
        return PATCH_LISTINGS_ITEM
    if method == "GET" and _ORDER_PATH.match(path):
        return GET_ORDER
    return None


def _checked_order_id(order_id: str) -> str:
    if not _ORDER_ID.match(order_id):
        raise RejectedDocument(f"not an Amazon order id: {order_id[:50]!r}", location="AmazonOrderId")
    return order_id


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _messages(response: httpx.Response) -> str:
    body = _json(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    texts = [f"{e.get('code')}: {e.get('message')}" for e in errors or [] if isinstance(e, dict)]
    return "; ".join(texts)[:300] or (response.reason_phrase or "")
