"""What the Shopify client hands back: pages of orders with their raw bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderPage:
    """One ``orders.json`` answer: the body exactly as received (archived before parsing) and its orders."""

    raw: bytes
    orders: list[dict[str, Any]]
    url_path: str
    """Path and query of the request, e.g. ``/admin/api/2024-10/orders.json?limit=250&page_info=...``."""
