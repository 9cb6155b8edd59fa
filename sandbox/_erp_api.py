"""The sandbox ERP's HTTP side: Odoo 19's JSON-2 endpoints, its ORM methods, and the faults tests inject."""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._erp_database import Database
from sandbox._erp_schema import (
    MAX_BODY_BYTES,
    MAX_RECORDS_PER_CALL,
    METHODS,
    MODEL_METHODS,
    MUTATING,
    OdooFault,
    not_found,
    unprocessable,
)
from sandbox._erp_stock import with_quantities

_ODOO_VERSION = {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}



class _Methods:
    """The public ORM methods of one model, with the signatures Odoo 19 gives them."""

    def __init__(self, db: Database, model: str, ids: list[int], context: dict[str, Any]) -> None:
        self._db = db
        self._model = model
        self._ids = ids
        self._context = context
        self._active_test = context.get("active_test", True) is not False

    def search_read(
        self,
        domain: Any = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        ids = self._db.search(
            self._model, domain, offset=offset, limit=limit, order=order, active_test=self._active_test
        )
        return with_quantities(self._db, self._model, self._db.read(self._model, ids, fields), self._context)

    def search(self, domain: Any, offset: int = 0, limit: int | None = None, order: str | None = None) -> list[int]:
        return self._db.search(
            self._model, domain, offset=offset, limit=limit, order=order, active_test=self._active_test
        )

    def search_count(self, domain: Any, limit: int | None = None) -> int:
        count = len(self._db.search(self._model, domain, active_test=self._active_test))
        return count if limit is None else min(count, limit)

    def read(self, fields: list[str] | None = None, load: str | None = "_classic_read") -> list[dict[str, Any]]:
        return with_quantities(self._db, self._model, self._db.read(self._model, self._ids, fields), self._context)

    def create(self, vals_list: Any) -> list[int]:
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list):
            raise unprocessable("vals_list must be a list of objects")
        return [self._db.create(self._model, vals) for vals in vals_list]

    def write(self, vals: Any) -> bool:
        self._db.write(self._model, self._ids, vals)
        return True

    def unlink(self) -> bool:
        self._db.unlink(self._model, self._ids)
        return True

    def action_confirm(self) -> bool:
        self._db.confirm(self._ids, lock=self._db.lock_confirmed_sales)
        return True

    def action_cancel(self) -> Any:
        return self._db.cancel(self._ids, show_wizard=not self._context.get("disable_cancel_warning"))

    def action_draft(self) -> bool:
        # Odoo's "Set to Quotation": only cancelled or sent orders go back to draft.
        for record_id in self._db.existing(self._model, self._ids):
            if self._db.records[self._model][record_id].get("state") in ("cancel", "sent"):
                self._db.update_row(self._model, record_id, state="draft")
        return True

    def action_post(self) -> bool:
        self._db.post_moves(self._ids)
        return True

    def button_draft(self) -> bool:
        self._db.reset_moves(self._ids, cancel=False)
        return True

    def button_cancel(self) -> bool:
        self._db.reset_moves(self._ids, cancel=True)
        return True

    def action_lock(self) -> bool:
        for record_id in self._db.existing(self._model, self._ids):
            self._db.update_row(self._model, record_id, locked=True)
        return True

    def action_unlock(self) -> bool:
        for record_id in self._db.existing(self._model, self._ids):
            self._db.update_row(self._model, record_id, locked=False)
        return True


@dataclass
class InjectedFault:
    """An HTTP error the next call answers with (``SandboxErp.inject_failures``)."""

    status: int
    retry_after: int | None


class WriteFault:
    """A fault on the next call of one write method (``sale.order.create`` by default), as a test arranged it.

    ``slow_commit``: the server holds the call until :meth:`release` (or ``hold_seconds``), then
    commits it and answers a client that has long given up, as an Odoo worker still busy after
    the client's timeout does. ``drop_after_commit``: the server commits the call, then drops the
    connection without an answer.
    """

    def __init__(self, kind: str, model: str, method: str, hold_seconds: float) -> None:
        self.kind = kind
        self.model = model
        self.method = method
        self.hold_seconds = hold_seconds
        self.started = threading.Event()
        self.finished = threading.Event()
        self.outcome = ""  # "committed" or Odoo's error message when the held call failed at commit
        self._release = threading.Event()

    def release(self) -> None:
        """Let a held (slow) call go on to commit."""
        self._release.set()

    def wait_finished(self, timeout: float = 30.0) -> bool:
        """Block until the faulted call committed or failed (True), or ``timeout`` passed (False)."""
        return self.finished.wait(timeout)


