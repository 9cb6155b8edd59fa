"""Shopify webhooks: signature checked on the raw body, body archived and queued, 200 at once.

``POST /webhooks/shopify/{partner_id}`` accepts ``orders/create``, ``orders/updated`` and
``orders/cancelled``. The order is processed later by the webhook-queue sensor; here we only
prove the body came from Shopify for this partner's shop and keep it:

- body larger than ``max_bytes``                        -> 413 (never buffered beyond the limit)
- ``X-Shopify-Hmac-Sha256`` missing or wrong            -> 401, nothing stored
- unknown partner, or one without a Shopify section    -> 404
- unknown topic, no webhook id, another shop's domain  -> 400
- the secret's environment variable unset              -> 503 (Shopify retries later)
- otherwise the raw body is archived and a receipt ``received`` (queued) recorded, idempotent on
  ``{topic}:{webhook_id}`` and the content, so Shopify's retries of one delivery store it once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable, Mapping

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canonical.errors import ConfigurationError
from hub import store as st
from hub.intake import receive_document
from hub.webhooks._body import read_limited
from hub.webhooks._easypost import easypost_routes
from hub.webhooks._selfservice import selfservice_routes
from mappings.profiles import PartnerDirectory, PartnerProfile

_log = logging.getLogger(__name__)

CHANNEL = "shopify_webhook"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # an order with hundreds of lines stays well below


def shopify_signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the base64 HMAC-SHA256 of the raw ``body`` with ``secret`` (constant time)."""
    if not header or not secret:
        return False
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)


class _ShopifyWebhooks:
    def __init__(self, store_factory: Callable[[], st.HubStore], partners: PartnerDirectory, *, max_bytes: int,
                 env: Mapping[str, str] | None) -> None:
        self._store_factory = store_factory
        self._store: st.HubStore | None = None
        self._store_lock = threading.Lock()
        self.partners = partners
        self.max_bytes = max_bytes
        self.env = env

    def store(self) -> st.HubStore:
        with self._store_lock:
            if self._store is None:
                self._store = self._store_factory()
            return self._store

    def _profile(self, partner_id: str) -> PartnerProfile | None:
        try:
            profile = self.partners.get(partner_id)
        except ConfigurationError:
            return None
        return profile if profile.shopify is not None else None

    async def receive(self, request: Request) -> Response:
        partner_id = request.path_params["partner_id"]
        profile = self._profile(partner_id)
        if profile is None or profile.shopify is None:  # (_profile returns Shopify partners only)
            return _error(404, "no Shopify store is configured under this partner id")
        topic = request.headers.get("x-shopify-topic", "")
        if topic not in ORDER_TOPICS:
            return _error(400, f"unsupported topic; this endpoint takes {', '.join(sorted(ORDER_TOPICS))}")
        body = await read_limited(request, self.max_bytes)
        if body is None:
            _log.warning("shopify webhook for %s refused: body over %d bytes", partner_id, self.max_bytes)
            return _error(413, f"body over {self.max_bytes} bytes")

        env = os.environ if self.env is None else self.env
        secret = (env.get(profile.shopify.webhook_secret_env) or "").strip()
        if not secret:
            _log.error("shopify webhook for %s: %s is not set", partner_id, profile.shopify.webhook_secret_env)
            return _error(503, "webhook secret not configured")
        if not shopify_signature_valid(body, request.headers.get("x-shopify-hmac-sha256"), secret):
            # Nothing about the body is logged: it is unauthenticated input.
            _log.warning("shopify webhook for %s refused: bad or missing signature", partner_id)
            return _error(401, "invalid signature")
        domain = request.headers.get("x-shopify-shop-domain", "").strip().lower()
        if domain != profile.shopify.shop_domain:
            # One app secret signs for every shop the app is installed in: the domain must be this partner's.
            _log.warning("shopify webhook for %s refused: shop domain is not the profile's", partner_id)
            return _error(400, "shop domain does not match this partner")
        webhook_id = request.headers.get("x-shopify-webhook-id", "").strip()
        if not webhook_id or len(webhook_id) > 200:
            return _error(400, "missing X-Shopify-Webhook-Id")

        receipt = await run_in_threadpool(
            receive_document, self.store(), channel=CHANNEL, partner_id=partner_id,
            source_name=f"{topic}:{webhook_id}", data=body, max_bytes=self.max_bytes,
        )
        _log.info("shopify webhook %s for %s queued as receipt %s", topic, partner_id, receipt.id)
        return Response(status_code=200)

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": message}, status_code=status)


def create_webhook_app(
    store_factory: Callable[[], st.HubStore],
    partners: PartnerDirectory,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    env: Mapping[str, str] | None = None,
) -> Starlette:
    """The webhook HTTP app; the store is opened on first use, secrets read from ``env`` (default: the process's)."""
    hooks = _ShopifyWebhooks(store_factory, partners, max_bytes=max_bytes, env=env)
    return Starlette(routes=[
        Route("/webhooks/shopify/{partner_id:str}", hooks.receive, methods=["POST"]),
        Route("/healthz", hooks.health, methods=["GET"]),
        *selfservice_routes(partners, env=env),  # 404 unless HUB_SELFSERVICE_ENABLED
        *easypost_routes(hooks.store, partners, env=env),  # carrier tracking events
    ])
