"""Inbound webhooks (Shopify): verified, archived and queued; a Dagster sensor processes the queue."""

from hub.webhooks._shopify import (
    CHANNEL,
    DEFAULT_MAX_BYTES,
    ORDER_TOPICS,
    create_webhook_app,
    shopify_signature_valid,
)

__all__ = ["CHANNEL", "DEFAULT_MAX_BYTES", "ORDER_TOPICS", "create_webhook_app", "shopify_signature_valid"]
