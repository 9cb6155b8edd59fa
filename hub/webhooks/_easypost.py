"""EasyPost tracking webhooks: signature checked on the raw body, each event applied once, 200 at once.

``POST /webhooks/easypost/{target}`` takes EasyPost Events for the carrier target ``target`` (the
name a profile gives its ``kind: easypost`` target); its secret is ``HUB_<TARGET>_WEBHOOK_SECRET``.

- body larger than ``max_bytes``                              -> 413 (never buffered beyond the limit)
- no carrier target of that name in the profiles               -> 404
- the secret's environment variable unset                       -> 503 (EasyPost retries later)
- ``X-Hmac-Signature`` missing or not ``hmac-sha256-hex=`` + the hex HMAC-SHA256 of the body with the
  NFKD-normalized secret (compared in constant time)            -> 401, nothing stored
- not an Event with an id                                       -> 400
- otherwise 200: a ``tracker.created`` / ``tracker.updated`` Event sets the tracking status of its
  shipment, once per event id (a replayed id changes nothing); other Events are acknowledged, ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canonical.errors import ConfigurationError
from hub import store as st
from hub.targets import configured_targets
from hub.targets.carrier import EASYPOST, EventOutcome, apply_tracker_event
from hub.webhooks._body import read_limited
from mappings.profiles import PartnerDirectory

_log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "hmac-sha256-hex="
DEFAULT_MAX_BYTES = 256 * 1024  # a tracker with a long scan history stays well below
_TARGET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


def easypost_signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is EasyPost's ``hmac-sha256-hex=<hex HMAC-SHA256 of body>`` for ``secret`` (constant time)."""
    if not header or not secret:
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    expected = SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def secret_env(target: str) -> str:
    """The environment variable holding the webhook secret of carrier target ``target``."""
    return f"HUB_{target.upper()}_WEBHOOK_SECRET"


class _EasyPostWebhooks:
    def __init__(self, store: Callable[[], st.HubStore], partners: PartnerDirectory, *, max_bytes: int,
                 env: Mapping[str, str] | None) -> None:
        self.store = store
        self.partners = partners
        self.max_bytes = max_bytes
        self.env = env

    def _is_carrier(self, name: str) -> bool:
        if not _TARGET_NAME.match(name):
            return False
        try:
            kinds = configured_targets(self.partners)
        except ConfigurationError:  # a profile conflict is reported by the definitions; here: "not ours"
            return False
        return name in kinds and kinds[name].kind == EASYPOST.kind

    async def receive(self, request: Request) -> Response:
        target = request.path_params["target"]
        if not self._is_carrier(target):
            return _error(404, "no carrier target is configured under this name")
        body = await read_limited(request, self.max_bytes)
        if body is None:
            return _error(413, f"body over {self.max_bytes} bytes")
        env = os.environ if self.env is None else self.env
        secret = env.get(secret_env(target)) or ""
        if not secret.strip():
            _log.error("easypost webhook for %s: %s is not set", target, secret_env(target))
            return _error(503, "webhook secret not configured")
        if not easypost_signature_valid(body, request.headers.get("x-hmac-signature"), secret):
            _log.warning("easypost webhook for %s refused: bad or missing signature", target)
            return _error(401, "invalid signature")
        try:
            event = json.loads(body)
            if not isinstance(event, dict):
                raise ValueError("not an object")
            outcome = await run_in_threadpool(self._apply, event)
        except ValueError as exc:
            return _error(400, f"not an EasyPost Event: {exc}")
        _log.info("easypost webhook for %s: event %s", target, outcome.outcome)
        return JSONResponse({"status": outcome.outcome, "updated": outcome.updated})

    def _apply(self, event: dict) -> EventOutcome:
        with self.store().transaction() as conn:
            return apply_tracker_event(conn, event)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": message}, status_code=status)


def easypost_routes(store: Callable[[], st.HubStore], partners: PartnerDirectory, *,
                    max_bytes: int = DEFAULT_MAX_BYTES, env: Mapping[str, str] | None = None) -> list[Route]:
    """The tracking webhook route, to mount in the webhook app."""
    hooks = _EasyPostWebhooks(store, partners, max_bytes=max_bytes, env=env)
    return [Route("/webhooks/easypost/{target:str}", hooks.receive, methods=["POST"])]
