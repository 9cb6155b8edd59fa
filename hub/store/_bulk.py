"""Saving many canonical orders at once: the same outcomes as ``save_order``, a few statements per batch.

Large X12 files bring thousands of new orders; saving them one by one costs several statements
per order (and ORM-free as it is, SQLAlchemy's per-row parameter handling dominates). Here a batch
of originals costs one SELECT for the order numbers already stored, one bulk insert per table
and one SELECT for the new ids. Cancellations, replacements and changes act on a stored order and
keep going through ``save_order``, in their place in the sequence.

The rows are handed to the driver with their values already in stored form (each column's own
bind processor, the hot ones done inline: exact decimals, the payload serialized once by pydantic):
SQLite takes them in one ``executemany`` per table, PostgreSQL (psycopg 3) as ``COPY ... FROM
STDIN``; another driver gets SQLAlchemy Core ``executemany``. On PostgreSQL the lookups probe the
unique indexes key by key (see ``_STORED_ORDERS_PG``): a plain ``IN`` list is planned as a scan
while the table has no statistics, which is exactly the case during a big first load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select, text

from canonical.model import Order, Purpose
from hub.store._order_states import OrderStatus, SaveAction
from hub.store._orders import SavedOrder, save_order
from hub.store._outbox import PENDING
from hub.store._tables import order_events, order_lines, order_parties, orders, outbox
from hub.store._types import ExactDecimal, UtcDateTime

_ORDER_COLUMNS = (
    "source", "partner_id", "source_ref", "purpose", "order_date", "currency", "total", "is_test", "raw_sha256",
    "document_ref", "payload", "status", "revision", "receipt_id", "created_at", "updated_at",
)
_LINE_COLUMNS = (
    "order_id", "line_no", "sku", "gtin", "buyer_part", "description", "quantity", "uom", "unit_price", "amount",
)
_PARTY_COLUMNS = (
    "order_id", "role", "name", "party_id", "id_qualifier", "address_lines", "city", "region", "postal_code",
    "country",
)
_EVENT_COLUMNS = ("order_id", "kind", "at", "receipt_id", "detail")
_OUTBOX_COLUMNS = ("order_id", "target", "state", "attempts", "updated_at")
_KEYS_PER_SELECT = 500  # bound parameters per IN list stay far below every backend's limit

# PostgreSQL plans ``source_ref IN (500 values)`` on a table it has no statistics for yet (a new
# store, or one that grew by thousands of rows inside this very transaction) as a walk through every
# order of the partner: ~100 ms a batch at 10,000 orders, growing with the table. One index probe
# per key costs ~2 ms per 500 keys whatever the statistics say (LATERAL ... LIMIT 1 keeps the
# planner from turning it back into a join).
_STORED_ORDERS_PG = text(
    "SELECT o.id, o.source_ref, o.raw_sha256, o.document_ref FROM unnest(CAST(:refs AS text[])) AS wanted(ref) "
    "JOIN LATERAL (SELECT id, source_ref, raw_sha256, document_ref FROM orders WHERE source = :source "
    "AND partner_id = :partner_id AND source_ref = wanted.ref LIMIT 1) AS o ON true"
)
_QUEUED_PG = text(  # by order id alone: with the target inside, the (target, state) index looked cheaper
    "SELECT q.order_id FROM unnest(CAST(:ids AS integer[])) AS wanted(order_id) "
    "JOIN LATERAL (SELECT order_id, target FROM outbox WHERE order_id = wanted.order_id OFFSET 0) AS q ON true "
    "WHERE q.target = :target"
)


def save_orders_bulk(
    conn: Connection, orders_: Sequence[Order | OrderRows], *, receipt_id: int | None, now: dt.datetime
) -> list[SavedOrder]:
    """Apply ``orders_`` in sequence, as ``save_order`` one by one would; one result per order.

    Originals may come as ``order_rows(conn, order)`` already (cheaper to hold in a batch).
    """
    results: list[SavedOrder] = []
    run: list[OrderRows] = []
    for order in orders_:
        if isinstance(order, OrderRows):
            run.append(order)
            continue
        if order.purpose is Purpose.ORIGINAL:
            run.append(order_rows(conn, order))
            continue
        # A cancellation or replacement may name an order created earlier in this very batch.
        results.extend(_save_originals(conn, run, receipt_id=receipt_id, now=now))
        run = []
        results.append(save_order(conn, order, receipt_id=receipt_id, now=now))
    results.extend(_save_originals(conn, run, receipt_id=receipt_id, now=now))
    return results


def add_events_bulk(
    conn: Connection, events: Iterable[tuple[int, str, dict[str, Any]]], *, receipt_id: int | None, now: dt.datetime
) -> None:
    """Append ``(order_id, kind, detail)`` events to the orders' logs, in the given order."""
    rows = [(order_id, kind, now, receipt_id, detail) for order_id, kind, detail in events]
    _insert_many(conn, order_events, _EVENT_COLUMNS, rows)