class Json2Api:
    """The Starlette endpoints: authentication, dispatch and Odoo's error answers."""

    def __init__(self, db: Database, *, api_key: str, database: str, max_body_bytes: int = MAX_BODY_BYTES,
                 max_records_per_call: int = MAX_RECORDS_PER_CALL) -> None:
        self.db = db
        self.max_body_bytes = max_body_bytes
        self.max_records_per_call = max_records_per_call
        self.api_key = api_key
        self.database = database
        self.faults: deque[InjectedFault] = deque()
        self.write_faults: deque[WriteFault] = deque()
        self.calls: deque[tuple[str, str]] = deque(maxlen=10_000)

    async def rpc(self, request: Request) -> Response:
        model = request.path_params["model"]
        method = request.path_params["method"]
        context: dict[str, Any] = {}
        try:
            self._injected_fault()
            body = await self._body(request)
            self._authenticate(request)
            context = body.pop("context", None) or {}
            ids = body.pop("ids", None) or []
            if not isinstance(context, dict):
                raise unprocessable("context must be an object")
            write_fault = self._write_fault(model, method)
            if write_fault is not None:
                return await self._faulted_write(write_fault, request, model, method, ids, context, body)
            result = self._dispatch(model, method, ids, context, body)
        except OdooFault as fault:
            return fault.response(context if isinstance(context, dict) else {})
        except Exception as exc:  # noqa: BLE001 - Odoo answers any other error as a 500 error object
            error = OdooFault(500, f"{type(exc).__module__}.{type(exc).__qualname__}", "internal server error")
            return error.response(context if isinstance(context, dict) else {})
        return JSONResponse(result, media_type="application/json; charset=utf-8")

    def _write_fault(self, model: str, method: str) -> WriteFault | None:
        with self.db.lock:
            for fault in self.write_faults:
                if (fault.model, fault.method) == (model, method):
                    self.write_faults.remove(fault)
                    return fault
        return None

    async def _faulted_write(
        self, fault: WriteFault, request: Request, model: str, method: str, ids: Any, context: dict[str, Any],
        body: dict[str, Any],
    ) -> Response:
        fault.started.set()
        if fault.kind == "slow_commit":
            # Held outside the lock: other calls go on, and do not see this one until it commits.
            await asyncio.to_thread(fault._release.wait, fault.hold_seconds)
        try:
            response: Response = JSONResponse(self._dispatch(model, method, ids, context, body),
                                              media_type="application/json; charset=utf-8")
            fault.outcome = "committed"
        except OdooFault as error:
            fault.outcome = error.message
            response = error.response(context)
        finally:
            fault.finished.set()
        if fault.kind == "drop_after_commit":
            request.scope["sandbox.drop_connection"] = True
        return response

    async def not_found(self, request: Request) -> Response:
        return not_found("Did you mean POST /json/2/<model>/<method>?").response()

    async def version(self, request: Request) -> Response:
        return JSONResponse(_ODOO_VERSION)

    def _injected_fault(self) -> None:
        with self.db.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is None:
            return
        names = {429: "werkzeug.exceptions.TooManyRequests", 503: "werkzeug.exceptions.ServiceUnavailable"}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        raise OdooFault(
            fault.status,
            names.get(fault.status, "werkzeug.exceptions.InternalServerError"),
            "sandbox: injected failure",
            headers=headers,
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        raw = await request.body()
        if len(raw) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        if not raw:
            return {}
        mimetype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if mimetype != "application/json":
            raise OdooFault(415, "werkzeug.exceptions.UnsupportedMediaType", "expected Content-Type: application/json")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise OdooFault(400, "werkzeug.exceptions.BadRequest", f"could not parse the body as json: {exc}") from exc
        if not isinstance(body, dict):
            raise OdooFault(400, "werkzeug.exceptions.BadRequest", "could not parse the body, expecting a json object")
        return body

    def _authenticate(self, request: Request) -> None:
        database = request.headers.get("x-odoo-database")
        if database is not None and database != self.database:
            raise not_found(f"database {database!r} not found")
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise OdooFault(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")

    def _dispatch(self, model: str, method: str, ids: Any, context: dict[str, Any], params: dict[str, Any]) -> Any:
        if model not in METHODS:
            raise not_found(f"the model {model!r} does not exist")
        if method not in METHODS[model]:
            raise not_found(f"The method '{model}.{method}' does not exist")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise unprocessable("ids must be a list of integers")
        if method in MODEL_METHODS and ids:
            raise unprocessable(f"cannot call {model}.{method} with ids")
        records = params.get("vals_list") if method == "create" else ids
        if isinstance(records, list) and len(records) > self.max_records_per_call:
            raise unprocessable(f"{model}.{method}: {len(records)} records in one call, at most "
                                f"{self.max_records_per_call}; send smaller batches")
        func = getattr(_Methods(self.db, model, ids, context), method)
        try:
            inspect.signature(func).bind(**params)
        except TypeError as exc:
            raise unprocessable(f"{method}() {exc.args[0]}") from exc
        with self.db.lock:
            self.calls.append((model, method))
            if method not in MUTATING:
                return func(**params)
            # Like Odoo's per-call transaction: a failing call leaves no partial change behind.
            started = self.db.begin()
            committed = False
            try:
                result = func(**params)
                committed = True
            finally:
                self.db.end(started, commit=committed)
            self.db.save()
            return result


def _too_large(limit: int) -> OdooFault:
    """Odoo's (werkzeug's) 413 for a body over ``max_content_length``."""
    return OdooFault(413, "werkzeug.exceptions.RequestEntityTooLarge",
                     f"The data value transmitted exceeds the capacity limit ({limit} bytes).")


def create_app(api: Json2Api) -> Starlette:
    """The Starlette application serving the JSON-2 contract for ``api``."""
    return Starlette(
        routes=[
            Route("/json/2/{model}/{method}", api.rpc, methods=["POST"]),
            Route("/json/2", api.not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/json/2/{subpath:path}", api.not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/web/version", api.version, methods=["GET"]),
        ]
    )


class ConnectionDropper:
    """ASGI wrapper: a response marked ``sandbox.drop_connection`` is never sent; the TCP connection is cut.

    uvicorn's ``send`` belongs to its request cycle, which holds the connection's transport.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded_send(message: dict[str, Any]) -> None:
            if not scope.get("sandbox.drop_connection"):
                await send(message)
                return
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is None:
                raise ConnectionAbortedError("sandbox: connection dropped after commit")
            if not transport.is_closing():
                transport.abort()
                await asyncio.sleep(0)  # let the server see the connection is gone before the app returns

        await self.app(scope, receive, guarded_send)
