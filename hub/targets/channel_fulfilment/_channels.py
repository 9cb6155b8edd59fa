"""What each channel makes of a shipped order: the parts to send, sending one, and finding them after a lost answer.

Shopify: one part per location (``fulfillmentCreate`` takes the fulfillment orders of one location),
found again among the order's fulfillments by our tracking number and the location. Marketplace: one
part per package (one label per order today), its ``packageReferenceId`` the label's row id as a string
of digits; found again by getOrder's ``OrderStatus`` (``Shipped``), and a confirmation sent again with
the same ``packageReferenceId`` edits that package instead of adding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from canonical.errors import RejectedDocument
from canonical.model import Order
from connectors.amazon import AmazonSellerClient, PackageDetail
from connectors.shopify import ShopifyFulfilments, TrackingInfo, by_location, line_items_by_fulfillment_order
from hub.store._fulfilment import FulfilmentRow, PlannedPart, ShippedOrder
from hub.targets._protocol import Found

NOTHING_OPEN = "nothing-open"
"""The part recorded when the channel had nothing left to fulfil (fulfilled by hand, or elsewhere)."""
NOT_PLANNED = "not-planned"
"""The part recorded, refused, when the channel refused to say what to fulfil (an order it does not hold)."""

# EasyPost carrier names -> the names the channels know (Shopify's tracking companies, SP-API CarrierCode).
_SHOPIFY_COMPANIES = {"USPS": "USPS", "UPS": "UPS", "FEDEX": "FedEx", "DHLEXPRESS": "DHL Express",
                      "DHL": "DHL Express", "CANADAPOST": "Canada Post", "ONTRAC": "OnTrac"}
_AMAZON_CARRIER_CODES = {"USPS": "USPS", "UPS": "UPS", "FEDEX": "FedEx", "DHL": "DHL", "DHLEXPRESS": "DHL",
                         "ONTRAC": "OnTrac", "CANADAPOST": "Canada Post"}
_SHIPPED = "Shipped"


def _carrier_key(carrier: str | None) -> str:
    return "".join(ch for ch in (carrier or "").upper() if ch.isalnum())


class FulfilmentChannel(Protocol):
    """One channel account as the fulfilment target needs it."""

    source: str
    label: str

    def plan(self, order: Order, shipped: ShippedOrder) -> list[PlannedPart]:
        """The parts to send for the order (empty: the channel has nothing left open)."""
        ...

    def send(self, row: FulfilmentRow) -> str | None:
        """Send one planned part; the channel's id of it, if it gives one."""
        ...

    def landed(self, order_ref: str, rows: Sequence[FulfilmentRow]) -> dict[int, str | None]:
        """Which of ``rows`` (sent without an answer) the channel holds: row id -> its record."""
        ...

    def held(self, order_ref: str, tracking_numbers: Sequence[str]) -> list[Found]:
        """The fulfilments the channel holds for the order under our tracking numbers."""
        ...