def enqueue_deliveries_bulk(conn: Connection, order_ids: Sequence[int], *, target: str, now: dt.datetime) -> None:
    """``enqueue_delivery`` for many orders: one pending delivery each, none added twice."""
    if not order_ids:
        return
    asked: set[int] = set()
    postgres = conn.dialect.name == "postgresql"
    for chunk in _chunks(list(dict.fromkeys(order_ids)), _KEYS_PER_SELECT):
        if postgres:
            query = conn.execute(_QUEUED_PG, {"ids": chunk, "target": target})
        else:
            query = conn.execute(
                select(outbox.c.order_id).where((outbox.c.target == target) & outbox.c.order_id.in_(chunk)))
        asked.update(query.scalars())
    rows = []
    for order_id in order_ids:
        if order_id not in asked:
            asked.add(order_id)
            rows.append((order_id, target, PENDING, 0, now))
    _insert_many(conn, outbox, _OUTBOX_COLUMNS, rows)


# -- originals --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderRows:
    """A new (original) order as the plain rows it is stored as; see ``order_rows``.

    Holding hundreds of pydantic orders until a batch is written makes the garbage collector
    walk all of their objects again and again; a batch of these costs it almost nothing.
    """

    key: tuple[str, str, str]
    """(source, partner_id, source_ref)."""
    raw_document_id: str | None
    document_ref: str | None
    order: tuple
    """The orders row without receipt_id, created_at, updated_at (set when saved)."""
    lines: list[tuple]
    """Order line rows without order_id."""
    parties: list[tuple]
    """Order party rows without order_id."""
    warnings: tuple[str, ...]


def order_rows(conn: Connection, order: Order) -> OrderRows:
    """``order`` (an original) in stored form for this connection's backend, to save later in bulk."""
    if order.purpose is not Purpose.ORIGINAL:
        raise ValueError("only original orders are saved from rows; others go through save_order")
    fast = _fast_path(conn)
    # The JSON column holds text on SQLite and PostgreSQL (json, not jsonb): pydantic serializes the
    # payload once, in Rust, and the insert passes it on as it is.
    payload = _JsonText(order.model_dump_json()) if fast else order.model_dump(mode="json")
    row = (order.source.value, order.partner_id, order.source_ref, order.purpose.value, order.order_date,
           order.currency, order.total, order.is_test, order.raw_document_id, order.document_ref, payload,
           OrderStatus.OPEN, 1)
    # Lines are most of the rows: their decimals are put in stored form right here (text that
    # SQLite keeps and PostgreSQL's COPY reads as numeric), not in a second pass over the batch.
    dec = _decimal_text if fast else _same
    lines = [
        (line.line_no, line.sku, line.gtin, line.buyer_part, line.description, dec(line.quantity), line.uom,
         dec(line.unit_price), dec(line.amount))
        for line in order.lines
    ]
    parties = [
        (party.role.value, party.name, party.id, party.id_qualifier, list(party.address_lines), party.city,
         party.region, party.postal_code, party.country)
        for party in order.parties
    ]
    return OrderRows((order.source.value, order.partner_id, order.source_ref), order.raw_document_id,
                     order.document_ref, row, lines, parties, tuple(order.warnings))


def _save_originals(
    conn: Connection, batch: list[OrderRows], *, receipt_id: int | None, now: dt.datetime
) -> list[SavedOrder]:
    if not batch:
        return []
    stored = _stored_rows(conn, [rows.key for rows in batch])
    # Per order: an earlier row (stored, or created earlier in this batch) decides, as in save_order.
    earlier: dict[tuple[str, str, str], tuple[int | None, str | None, str | None]] = dict(stored)
    verdicts: list[tuple[SaveAction, tuple[str, str, str]]] = []
    new: list[OrderRows] = []
    for rows in batch:
        key = rows.key
        row = earlier.get(key)
        if row is None:
            earlier[key] = (None, rows.raw_document_id, rows.document_ref)
            new.append(rows)
            verdicts.append((SaveAction.CREATED, key))
        elif rows.raw_document_id is not None and row[1] == rows.raw_document_id and row[2] == rows.document_ref:
            verdicts.append((SaveAction.ALREADY_STORED, key))
        else:
            verdicts.append((SaveAction.DUPLICATE, key))
    ids = _insert_orders(conn, new, receipt_id=receipt_id, now=now) if new else {}
    for key, stored_row in stored.items():
        ids[key] = stored_row[0]
    return [SavedOrder(action, ids[key]) for action, key in verdicts]


