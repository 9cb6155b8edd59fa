"""Shopify bulk query operations (GraphQL Admin API 2026-10): every order updated since a date, as one JSONL file.

The documented cycle (shopify.dev, "Perform bulk operations with the GraphQL Admin API"):

1. ``bulkOperationRunQuery(query:, groupObjects: false)`` starts the operation; ``userErrors``
   (``code`` ``OPERATION_IN_PROGRESS``, ``LIMIT_REACHED``, ``INVALID``) say why it did not start.
   From 2026-01 an app may run up to five bulk queries per shop at a time, before that one.
2. ``bulkOperation(id:)`` (2026-01 and later; ``currentBulkOperation`` is deprecated) is polled until
   the status is final: ``COMPLETED``, ``FAILED`` (with ``errorCode`` ``ACCESS_DENIED``,
   ``INTERNAL_SERVER_ERROR`` or ``TIMEOUT``), ``CANCELED`` or ``EXPIRED``.
3. ``url`` is a JSONL file (one object per line; a nested connection's nodes are lines of their own
   with ``__parentId``). It is null when the query matched nothing. A failed operation may leave
   ``partialDataUrl``; the hub never reads partial data (the next backfill reads the window again).

``groupObjects: false`` is 2026-10's default and Shopify's advice (grouping is slow and times out):
children may then come anywhere in the file, so :func:`assemble_orders` re-assembles orders from
the file on disk through a temporary SQLite index, never holding the file in memory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError
from connectors.shopify._client import ShopifyClient
from connectors.shopify._query import ORDER_FIELDS, search_timestamp

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
_BULK_OPERATION_FIELDS = ("id status errorCode objectCount rootObjectCount fileSize url partialDataUrl "
                          "createdAt completedAt")

# The sync's field set, as a bulk query takes it: nested connections without ``first`` (a bulk
# operation reads them whole) and without ``pageInfo`` (not allowed in bulk queries), each child
# with ``__typename`` so its JSONL line says which connection it came from.
_CONNECTION = re.compile(r"(\w+)\(first: \$\w+\) \{\s*nodes \{")
_PAGE_INFO = re.compile(r"\s*pageInfo \{ hasNextPage \}")
BULK_ORDER_FIELDS = _PAGE_INFO.sub("", _CONNECTION.sub(r"\1 {\n        nodes { __typename", ORDER_FIELDS))
_CHILD_CONNECTIONS = {"LineItem": "lineItems", "ShippingLine": "shippingLines"}
if BULK_ORDER_FIELDS.count("__typename") != len(_CHILD_CONNECTIONS) or "$" in BULK_ORDER_FIELDS:
    raise ImportError("connectors.shopify._query.ORDER_FIELDS changed shape: adapt the bulk query to it")

RUN_QUERY_MUTATION = """mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
BULK_OPERATION_QUERY = f"""query BulkOperation($id: ID!) {{
  bulkOperation(id: $id) {{ {_BULK_OPERATION_FIELDS} }}
}}
"""
# API versions before 2026-01 have no bulkOperation(id:): the current one is the only one there.
CURRENT_BULK_OPERATION_QUERY = f"""query CurrentBulkOperation {{
  currentBulkOperation(type: QUERY) {{ {_BULK_OPERATION_FIELDS} }}
}}
"""
SHOP_TIMEZONE_QUERY = "query ShopTimezone { shop { ianaTimezone } }\n"


def bulk_orders_query(since: dt.datetime) -> str:
    """The bulk query: every order (test orders included) updated at or after ``since``, oldest update first."""
    search = json.dumps(f"updated_at:>={search_timestamp(since, 'since')}")
    return f"""{{
  orders(query: {search}, sortKey: UPDATED_AT) {{
    nodes {{{BULK_ORDER_FIELDS}
    }}
  }}
}}
"""


@dataclass(frozen=True)
class BulkOperation:
    """One ``BulkOperation`` object as Shopify reported it."""

    id: str
    status: str
    error_code: str | None = None
    object_count: int | None = None
    url: str | None = None
    partial_data_url: str | None = None

    @property
    def done(self) -> bool:
        """Whether the status is final (nothing changes any more)."""
        return self.status in FINAL_STATUSES


class BulkOperationFailed(HubError):
    """The operation ended FAILED, CANCELED or EXPIRED: no complete file to read (``operation`` says why)."""

    def __init__(self, message: str, operation: BulkOperation) -> None:
        super().__init__(message)
        self.operation = operation


class BulkFileTooLarge(RejectedDocument):
    """The JSONL file is larger than the limit: nothing of it was read."""


