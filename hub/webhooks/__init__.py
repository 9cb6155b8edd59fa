"""Inbound webhooks: Shopify orders (verified, archived and queued; a Dagster sensor processes the queue)
and EasyPost tracking events (verified, applied once per event id).

Also the partner self-service page (off by default): an X12 file checked as ``hub edi validate`` does.
"""

from hub.webhooks._selfservice import SelfServiceSettings, selfservice_routes, token_env
from hub.webhooks._shopify import (
    CHANNEL,
    DEFAULT_MAX_BYTES,
    ORDER_TOPICS,
    create_webhook_app,
    shopify_signature_valid,
)

__all__ = [
    "CHANNEL",
    "DEFAULT_MAX_BYTES",
    "ORDER_TOPICS",
    "SelfServiceSettings",
    "create_webhook_app",
    "selfservice_routes",
    "shopify_signature_valid",
    "token_env",
]
