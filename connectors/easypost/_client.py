"""The EasyPost API v2 client: shipments with rates, buying a rate once, trackers; on the shared HTTP base.

Paths, bodies and errors follow docs.easypost.com (API v2): ``POST /v2/shipments`` with
``{"shipment": {...}}`` answers the shipment with its ``rates``; ``POST /v2/shipments/{id}/buy`` with
``{"rate": {"id": ...}}`` answers it with ``postage_label``, ``tracking_code`` and ``tracker``;
``GET /v2/shipments/{id}``, ``GET /v2/shipments`` (newest first, ``before_id`` pages, ``purchased``);
``POST /v2/trackers`` and ``GET /v2/trackers/{id}``. Errors come as
``{"error": {"code", "message", "errors": [{"field", "message"}]}}``.

EasyPost has no server-side filter by our ``reference``: the carrier target keeps the shipment id in
its outbox row before it buys, and after a timeout retrieves that shipment to see whether it is bought.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError
from connectors._http import HttpConnector, default_error
from connectors._http._connector import _NOT_SENT
from connectors.easypost._config import API_VERSION, EasyPostConfig
from connectors.easypost._models import Address, Parcel, Shipment, ShipmentPage, Tracker

_log = logging.getLogger(__name__)
_MAX_MESSAGE = 300


class NotFound(RejectedDocument):
    """EasyPost answered 404 with its own error body: the shipment or tracker id is not in this account (mode)."""


class BasicKeyAuth:
    """HTTP Basic with the API key as user name and an empty password, as EasyPost documents."""

    def __init__(self, config: EasyPostConfig) -> None:
        token = base64.b64encode(f"{config.api_key.get_secret_value().strip()}:".encode()).decode()
        self._header = f"Basic {token}"

    def apply(self, request: httpx.Request) -> None:
        """Set ``Authorization``."""
        request.headers["Authorization"] = self._header

    def __repr__(self) -> str:
        return "BasicKeyAuth('**********')"


def easypost_error(body: bytes) -> tuple[str, str, list[str]]:
    """(code, message, the fields named in ``errors``) from an EasyPost error body; empty when it is not one."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return "", "", []
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", "", []
    items = error.get("errors") or []
    fields = [str(item["field"]) for item in items if isinstance(item, dict) and item.get("field")]
    return str(error.get("code") or ""), str(error.get("message") or ""), fields


class EasyPostClient(HttpConnector):
    """One EasyPost account (test or production key): shipments, buying, trackers."""

    name = "easypost"

    def __init__(self, config: EasyPostConfig, **kw: Any) -> None:
        super().__init__(config.http_config(), auth=BasicKeyAuth(config), **kw)
        self.account = config

    @property
    def is_test(self) -> bool:
        """Whether this client buys test labels (``EZTK`` key)."""
        return self.account.is_test

    # -- errors ---------------------------------------------------------------------------------

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """EasyPost's ``{"error": {...}}`` read into the hub's errors (codes and field names, never values)."""
        code, message, fields = easypost_error(response.content)
        what = self._what(response.request)
        status = response.status_code
        if not code:
            return default_error(response, what=what, retry_after=self.retry_after(response))
        text = f"{what}: HTTP {status}: {code}: {message}"[:_MAX_MESSAGE]
        if fields:
            text += f" (fields: {', '.join(fields[:10])})"
        if status == 404:
            return NotFound(text, location=what)
        if status == 402:
            return ConfigurationError(f"{text} (the account's balance or billing needs a person)")
        if status in (401, 403):
            return ConfigurationError(f"{text} (check the API key and its mode)")
        if status in (400, 409, 422):
            return RejectedDocument(text, location=what)
        return default_error(response, what=what, retry_after=self.retry_after(response))

    # -- calls ----------------------------------------------------------------------------------

    def _path(self, tail: str) -> str:
        return f"/{API_VERSION}/{tail}"

    def _write(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST once; a failure after the request may have reached EasyPost is marked ``write_in_doubt``."""
        try:
            response = self.request("POST", path, json=body, max_retries=0)
        except RetriableError as exc:
            cause = exc.__cause__
            unsent = isinstance(cause, _NOT_SENT) or "HTTP 429" in str(exc)
            exc.write_in_doubt = not unsent
            raise
        return response.json()

    def create_shipment(self, *, from_address: Address, to_address: Address, parcel: Parcel,
                        reference: str, options: Mapping[str, Any] | None = None) -> Shipment:
        """Create a shipment under our ``reference``; EasyPost answers it with its rates."""
        shipment: dict[str, Any] = {
            "reference": reference,
            "from_address": from_address.model_dump(exclude_none=True),
            "to_address": to_address.model_dump(exclude_none=True),
            "parcel": parcel.model_dump(mode="json", exclude_none=True),
        }
        if options:
            shipment["options"] = dict(options)
        return Shipment.model_validate(self._write(self._path("shipments"), {"shipment": shipment}))

    def buy(self, shipment_id: str, rate_id: str) -> Shipment:
        """Buy ``rate_id`` for the shipment: the label. Sent once; after a timeout retrieve, never buy again blind."""
        body = self._write(self._path(f"shipments/{shipment_id}/buy"), {"rate": {"id": rate_id}})
        return Shipment.model_validate(body)

    def retrieve_shipment(self, shipment_id: str) -> Shipment:
        """The shipment as EasyPost holds it now (bought or not)."""
        return Shipment.model_validate(self.request("GET", self._path(f"shipments/{shipment_id}")).json())

    def list_shipments(self, *, purchased: bool | None = None, before_id: str | None = None,
                       start_datetime: dt.datetime | None = None, page_size: int = 100) -> ShipmentPage:
        """One page of the account's shipments, newest first (EasyPost filters by time, id and purchase only)."""
        params: dict[str, Any] = {"page_size": page_size}
        if purchased is not None:
            params["purchased"] = "true" if purchased else "false"
        if before_id:
            params["before_id"] = before_id
        if start_datetime is not None:
            params["start_datetime"] = start_datetime.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ShipmentPage.model_validate(self.request("GET", self._path("shipments"), params=params).json())

    def iter_shipments(self, *, purchased: bool | None = None, start_datetime: dt.datetime | None = None,
                       max_pages: int = 1000) -> Iterator[Shipment]:
        """Every shipment since ``start_datetime``, newest first, page by page (``before_id`` the last one's id)."""
        before: str | None = None
        for _ in range(max_pages):
            page = self.list_shipments(purchased=purchased, before_id=before, start_datetime=start_datetime)
            yield from page.shipments
            if not page.has_more or not page.shipments:
                return
            before = page.shipments[-1].id
        raise FatalError(f"{self.name}: more than {max_pages} pages of shipments")

    def create_tracker(self, tracking_code: str, carrier: str | None = None) -> Tracker:
        """Follow a tracking code (EasyPost answers an existing tracker for a code it already follows)."""
        tracker: dict[str, Any] = {"tracking_code": tracking_code}
        if carrier:
            tracker["carrier"] = carrier
        # Creating a tracker twice is harmless (the same trk_ comes back), so it may be retried.
        response = self.request("POST", self._path("trackers"), json={"tracker": tracker}, idempotent=True)
        return Tracker.model_validate(response.json())

    def retrieve_tracker(self, tracker_id: str) -> Tracker:
        """The tracker's current status and scans."""
        return Tracker.model_validate(self.request("GET", self._path(f"trackers/{tracker_id}")).json())