class ShopifyBulk:
    """Bulk query operations of one store, over its :class:`ShopifyClient` (same token, same cost bucket).

    ``transport`` is the download's test seam (respx patches the default one); the download goes
    to the signed URL Shopify hands out (Google Cloud Storage), never with the shop's access token.
    """

    def __init__(self, client: ShopifyClient, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 first_poll_seconds: float = 1.0, max_poll_seconds: float = 30.0,
                 timeout_seconds: float = 6 * 3600) -> None:
        self.client = client
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self.first_poll_seconds = first_poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self.timeout_seconds = timeout_seconds

    @property
    def _by_id(self) -> bool:
        return self.client.shop.api_version >= "2026-01"

    def shop_timezone_answer(self) -> bytes:
        """The raw ``shop { ianaTimezone }`` answer (archived with the file: the mapping gives timestamps this zone)."""
        response, _ = self.client.execute(SHOP_TIMEZONE_QUERY, {})
        return response.content

    def start_orders(self, since: dt.datetime) -> BulkOperation:
        """Start the bulk query for orders updated since ``since``; a refusal (``userErrors``) raised as a hub error."""
        # A mutation: a timeout may have started it, so it is not sent twice (the next run sees LIMIT_REACHED
        # or OPERATION_IN_PROGRESS at worst, never two operations the hub lost track of).
        _, body = self.client.execute(RUN_QUERY_MUTATION, {"query": bulk_orders_query(since)}, idempotent=False)
        payload = _path(body, "data", "bulkOperationRunQuery")
        errors = payload.get("userErrors") if isinstance(payload, dict) else None
        if errors:
            raise _user_error(errors, self.client.shop.api_version)
        operation = _operation(payload.get("bulkOperation") if isinstance(payload, dict) else None)
        if operation is None:
            raise FatalError("shopify bulkOperationRunQuery: no bulkOperation and no userErrors in the answer")
        return operation

    def status(self, operation_id: str) -> BulkOperation:
        """The operation as Shopify reports it now."""
        if self._by_id:
            _, body = self.client.execute(BULK_OPERATION_QUERY, {"id": operation_id})
            operation = _operation(_path(body, "data", "bulkOperation"))
        else:
            _, body = self.client.execute(CURRENT_BULK_OPERATION_QUERY, {})
            operation = _operation(_path(body, "data", "currentBulkOperation"))
            if operation is not None and operation.id != operation_id:
                raise FatalError(f"shopify currentBulkOperation is {operation.id}, not {operation_id}: another "
                                 "bulk query was started on this shop meanwhile")
        if operation is None:
            raise FatalError(f"shopify bulk operation {operation_id} not found")
        return operation

    def wait(self, operation_id: str) -> BulkOperation:
        """Poll with backoff (doubling, capped) until the status is final; COMPLETED returned, anything else raised."""
        delay, deadline = self.first_poll_seconds, self._clock() + self.timeout_seconds
        while True:
            operation = self.status(operation_id)
            if operation.done:
                break
            if self._clock() + delay > deadline:
                raise RetriableError(f"shopify bulk operation {operation_id} still {operation.status} after "
                                     f"{self.timeout_seconds:.0f}s")
            self._sleep(delay)
            delay = min(delay * 2, self.max_poll_seconds)
        if operation.status != "COMPLETED":
            partial = " (a partial file exists; it is not read)" if operation.partial_data_url else ""
            raise BulkOperationFailed(f"shopify bulk operation {operation_id} ended {operation.status}"
                                      + (f" with errorCode {operation.error_code}" if operation.error_code else "")
                                      + partial, operation)
        return operation

    def download(self, url: str, path: Path, *, max_bytes: int) -> int:
        """Stream the JSONL file at ``url`` into ``path``, at most ``max_bytes``; its size.

        The file is written as it arrives (never whole in memory); one larger than ``max_bytes``
        is refused (:class:`BulkFileTooLarge`) and what was written of it removed.
        """
        _check_url(url)
        written = 0
        timeout = httpx.Timeout(self.client.config.timeout_seconds, connect=self.client.config.connect_timeout_seconds)
        try:
            with httpx.Client(transport=self._transport, timeout=timeout, follow_redirects=False) as http, \
                    http.stream("GET", url) as response, path.open("wb") as out:
                if response.status_code != 200:
                    raise RetriableError(f"shopify bulk file: HTTP {response.status_code}")
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise BulkFileTooLarge(f"shopify bulk file is over the limit of {max_bytes} bytes "
                                           f"(Content-Length {int(declared)}): raise --max-bytes or backfill a "
                                           "shorter window", location="$")
                for block in response.iter_bytes():
                    written += len(block)
                    if written > max_bytes:
                        raise BulkFileTooLarge(f"shopify bulk file is over the limit of {max_bytes} bytes: raise "
                                               "--max-bytes or backfill a shorter window", location="$")
                    out.write(block)
        except httpx.TransportError as exc:
            path.unlink(missing_ok=True)
            raise RetriableError(f"shopify bulk file: {type(exc).__name__}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return written


def assemble_orders(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, Order node with its ``lineItems``/``shippingLines`` as ``{nodes: [...]}``) from bulk JSONL lines.

    Orders come in the order of their lines; children may come anywhere (ungrouped output), so
    they are indexed in a temporary SQLite file first. A line that is not a JSON object, or a child
    whose parent is not in the file, is a :class:`RejectedDocument` naming the line.
    """
    with tempfile.TemporaryDirectory(prefix="shopify-bulk-") as folder:
        db = sqlite3.connect(Path(folder) / "index.sqlite")
        try:
            db.execute("CREATE TABLE line (n INTEGER PRIMARY KEY, parent TEXT, id TEXT, body TEXT NOT NULL)")
            for n, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                obj = _line(raw, n)
                parent = obj.get("__parentId")
                db.execute("INSERT INTO line VALUES (?, ?, ?, ?)",
                           (n, None if parent is None else str(parent), str(obj.get("id")), raw.decode()))
            db.execute("CREATE INDEX line_parent ON line (parent, n)")
            db.execute("CREATE INDEX line_id ON line (id, parent)")
            orphan = db.execute("SELECT n, parent FROM line AS c WHERE parent IS NOT NULL AND NOT EXISTS "
                                "(SELECT 1 FROM line AS p WHERE p.parent IS NULL AND p.id = c.parent) "
                                "ORDER BY n LIMIT 1").fetchone()
            if orphan is not None:
                raise RejectedDocument(f"line {orphan[0]}: __parentId {orphan[1]} is no order of the file",
                                       location=f"line {orphan[0]}")
            for n, body in db.cursor().execute("SELECT n, body FROM line WHERE parent IS NULL ORDER BY n"):
                node = json.loads(body, parse_float=Decimal)
                connections: dict[str, list[Any]] = {name: [] for name in _CHILD_CONNECTIONS.values()}
                for (child_body,) in db.execute("SELECT body FROM line WHERE parent = ? ORDER BY n",
                                                (str(node.get("id")),)):
                    child = json.loads(child_body, parse_float=Decimal)
                    child.pop("__parentId", None)
                    kind = child.pop("__typename", None)
                    if kind not in _CHILD_CONNECTIONS:
                        raise RejectedDocument(f"order line {n}: a child of type {kind!r} was not asked for",
                                               location=f"line {n}")
                    connections[_CHILD_CONNECTIONS[kind]].append(child)
                for name, nodes in connections.items():
                    # A bulk operation reads a connection whole: nothing is left on a next page.
                    node[name] = {"nodes": nodes, "pageInfo": {"hasNextPage": False}}
                yield n, node
        finally:
            db.close()


def iter_lines(path: Path) -> Iterator[bytes]:
    """The file's lines, one at a time."""
    with path.open("rb") as stream:
        yield from stream


def _line(raw: bytes, n: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise RejectedDocument(f"line {n} is not JSON", location=f"line {n}") from None
    if not isinstance(obj, dict):
        raise RejectedDocument(f"line {n} is not a JSON object", location=f"line {n}")
    return obj


def _check_url(url: str) -> None:
    """HTTPS only; plain HTTP to a loopback address is the sandbox."""
    parsed = httpx.URL(url)
    if parsed.scheme == "https":
        return
    try:
        loopback = ipaddress.ip_address(parsed.host).is_loopback
    except ValueError:
        loopback = parsed.host == "localhost"
    if parsed.scheme != "http" or not loopback:
        raise ConfigurationError(f"shopify bulk file URL is not HTTPS ({parsed.scheme}://{parsed.host})")


def _path(body: Any, *keys: str) -> Any:
    for key in keys:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def _operation(value: Any) -> BulkOperation | None:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not isinstance(value.get("status"), str):
        return None
    count = value.get("objectCount")
    return BulkOperation(id=value["id"], status=value["status"], error_code=value.get("errorCode"),
                         object_count=int(count) if isinstance(count, (int, str)) and str(count).isdigit() else None,
                         url=value.get("url"), partial_data_url=value.get("partialDataUrl"))


def _user_error(errors: Any, api_version: str) -> Exception:
    entries = [e for e in (errors if isinstance(errors, list) else [errors]) if isinstance(e, dict)]
    codes = {str(e.get("code")) for e in entries}
    text = "; ".join(str(e.get("message")) for e in entries)[:300]
    if codes & {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}:
        running = "five bulk queries" if api_version >= "2026-01" else "one bulk query"
        return RetriableError(f"shopify bulkOperationRunQuery: {text} ({', '.join(sorted(codes))}: this app already "
                              f"runs {running} on the shop, the most API {api_version} allows; try again later)")
    return FatalError(f"shopify bulkOperationRunQuery: {text} ({', '.join(sorted(codes))}; API {api_version})")