def _stored_rows(conn: Connection, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], tuple]:
    """(source, partner, number) -> (id, raw_sha256, document_ref) of the orders already stored."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for source, partner_id, source_ref in keys:
        wanted.setdefault((source, partner_id), []).append(source_ref)
    found = {}
    for (source, partner_id), refs in wanted.items():
        for chunk in _chunks(list(dict.fromkeys(refs)), _KEYS_PER_SELECT):
            if conn.dialect.name == "postgresql":
                rows = conn.execute(_STORED_ORDERS_PG, {"refs": chunk, "source": source, "partner_id": partner_id})
            else:
                rows = conn.execute(
                    select(orders.c.id, orders.c.source_ref, orders.c.raw_sha256, orders.c.document_ref).where(
                        (orders.c.source == source) & (orders.c.partner_id == partner_id)
                        & orders.c.source_ref.in_(chunk)
                    )
                )
            for row in rows:
                found[(source, partner_id, row.source_ref)] = (row.id, row.raw_sha256, row.document_ref)
    return found


def _insert_orders(
    conn: Connection, new: list[OrderRows], *, receipt_id: int | None, now: dt.datetime
) -> dict[tuple[str, str, str], int]:
    """Insert new originals with their lines, parties and 'received' events; their ids by key."""
    _insert_many(conn, orders, _ORDER_COLUMNS, [(*rows.order, receipt_id, now, now) for rows in new])
    ids = {key: row[0] for key, row in _stored_rows(conn, [rows.key for rows in new]).items()}
    line_rows: list[tuple[Any, ...]] = []
    party_rows: list[tuple[Any, ...]] = []
    events = []
    for rows in new:
        order_id = ids[rows.key]
        line_rows.extend((order_id, *line) for line in rows.lines)
        party_rows.extend((order_id, *party) for party in rows.parties)
        events.append((order_id, "received", {"document_ref": rows.document_ref,
                                              "raw_document_id": rows.raw_document_id,
                                              "warnings": list(rows.warnings)}))
    _insert_many(conn, order_lines, _LINE_COLUMNS, line_rows, bound={"quantity", "unit_price", "amount"})
    _insert_many(conn, order_parties, _PARTY_COLUMNS, party_rows)
    add_events_bulk(conn, events, receipt_id=receipt_id, now=now)
    return ids


# -- statements -------------------------------------------------------------------------------------
class _JsonText(str):
    """A JSON value already serialized (by pydantic): stored as it is, not serialized again."""


def _insert_many(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple], *, bound: set[str] | None = None
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table`` the fastest way the backend has.

    SQLite: one driver ``executemany``. PostgreSQL with psycopg 3: ``COPY ... FROM STDIN`` in the
    connection's own transaction (several times faster than multi-row INSERTs at 200,000 lines).
    Values go through each column's own bind processor first, so both store what SQLAlchemy would;
    the ``bound`` columns already hold the stored form (see ``_decimal_text``).
    Elsewhere: SQLAlchemy Core ``executemany``.
    """
    if not rows:
        return
    dialect = conn.dialect
    if not _fast_path(conn):
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    binders = [(i, bind) for i, name in enumerate(columns) if name not in (bound or ())
               if (bind := _binder(table.c[name], dialect)) is not None]
    if binders:
        converted = []
        for row in rows:
            values = list(row)
            for i, bind in binders:
                values[i] = bind(values[i])
            converted.append(tuple(values))
        rows = converted
    if dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None, "a checked-out connection has its driver's connection"
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as out:
            for row in rows:
                out.write_row(row)
        return
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.exec_driver_sql(sql, rows)


def _fast_path(conn: Connection) -> bool:
    """Whether ``_insert_many`` hands this connection's rows to the driver in stored form: SQLite's
    ``executemany`` or PostgreSQL's COPY (through psycopg 3); other drivers get SQLAlchemy Core."""
    return conn.dialect.name == "sqlite" or (conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg")


def _decimal_text(value: Decimal | None) -> str | None:
    """ExactDecimal's stored form on SQLite (``format(Decimal(value), "f")``) of a Decimal or None.

    ``str`` gives the same text twice as fast unless it switches to scientific notation.
    """
    if value is None:
        return None
    text = str(value)
    return format(value, "f") if "E" in text else text


def _same(value: Any) -> Any:
    return value


def _binder(column, dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy would do to a value of ``column`` before the driver sees it (fast where it counts)."""
    kind = column.type
    process = kind.dialect_impl(dialect).bind_processor(dialect)  # as Core does: the dialect's own impl
    if isinstance(kind, ExactDecimal):
        # ExactDecimal on SQLite: canonical text, format(Decimal(value), "f"); a Decimal needs no Decimal().
        def exact(value, process=process):
            if type(value) is Decimal:
                return format(value, "f")
            return process(value) if process is not None else value
        return exact
    if isinstance(kind, UtcDateTime) and process is not None:
        # A batch stamps every row with the same ``now``: convert it once.
        last: list[Any] = [object(), None]

        def stamp(value, process=process):
            if value is not last[0]:
                last[0], last[1] = value, process(value)
            return last[1]
        return stamp
    if process is not None and column.name in ("payload", "detail", "address_lines"):
        def as_json(value, process=process):
            return str(value) if type(value) is _JsonText else process(value)
        return as_json
    return process


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

