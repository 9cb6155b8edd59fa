"""A sandbox carrier that speaks EasyPost's API v2 contract on loopback, for the demo and the tests.

``POST /v2/shipments`` (``{"shipment": {from_address, to_address, parcel, reference}}``) answers the
shipment with rates from USPS, UPS and FedEx services, each with ``delivery_days``;
``POST /v2/shipments/{id}/buy`` (``{"rate": {"id"}}``) answers it bought: ``selected_rate``,
``postage_label.label_url``, ``tracking_code`` and a ``tracker``; buying a bought shipment is refused
with 422 (EasyPost's error body ``{"error": {"code", "message", "errors"}}``; the code
``SHIPMENT.POSTAGE.FAILURE`` is this sandbox's choice). ``GET /v2/shipments/{id}``,
``GET /v2/shipments`` (newest first, ``purchased``, ``before_id``, ``start_datetime``, ``page_size``),
``POST /v2/trackers``, ``GET /v2/trackers/{id}``. HTTP Basic auth with the API key as user name: test keys (``EZTK...``)
and production keys (``EZAK...``) see separate data, as at EasyPost (another mode's id is a 404).

Faults for the tests: ``buy_delay_seconds`` answers a buy only after it is done and that long
(a client with a shorter timeout never hears it went through); ``throttle(n, retry_after)`` answers
the next ``n`` calls 429. ``send_tracker_event`` moves a tracker on and posts EasyPost's ``tracker.updated``
Event to a webhook URL, signed ``X-Hmac-Signature: hmac-sha256-hex=<hex>`` (HMAC-SHA256 of the raw
body with the NFKD-normalized webhook secret, as EasyPost's client libraries check it).

    with SandboxEasyPost(test_keys={"EZTKdemo"}) as carrier:
        ...  # EasyPostConfig(api_key="EZTKdemo", mode="test", http={"base_url": carrier.base_url})
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._server import SandboxHttpServer, serve_in_foreground

# (carrier, service, delivery days, base price, price per ounce)
SERVICES: tuple[tuple[str, str, int, Decimal, Decimal], ...] = (
    ("USPS", "GroundAdvantage", 5, Decimal("4.60"), Decimal("0.12")),
    ("USPS", "Priority", 2, Decimal("7.90"), Decimal("0.20")),
    ("USPS", "Express", 1, Decimal("26.35"), Decimal("0.35")),
    ("UPS", "Ground", 4, Decimal("9.10"), Decimal("0.15")),
    ("UPS", "2ndDayAir", 2, Decimal("18.40"), Decimal("0.30")),
    ("UPS", "NextDayAir", 1, Decimal("31.75"), Decimal("0.45")),
    ("FedEx", "FEDEX_GROUND", 4, Decimal("8.95"), Decimal("0.16")),
    ("FedEx", "FEDEX_2_DAY", 2, Decimal("17.80"), Decimal("0.28")),
)
_CENT = Decimal("0.01")
TRACKER_STATUSES = ("pre_transit", "in_transit", "out_for_delivery", "delivered")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def sign_webhook(body: bytes, secret: str) -> str:
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body``: ``hmac-sha256-hex=`` and the hex digest."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class _Fault(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.headers = status, code, message, errors or [], headers

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"code": self.code, "message": self.message, "errors": self.errors}},
                            status_code=self.status, headers=self.headers)


@dataclass
class _State:
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> shipment (with "mode")
    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    buys: list[tuple[str, str]] = field(default_factory=list)  # (shipment id, rate id) of every label sold
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    throttled: int = 0
    retry_after: int = 1


class SandboxEasyPost(SandboxHttpServer):
    """The sandbox carrier; ``buys`` lists every label it sold (the tests' "never twice")."""

    def __init__(self, *, test_keys: set[str] | frozenset[str] = frozenset({"EZTKsandbox"}),
                 production_keys: set[str] | frozenset[str] = frozenset(), host: str = "127.0.0.1",
                 port: int = 0) -> None:
        for key in test_keys:
            assert key.startswith("EZTK"), "test keys start with EZTK"
        for key in production_keys:
            assert key.startswith("EZAK"), "production keys start with EZAK"
        self._modes = {**{k: "test" for k in test_keys}, **{k: "production" for k in production_keys}}
        self.state = _State()
        self.buy_delay_seconds = 0.0
        self._lock = threading.Lock()
        self._serve_app(self._app(), host=host, port=port, name="sandbox-easypost")

    @property
    def buys(self) -> list[tuple[str, str]]:
        """Every (shipment id, rate id) bought, in order."""
        return list(self.state.buys)

    def throttle(self, calls: int, retry_after: int = 1) -> None:
        """Answer the next ``calls`` requests 429 with ``Retry-After``."""
        self.state.throttled, self.state.retry_after = calls, retry_after

    # -- the API --------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v2/shipments", self._endpoint(self._create_shipment), methods=["POST"]),
            Route("/v2/shipments", self._endpoint(self._list_shipments), methods=["GET"]),
            Route("/v2/shipments/{id:str}", self._endpoint(self._get_shipment), methods=["GET"]),
            Route("/v2/shipments/{id:str}/buy", self._endpoint(self._buy), methods=["POST"]),
            Route("/v2/trackers", self._endpoint(self._create_tracker), methods=["POST"]),
            Route("/v2/trackers/{id:str}", self._endpoint(self._get_tracker), methods=["GET"]),
        ])

    def _endpoint(self, handler):
        async def serve(request: Request) -> Response:
            self.state.requests.append((request.method, request.url.path))
            try:
                if self.state.throttled > 0:
                    self.state.throttled -= 1
                    raise _Fault(429, "RATE_LIMITED", "Too many requests.",
                                 headers={"Retry-After": str(self.state.retry_after)})
                mode = self._mode(request)
                body = await request.body()
                data = json.loads(body) if body else {}
                if not isinstance(data, dict):
                    raise _Fault(422, "PARAMETER.INVALID", "The request body must be a JSON object.")
                with self._lock:
                    answer, status = handler(request, mode, data)
            except _Fault as fault:
                return fault.response()
            except ValueError:
                return _Fault(400, "PARAMETER.INVALID", "The request body is not JSON.").response()
            if handler == self._buy and self.buy_delay_seconds:
                await asyncio.sleep(self.buy_delay_seconds)  # bought already: only the answer is late
            return JSONResponse(answer, status_code=status)

        return serve

    def _mode(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            raise _Fault(401, "APIKEY.REQUIRED", "Authorization with an API key is required.")
        try:
            key = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            raise _Fault(401, "APIKEY.INVALID", "The API key is malformed.") from None
        mode = self._modes.get(key)
        if mode is None:
            raise _Fault(401, "APIKEY.INACTIVE", "This API key is not active.")
        return mode

    def _shipment(self, shipment_id: str, mode: str) -> dict[str, Any]:
        shipment = self.state.shipments.get(shipment_id)
        if shipment is None or shipment["mode"] != mode:  # test and production data are apart
            raise _Fault(404, "NOT_FOUND", "The requested resource could not be found.")
        return shipment

    def _create_shipment(self, request: Request, mode: str, data: dict[str, Any]):
        given = data.get("shipment")
        if not isinstance(given, dict):
            raise _Fault(422, "PARAMETER.REQUIRED", "Missing required parameter.", [{"field": "shipment",
                                                                                    "message": "is required"}])
        errors = [{"field": f"shipment.{name}", "message": "is required"}
                  for name in ("from_address", "to_address", "parcel") if not isinstance(given.get(name), dict)]
        for name in ("from_address", "to_address"):
            address = given.get(name) or {}
            errors += [{"field": f"shipment.{name}.{part}", "message": "is required"}
                       for part in ("street1", "city", "zip") if isinstance(address, dict) and not address.get(part)]
        try:
            weight = Decimal(str((given.get("parcel") or {}).get("weight")))
            if not weight > 0:
                raise ValueError
        except (ArithmeticError, ValueError, TypeError, AttributeError):
            errors.append({"field": "shipment.parcel.weight", "message": "must be greater than 0"})
            weight = Decimal(0)
        if errors:
            raise _Fault(422, "SHIPMENT.INVALID_PARAMS", "Unable to create shipment, one or more parameters were "
                                                         "invalid.", errors)
        shipment_id = _new_id("shp")
        rates = [{"id": _new_id("rate"), "object": "Rate", "mode": mode, "shipment_id": shipment_id,
                  "carrier": carrier, "service": service, "delivery_days": days, "currency": "USD",
                  "rate": str((base + per_oz * weight).quantize(_CENT))}
                 for carrier, service, days, base, per_oz in SERVICES]
        shipment = {"id": shipment_id, "object": "Shipment", "mode": mode, "reference": given.get("reference"),
                    "created_at": _now(), "status": "unknown", "from_address": given["from_address"],
                    "to_address": given["to_address"], "parcel": given["parcel"], "rates": rates,
                    "selected_rate": None, "postage_label": None, "tracking_code": None, "tracker": None}
        self.state.shipments[shipment_id] = shipment
        return shipment, 201

    def _list_shipments(self, request: Request, mode: str, data: dict[str, Any]):
        params = request.query_params
        try:
            size = max(1, min(100, int(params.get("page_size", "20"))))
        except ValueError:
            raise _Fault(422, "PARAMETER.INVALID", "page_size must be a number.") from None
        mine = [s for s in reversed(list(self.state.shipments.values())) if s["mode"] == mode]
        if params.get("purchased") in ("true", "false"):
            wanted = params["purchased"] == "true"
            mine = [s for s in mine if (s["selected_rate"] is not None) == wanted]
        if params.get("start_datetime"):  # ISO 8601 UTC, as the client sends it: text order is time order
            mine = [s for s in mine if s["created_at"] >= params["start_datetime"]]
        if params.get("before_id"):
            ids = [s["id"] for s in mine]
            mine = mine[ids.index(params["before_id"]) + 1:] if params["before_id"] in ids else []
        return {"shipments": mine[:size], "has_more": len(mine) > size}, 200

    def _get_shipment(self, request: Request, mode: str, data: dict[str, Any]):
        return self._shipment(request.path_params["id"], mode), 200

    def _buy(self, request: Request, mode: str, data: dict[str, Any]):
        shipment = self._shipment(request.path_params["id"], mode)
        rate_id = (data.get("rate") or {}).get("id") if isinstance(data.get("rate"), dict) else None
        if not rate_id:
            raise _Fault(422, "PARAMETER.REQUIRED", "Missing required parameter.", [{"field": "rate.id",
                                                                                    "message": "is required"}])
        if shipment["selected_rate"] is not None:
            raise _Fault(422, "SHIPMENT.POSTAGE.FAILURE", "Shipment already purchased.")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise _Fault(422, "SHIPMENT.RATE.INVALID", "The rate does not belong to this shipment.",
                         [{"field": "rate.id", "message": "is not one of the shipment's rates"}])
        tracking_code = "EZ" + "".join(str(secrets.randbelow(10)) for _ in range(16))
        tracker = self._new_tracker(tracking_code, rate["carrier"], mode, shipment["id"])
        shipment.update(selected_rate=rate, tracking_code=tracking_code, status="unknown", tracker=tracker,
                        postage_label={"id": _new_id("pl"), "object": "PostageLabel", "label_file_type": "image/png",
                                       "label_url": f"{self.base_url}/labels/{shipment['id']}.png"})
        self.state.buys.append((shipment["id"], rate_id))
        return shipment, 200

    def _new_tracker(self, tracking_code: str, carrier: str | None, mode: str, shipment_id: str | None):
        existing = next((t for t in self.state.trackers.values()
                         if t["tracking_code"] == tracking_code and t["mode"] == mode), None)
        if existing is not None:
            return existing
        tracker: dict[str, Any] = {
                   "id": _new_id("trk"), "object": "Tracker", "mode": mode, "tracking_code": tracking_code,
                   "carrier": carrier, "status": "pre_transit", "shipment_id": shipment_id,
                   "created_at": _now(), "updated_at": _now(), "tracking_details": []}
        self.state.trackers[tracker["id"]] = tracker
        return tracker

    def _create_tracker(self, request: Request, mode: str, data: dict[str, Any]):
        given = data.get("tracker")
        code = given.get("tracking_code") if isinstance(given, dict) else None
        if not code:
            raise _Fault(422, "TRACKER.TRACKING_CODE.REQUIRED", "A tracking code is required.",
                         [{"field": "tracker.tracking_code", "message": "is required"}])
        assert isinstance(given, dict)
        return self._new_tracker(str(code), given.get("carrier"), mode, None), 200

    def _get_tracker(self, request: Request, mode: str, data: dict[str, Any]):
        tracker = self.state.trackers.get(request.path_params["id"])
        if tracker is None or tracker["mode"] != mode:
            raise _Fault(404, "NOT_FOUND", "The requested resource could not be found.")
        return tracker, 200

    # -- tracking events ------------------------------------------------------------------------

    def advance_tracker(self, tracker_id: str, status: str) -> dict[str, Any]:
        """Move a tracker to ``status`` with a scan, as the carrier's network would."""
        with self._lock:
            tracker = self.state.trackers[tracker_id]
            tracker["status"] = status
            tracker["updated_at"] = _now()
            tracker["tracking_details"].append({"object": "TrackingDetail", "status": status,
                                                "message": status.replace("_", " "), "datetime": _now()})
            return dict(tracker)

    def tracker_event(self, tracker_id: str, status: str) -> bytes:
        """Move the tracker on and return EasyPost's ``tracker.updated`` Event body for it."""
        tracker = self.advance_tracker(tracker_id, status)
        event = {"id": _new_id("evt"), "object": "Event", "mode": tracker["mode"], "description": "tracker.updated",
                 "created_at": _now(), "updated_at": _now(), "status": "pending", "result": tracker,
                 "previous_attributes": {}, "pending_urls": [], "completed_urls": []}
        return json.dumps(event).encode()

    def send_tracker_event(self, url: str, tracker_id: str, status: str, *, secret: str) -> httpx.Response:
        """Post a signed ``tracker.updated`` Event to ``url`` (a webhook endpoint)."""
        body = self.tracker_event(tracker_id, status)
        return httpx.post(url, content=body, headers={"Content-Type": "application/json",
                                                      "X-Hmac-Signature": sign_webhook(body, secret)}, timeout=10)


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox carrier in the foreground: ``python -m sandbox.easypost_server --port 8073``."""
    parser = argparse.ArgumentParser(description="sandbox EasyPost (API v2) on loopback")
    parser.add_argument("--port", type=int, default=8073)
    args = parser.parse_args(argv)
    # Test keys only by default: the sandbox never pretends to sell real postage.
    key = os.environ.get("SANDBOX_EASYPOST_TEST_KEY") or "EZTKsandbox"
    server = SandboxEasyPost(test_keys={key}, port=args.port)
    serve_in_foreground(server, lambda: f"sandbox EasyPost on {server.base_url} (test key from "
                                        "SANDBOX_EASYPOST_TEST_KEY, default EZTKsandbox)")


if __name__ == "__main__":
    main()
