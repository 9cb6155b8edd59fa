"""What the Shopify client hands back: pages of orders with their raw bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderPage:
    """One ``orders`` query answer: the body exactly as received (archived before parsing) and its order nodes."""

    raw: bytes
    orders: list[dict[str, Any]]
    """``data.orders.nodes`` as GraphQL sent them (``mappings.shopify`` reads them)."""
    url_path: str
    """Which request this was, e.g. ``/admin/api/2026-10/graphql.json orders after <cursor>`` (the receipt's name)."""
    unreadable: str | None = None
    """Why the body could not be read (not JSON, no ``data.orders.nodes``); then ``orders`` is empty.

    Such a page is still handed on, so the caller archives it and queues it; the client asks for it again."""
    end_cursor: str | None = None
    """``pageInfo.endCursor`` when ``hasNextPage``; None on the last page."""