class ShopifyChannel:
    """A Shopify store: ``fulfillmentCreate`` per location with tracking, looked up among the order's fulfillments."""

    source = "shopify"
    label = "the Shopify store"

    def __init__(self, fulfilments: ShopifyFulfilments, *, notify_customer: bool = True) -> None:
        self.fulfilments = fulfilments
        self.notify_customer = notify_customer

    def plan(self, order: Order, shipped: ShippedOrder) -> list[PlannedPart]:
        """One part per location with open fulfillment orders: all their remaining lines, our tracking."""
        tracking = TrackingInfo(company=_SHOPIFY_COMPANIES.get(_carrier_key(shipped.carrier), shipped.carrier),
                                number=shipped.tracking_number)
        parts = []
        for location, orders in sorted(by_location(self.fulfilments.fulfillment_orders(order.source_ref)).items()):
            request = {"location": location,
                       "fulfillment": {"lineItemsByFulfillmentOrder": line_items_by_fulfillment_order(orders),
                                       "trackingInfo": tracking.as_input(),
                                       "notifyCustomer": self.notify_customer}}
            tail = location.rsplit("/", 1)[-1]
            parts.append(PlannedPart(part=location, reference=f"{order.partner_id}:{order.source_ref}:{tail}",
                                     request=request))
        return parts

    def send(self, row: FulfilmentRow) -> str | None:
        """``fulfillmentCreate`` with the planned input."""
        fulfillment = row.request["fulfillment"]
        tracking = fulfillment["trackingInfo"]
        created = self.fulfilments.create(
            fulfillment["lineItemsByFulfillmentOrder"],
            TrackingInfo(company=tracking.get("company"), number=tracking["number"], url=tracking.get("url")),
            notify_customer=bool(fulfillment.get("notifyCustomer")))
        return created.id

    def landed(self, order_ref: str, rows: Sequence[FulfilmentRow]) -> dict[int, str | None]:
        """Rows whose fulfillment exists: same tracking number and location (each fulfillment matched once)."""
        found = [f for f in self.fulfilments.fulfillments(order_ref) if f.status != "CANCELLED"]
        matched: dict[int, str | None] = {}
        for row in rows:
            for fulfillment in found:
                if row.tracking_number in fulfillment.tracking_numbers and (
                        fulfillment.location_id in (None, row.part)):
                    matched[row.id] = fulfillment.id
                    found.remove(fulfillment)
                    break
        return matched

    def held(self, order_ref: str, tracking_numbers: Sequence[str]) -> list[Found]:
        """The order's fulfillments carrying one of our tracking numbers."""
        return [Found(record=f.id, live=f.status != "CANCELLED") for f in self.fulfilments.fulfillments(order_ref)
                if set(f.tracking_numbers) & set(tracking_numbers)]


class MarketplaceChannel:
    """A marketplace seller account: confirmShipment per package, looked up by getOrder's status."""

    source = "amazon"
    label = "the marketplace"

    def __init__(self, client: AmazonSellerClient) -> None:
        self.client = client

    def plan(self, order: Order, shipped: ShippedOrder) -> list[PlannedPart]:
        """One package holding every line; ``packageReferenceId`` the label row's id, as a string."""
        items = []
        for line in order.lines:
            quantity = line.quantity
            if quantity != quantity.to_integral_value() or quantity <= Decimal(0):
                raise RejectedDocument(f"line {line.line_no}: quantity {quantity} is not a whole number of items",
                                       location=f"lines.{line.line_no}.quantity")
            items.append((line.line_no, int(quantity)))
        code = _AMAZON_CARRIER_CODES.get(_carrier_key(shipped.carrier), "Other")
        package = PackageDetail(package_reference_id=str(shipped.shipment_id), carrier_code=code,
                                carrier_name=shipped.carrier if code == "Other" else None,
                                tracking_number=shipped.tracking_number, ship_date=shipped.shipped_at,
                                order_items=items, shipping_method=shipped.service)
        marketplace = order.references.get("marketplace_id") or self.client.amazon.marketplace_ids[0]
        request = {"marketplaceId": marketplace, "packageDetail": package.as_json()}
        reference = f"{order.partner_id}:{order.source_ref}:{shipped.shipment_id}"
        return [PlannedPart(part=str(shipped.shipment_id), reference=reference, request=request)]

    def send(self, row: FulfilmentRow) -> str | None:
        """confirmShipment with the planned body (the API answers 204, no id)."""
        self.client.send_shipment_confirmation(row.order_ref, row.request)
        return None

    def landed(self, order_ref: str, rows: Sequence[FulfilmentRow]) -> dict[int, str | None]:
        """Every row, once getOrder says ``Shipped`` (our one package holds every item); none before."""
        status = self.client.get_order(order_ref).get("OrderStatus")
        return {row.id: None for row in rows} if status == _SHIPPED else {}

    def held(self, order_ref: str, tracking_numbers: Sequence[str]) -> list[Found]:
        """The order as confirmed shipped (getOrder tells no tracking numbers)."""
        status = self.client.get_order(order_ref).get("OrderStatus")
        return [Found(record=f"{order_ref} {status}", live=True)] if status == _SHIPPED else []
