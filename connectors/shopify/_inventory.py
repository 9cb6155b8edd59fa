"""Shopify inventory: read ``available`` per SKU at a location, set it with compare-and-swap and an idempotency key.

``inventorySetQuantities`` (API 2026-04 and later, so the pinned 2026-10): every quantity carries
``changeFromQuantity``, the quantity we believe is there now; Shopify changes it only if that is still
true, else answers the user error ``CHANGE_FROM_QUANTITY_STALE`` (raised here as :class:`StaleQuantity`:
someone else changed it, read again before deciding). The ``@idempotent(key:)`` directive is required
from 2026-04: the same key sent again (a retry after a timeout) is applied once. Before 2026-04 the
fields were ``compareQuantity`` / ``ignoreCompareQuantity`` and the key optional; this module speaks
only the current form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from canonical.errors import FatalError, RejectedDocument
from connectors.shopify._client import ShopifyClient, raise_for_user_errors

STALE_CODE = "CHANGE_FROM_QUANTITY_STALE"

INVENTORY_ITEMS_QUERY = """query InventoryBySku($query: String!, $location: ID!) {
  inventoryItems(first: 5, query: $query) {
    nodes {
      id
      sku
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_SET_QUANTITIES = """mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""


class StaleQuantity(RejectedDocument):
    """The quantity at Shopify is no longer the one we compared against (``CHANGE_FROM_QUANTITY_STALE``)."""


@dataclass(frozen=True)
class InventoryLevel:
    """One SKU's inventory item and its ``available`` quantity at the location (None: not stocked there)."""

    sku: str
    inventory_item_id: str
    available: int | None


def idempotency_key(location_id: str, item_id: str, change_from: int | None, quantity: int) -> str:
    """The same change (item, location, from, to) always gets the same key: a resend is applied once."""
    text = f"{location_id}|{item_id}|{change_from}|{quantity}"
    return "orderhub-" + hashlib.sha256(text.encode()).hexdigest()[:40]


class ShopifyInventory:
    """``available`` quantities of one store location, read and set through the store's :class:`ShopifyClient`."""

    def __init__(self, client: ShopifyClient, location_id: str) -> None:
        self.client = client
        self.location_id = location_id if location_id.startswith("gid://") else f"gid://shopify/Location/{location_id}"

    def level(self, sku: str) -> InventoryLevel | None:
        """The SKU's inventory item at this location, or None when the shop has no item with exactly this SKU."""
        quoted = sku.replace("\\", "\\\\").replace('"', '\\"')
        _, body = self.client.execute(INVENTORY_ITEMS_QUERY, {"query": f'sku:"{quoted}"', "location": self.location_id})
        items = (body.get("data", {}).get("inventoryItems") or {}) if isinstance(body, dict) else {}
        for node in items.get("nodes") or []:
            if isinstance(node, dict) and node.get("sku") == sku:  # the search matches prefixes too
                level = node.get("inventoryLevel") or {}
                quantities = {q.get("name"): q.get("quantity") for q in level.get("quantities") or []
                              if isinstance(q, dict)}
                available = quantities.get("available")
                return InventoryLevel(sku, str(node["id"]), int(available) if available is not None else None)
        return None

    def set_available(self, level: InventoryLevel, quantity: int, *, reference: str) -> None:
        """Set ``available`` to ``quantity`` if it is still ``level.available`` (compare-and-swap), once per key."""
        key = idempotency_key(self.location_id, level.inventory_item_id, level.available, quantity)
        variables: dict[str, Any] = {"key": key, "input": {
            "name": "available", "reason": "correction", "referenceDocumentUri": reference,
            "quantities": [{"inventoryItemId": level.inventory_item_id, "locationId": self.location_id,
                            "quantity": quantity, "changeFromQuantity": level.available}]}}
        # The idempotency key makes a resend after a timeout safe.
        _, body = self.client.execute(INVENTORY_SET_QUANTITIES, variables, idempotent=True)
        payload = body.get("data", {}).get("inventorySetQuantities") if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise FatalError(f"shopify POST {self.client.graphql_path}: inventorySetQuantities answered no payload")
        errors = payload.get("userErrors") or []
        if any(isinstance(e, dict) and e.get("code") == STALE_CODE for e in errors):
            raise StaleQuantity(f"shopify inventorySetQuantities: {level.sku} is no longer {level.available} at "
                                f"the location (someone changed it); read it again",
                                location=f"inventorySetQuantities {level.sku}")
        raise_for_user_errors(payload, mutation="inventorySetQuantities")
