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
    unreadable: str | None = None
    """Why the body could not be read (not JSON, no ``orders`` list); then ``orders`` is empty.

    Such a page is still handed on, so the caller archives it and queues it; the Link header leads on."""
