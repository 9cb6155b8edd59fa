"""Marketplace (Amazon SP-API Orders v0) responses -> canonical orders.

    mapped = map_amazon_order(order, items, profile=profile, raw_document_id=sha256_of_the_orders_page)
    result = map_amazon_payloads([orders_page, items_page, ...], profile=profile)   # hub map --source amazon
"""

from mappings._channel import MappedOrder, Problem
from mappings.amazon._order import map_amazon_order
from mappings.amazon._payloads import AmazonDocumentResult, AmazonMapResult, map_amazon_payloads

__all__ = [
    "AmazonDocumentResult",
    "AmazonMapResult",
    "MappedOrder",
    "Problem",
    "map_amazon_order",
    "map_amazon_payloads",
]
