"""The sandbox ERP's records: an ORM-like store with Odoo's value rules, sale order workflow and persistence."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sandbox._erp_domain import compile_domain, indexed_lookup, mentions, sorted_rows
from sandbox._erp_schema import (
    COMPANY_CURRENCY,
    CURRENCIES,
    DATETIME_FORMAT,
    MODELS,
    PROTECTED_LINE_FIELDS,
    UNIQUE_REF_MESSAGE,
    FieldSpec,
    OdooFault,
    missing_records,
    unprocessable,
    user_error,
    validation_error,
)

# The fields Odoo's own tables index that the hub looks records up by (PostgreSQL b-tree indexes in
# Odoo: ``client_order_ref``, ``ref``, ``default_code``, ``barcode``, the line's ``order_id``): a search
# on one of them reads the matching rows only, not the whole table, so figures measure the hub.
INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    "sale.order": ("client_order_ref",),
    "sale.order.line": ("order_id",),
    "res.partner": ("ref",),
    "product.product": ("default_code", "barcode"),
}
_ABSENT = object()


class Table(dict[int, dict[str, Any]]):
    """One model's rows by id, with its field indexes and an undo journal for the call in progress.

    Rows are replaced, never changed in place, inside a call (``Database.update_row``), so the
    journal holds the row as it was and an index never goes stale.
    """

    def __init__(self, fields: tuple[str, ...], rows: dict[int, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.indexes: dict[str, dict[Any, set[int]]] = {name: {} for name in fields}
        self.journal: list[tuple[Table, int, Any]] | None = None
        for key, row in (rows or {}).items():
            self[key] = row

    def __setitem__(self, key: int, row: dict[str, Any]) -> None:
        old = dict.get(self, key, _ABSENT)
        if self.journal is not None:
            self.journal.append((self, key, old))
        if isinstance(old, dict):
            self._unindex(key, old)
        dict.__setitem__(self, key, row)
        for name, index in self.indexes.items():
            if row.get(name) is not None:
                index.setdefault(row[name], set()).add(key)

    def pop(self, key: int, *default: Any) -> Any:
        """Remove a row (journaled, unindexed)."""
        if key not in self:
            return default[0] if default else dict.pop(self, key)
        old = dict.pop(self, key)
        if self.journal is not None:
            self.journal.append((self, key, old))
        self._unindex(key, old)
        return old

    def undo(self, key: int, old: Any) -> None:
        """Put a journaled row back as it was (or remove one the call added)."""
        if key in self:
            self._unindex(key, dict.__getitem__(self, key))
            dict.__delitem__(self, key)
        if old is not _ABSENT:
            dict.__setitem__(self, key, old)
            for name, index in self.indexes.items():
                if old.get(name) is not None:
                    index.setdefault(old[name], set()).add(key)

    def _unindex(self, key: int, row: dict[str, Any]) -> None:
        for name, index in self.indexes.items():
            ids = index.get(row.get(name))
            if ids is not None:
                ids.discard(key)
                if not ids:
                    del index[row.get(name)]


class Database:
    """All records, the id counters and the sale order sequence; callers hold ``lock``."""

    def __init__(self, state_path: Path | None) -> None:
        self.lock = threading.RLock()
        self.state_path = state_path
        self.records: dict[str, Table] = {model: Table(INDEXED_FIELDS.get(model, ())) for model in MODELS}
        # Set during a write call: every row replaced or removed, to undo the call if it fails.
        self._journal: list[tuple[Table, int, Any]] | None = None
        self._saved_at = 0.0
        self._save_cost = 0.0
        self._dirty = False
        self._save_timer: threading.Timer | None = None
        self.next_id: dict[str, int] = {model: 1 for model in MODELS}
        self.sale_order_sequence = 0
        # Odoo's "Lock Confirmed Sales" setting: confirmed orders are locked at once.
        self.lock_confirmed_sales = False
        # What a small custom Odoo module adds (docs/operations.md): UNIQUE(origin, client_order_ref)
        # on sale.order, so a second create for the same trading partner's reference is refused.
        self.unique_sale_order_refs = False
        # Sale orders a server-side rule refuses (a custom module's constraint, a credit hold): ref -> message.
        self.refused_refs: dict[str, str] = {}
        if state_path is not None and state_path.exists():
            self._load(state_path)
        if not self.records["res.currency"]:
            self._seed_currencies()

    def _seed_currencies(self) -> None:
        """The company currency (USD), a few others, and a pricelist in USD and in EUR (none in GBP or CAD)."""
        ids = {code: self.create("res.currency", {"name": code, "symbol": symbol, "active": True})
               for code, symbol in CURRENCIES}
        self.create("product.pricelist", {"name": "Public Pricelist", "currency_id": ids["USD"], "sequence": 10})
        self.create("product.pricelist", {"name": "EUR Pricelist", "currency_id": ids["EUR"], "sequence": 20})

    def currency_id(self, code: str) -> int | None:
        """The id of the ``res.currency`` named ``code``."""
        return next((r["id"] for r in self.records["res.currency"].values() if r.get("name") == code), None)

    # persistence

    def begin(self) -> tuple[Any, ...]:
        """Start a call's transaction (Odoo's per-call transaction): rows it replaces are journaled, not the
        whole state copied, so a call costs what it touches."""
        self._journal = []
        for table in self.records.values():
            table.journal = self._journal
        return dict(self.next_id), self.sale_order_sequence

    def end(self, started: tuple[Any, ...], *, commit: bool) -> None:
        """End the call's transaction: keep its changes, or undo every one of them (newest first)."""
        journal, self._journal = self._journal or [], None
        for table in self.records.values():
            table.journal = None
        if not commit:
            for table, key, old in reversed(journal):
                table.undo(key, old)
            self.next_id, self.sale_order_sequence = started

    def update_row(self, model: str, record_id: int, **values: Any) -> dict[str, Any]:
        """Replace one row with ``values`` changed (journaled and reindexed); the new row."""
        row = {**self.records[model][record_id], **values}
        self.records[model][record_id] = row
        return row

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        for model in MODELS:
            self.records[model] = Table(INDEXED_FIELDS.get(model, ()),
                                        {int(k): v for k, v in data.get("records", {}).get(model, {}).items()})
            self.next_id[model] = int(data.get("next_id", {}).get(model, 1))
        self.sale_order_sequence = int(data.get("sale_order_sequence", 0))

    def save(self) -> None:
        """Persist soon: at once if the last write was long enough ago, else within a second or so.

        Writing the whole file after every call made a call cost the size of the database; writes are
        spaced so that they take at most a tenth of the time (``flush`` on stop writes what is left).
        """
        if self.state_path is None:
            return
        now = time.monotonic()
        if now - self._saved_at >= max(1.0, 10 * self._save_cost):
            self.flush()
            return
        self._dirty = True
        if self._save_timer is None:
            self._save_timer = threading.Timer(max(1.0, 10 * self._save_cost), self._flush_later)
            self._save_timer.daemon = True
            self._save_timer.start()

    def _flush_later(self) -> None:
        with self.lock:
            self._save_timer = None
            if self._dirty:
                self.flush()

    def flush(self) -> None:
        """Write the state file atomically now (a crash leaves the previous state, never half of one)."""
        if self.state_path is None:
            return
        started = time.monotonic()
        self._dirty = False
        data = {
            "version": 1,
            "records": {model: {str(k): v for k, v in rows.items()} for model, rows in self.records.items()},
            "next_id": self.next_id,
            "sale_order_sequence": self.sale_order_sequence,
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)
        self._saved_at = time.monotonic()
        self._save_cost = self._saved_at - started

    # ORM-like primitives

    def existing(self, model: str, ids: Iterable[int]) -> list[int]:
        ids = list(ids)
        missing = [i for i in ids if i not in self.records[model]]
        if missing:
            raise missing_records(model, missing)
        return ids

    def search(
        self,
        model: str,
        domain: Any,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
    ) -> list[int]:
        matches = compile_domain(model, domain if domain is not None else [])
        # Like Odoo, archived records are left out unless the domain or the context asks for them.
        hide_archived = active_test and "active" in MODELS[model] and not mentions(domain, "active")
        table = self.records[model]
        # A term on an indexed field narrows the rows to read, as the database's index would.
        candidate_ids = indexed_lookup(domain, table.indexes)
        candidates = table.values() if candidate_ids is None else (table[i] for i in sorted(candidate_ids))
        rows = [
            row
            for row in candidates
            if matches(row, self) and not (hide_archived and row.get("active") is False)
        ]
        rows = sorted_rows(model, rows, order)
        if (
            not isinstance(offset, int)
            or offset < 0
            or (limit is not None and (not isinstance(limit, int) or limit < 0))
        ):
            raise unprocessable("offset and limit must be non-negative integers")
        end = None if limit is None else offset + limit
        return [row["id"] for row in rows[offset:end]]

    def read(self, model: str, ids: list[int], fields: list[str] | None) -> list[dict[str, Any]]:
        spec = MODELS[model]
        if fields is None or fields == []:
            fields = list(spec)
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise unprocessable("fields must be a list of field names")
        for name in fields:
            if name not in spec and name not in ("id", "display_name"):
                raise OdooFault(422, "builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
        out = []
        for record_id in self.existing(model, ids):
            row = self.records[model][record_id]
            values: dict[str, Any] = {"id": record_id}
            for name in fields:
                if name == "id":
                    continue
                if name == "display_name":
                    values[name] = self.display_name(model, record_id)
                    continue
                values[name] = self._export(spec[name], row.get(name))
            out.append(values)
        return out

    def display_name(self, model: str, record_id: int) -> str:
        row = self.records[model].get(record_id)
        if row is None:
            return ""
        if model == "sale.order.line":
            return row.get("name") or ""
        return row.get("name") or f"{model},{record_id}"

    def _export(self, field: FieldSpec, value: Any) -> Any:
        # Odoo answers `false` for empty values and [id, display_name] for many2one.
        if field.kind == "many2one":
            return [value, self.display_name(field.comodel or "", value)] if value else False
        if field.kind == "one2many":
            return list(value or [])
        if field.kind == "float":
            return float(value or 0.0)
        if field.kind == "integer":
            return int(value or 0)
        if field.kind == "bool":
            return bool(value)
        return value if value not in (None, "") else False

    def create(self, model: str, vals: dict[str, Any]) -> int:
        record_id = self.next_id[model]
        row: dict[str, Any] = {"id": record_id}
        lines = self._assign(model, row, vals, creating=True)
        self._check_unique(model, row)
        self.next_id[model] += 1
        self.records[model][record_id] = row
        self._defaults(model, row)
        if lines is not None:
            self._apply_line_commands(row, lines, state="draft", locked=False)
        self._recompute(model, row)
        return record_id

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> None:
        for record_id in self.existing(model, ids):
            before = self.records[model][record_id]
            row = dict(before)
            lines = self._assign(model, row, vals, creating=False)
            self._check_unique(model, row)
            self.records[model][record_id] = row
            if lines is not None:
                # Odoo's line rules look at the order as it was when the call started.
                self._apply_line_commands(row, lines, state=before.get("state"), locked=bool(before.get("locked")))
            self._recompute(model, row)

    def unlink(self, model: str, ids: list[int], *, check_state: bool = True) -> None:
        self.existing(model, ids)
        if model == "sale.order" and check_state:
            for record_id in ids:
                if self.records[model][record_id].get("state") not in ("draft", "cancel"):
                    raise user_error(
                        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
                    )
        for record_id in ids:
            row = self.records[model].pop(record_id)
            for line_id in row.get("order_line") or []:
                self.records["sale.order.line"].pop(line_id, None)

    def _check_unique(self, model: str, row: dict[str, Any]) -> None:
        """The custom module's UNIQUE(origin, client_order_ref), answered as Odoo answers an SQL constraint."""
        if model == "sale.order" and row.get("client_order_ref") in self.refused_refs:
            raise validation_error(self.refused_refs[row["client_order_ref"]])
        if model != "sale.order" or not self.unique_sale_order_refs:
            return
        key = (row.get("origin"), row.get("client_order_ref"))
        if None in key or "" in key:
            return  # NULLs never collide in PostgreSQL
        table = self.records[model]
        for other_id in table.indexes["client_order_ref"].get(row.get("client_order_ref"), ()):
            other = table[other_id]
            if other["id"] != row["id"] and (other.get("origin"), other.get("client_order_ref")) == key:
                # odoo.service.model turns the IntegrityError into this ValidationError.
                raise validation_error(f"The operation cannot be completed: {UNIQUE_REF_MESSAGE}")

    # value checking

    def _assign(
        self, model: str, row: dict[str, Any], vals: Any, *, creating: bool
    ) -> list[tuple[int, int, dict[str, Any]]] | None:
        """Check and copy ``vals`` into ``row``; one2many commands are returned for after the insert."""
        if not isinstance(vals, dict):
            raise unprocessable(f"values for {model} must be an object")
        spec = MODELS[model]
        lines = None
        for name, value in vals.items():
            field = spec.get(name)
            if field is None:
                raise OdooFault(422, "builtins.ValueError", f"Invalid field {name!r} in {model!r}")
            if field.readonly:
                continue
            if field.kind == "one2many":
                lines = _line_commands(value)
                continue
            row[name] = self._import(model, name, field, value)
        if creating:
            missing = [n for n, f in spec.items() if f.required and not row.get(n) and n != "order_id"]
            if missing:
                raise validation_error(f"Missing required fields on {model}: {', '.join(missing)}")
        return lines

    def _import(self, model: str, name: str, field: FieldSpec, value: Any) -> Any:
        if field.kind == "bool":
            return bool(value)
        if value is False or value is None:
            if field.required:
                raise validation_error(f"Missing required value for {model}.{name}")
            return None
        bad = validation_error(f"Wrong value for {model}.{name}: {value!r}")
        if field.kind in ("char", "text"):
            if not isinstance(value, str):
                raise bad
            return value
        if field.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            return float(value)
        if field.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            return value
        if field.kind == "selection":
            if value not in field.choices:
                raise bad
            return value
        if field.kind == "datetime":
            return _parse_datetime(value, bad)
        if field.kind == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            if value not in self.records[field.comodel or ""]:
                raise validation_error(
                    f"The operation cannot be completed: {model}.{name} refers to a record that does not exist "
                    f"({field.comodel} {value})"
                )
            return value
        raise bad  # pragma: no cover - every kind is handled above

    def _defaults(self, model: str, row: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime(DATETIME_FORMAT)
        if model in ("res.partner", "product.product", "res.currency", "product.pricelist"):
            row.setdefault("active", True)
        if model == "res.partner":
            row.setdefault("type", "contact")
        if model == "sale.order":
            if not row.get("name"):
                self.sale_order_sequence += 1
                row["name"] = f"S{self.sale_order_sequence:05d}"
            row.setdefault("state", "draft")
            row.setdefault("date_order", now)
            row["create_date"] = now
            row["partner_invoice_id"] = row.get("partner_invoice_id") or row["partner_id"]
            row["partner_shipping_id"] = row.get("partner_shipping_id") or row["partner_id"]
            row.setdefault("order_line", [])

    def _apply_line_commands(
        self, order: dict[str, Any], commands: list[tuple[int, int, dict[str, Any]]], *, state: Any, locked: bool
    ) -> None:
        """Run ``order_line`` commands on ``order`` with Odoo's rules for confirmed and locked orders."""
        line_ids: list[int] = list(order.get("order_line") or [])
        for code, line_id, vals in commands:
            if code in (1, 2) and line_id not in line_ids:
                raise missing_records("sale.order.line", [line_id])
            if code in (2, 5) and state == "sale" and (line_ids if code == 5 else [line_id]):
                raise user_error(
                    "Once a sales order is confirmed, you can't remove one of its lines (we need to track if "
                    "something gets invoiced or delivered).\nSet the quantity to 0 instead."
                )
            if code in (0, 1) and locked:
                protected = [label for name, label in PROTECTED_LINE_FIELDS.items() if name in vals]
                if protected:
                    raise user_error(
                        "It is forbidden to modify the following fields in a locked order:\n" + "\n".join(protected)
                    )
            if code == 0:
                line_ids.append(self.create("sale.order.line", {**vals, "order_id": order["id"]}))
            elif code == 1:
                self.write("sale.order.line", [line_id], {k: v for k, v in vals.items() if k != "order_id"})
            else:
                for removed in line_ids if code == 5 else [line_id]:
                    self.records["sale.order.line"].pop(removed, None)
                line_ids = [] if code == 5 else [i for i in line_ids if i != line_id]
        order["order_line"] = line_ids

    def confirm(self, ids: list[int], *, lock: bool) -> None:
        """Odoo's ``action_confirm``: quotations only; locked too when "Lock Confirmed Sales" is on."""
        orders = [self.records["sale.order"][i] for i in self.existing("sale.order", ids)]
        if any(order.get("state") not in ("draft", "sent") for order in orders):
            raise user_error("Some orders are not in a state requiring confirmation.")
        now = dt.datetime.now(dt.UTC).strftime(DATETIME_FORMAT)
        for order in orders:
            # Odoo replaces the quotation date with the confirmation time.
            self.update_row("sale.order", order["id"], state="sale", date_order=now,
                            locked=lock or bool(order.get("locked")))

    def cancel(self, ids: list[int], *, show_wizard: bool) -> Any:
        """Odoo's ``action_cancel``: refused on a locked order; the wizard's action for a non-draft one
        unless skipped."""
        orders = [self.records["sale.order"][i] for i in self.existing("sale.order", ids)]
        if any(order.get("locked") for order in orders):
            raise user_error("You cannot cancel a locked order. Please unlock it first.")
        if show_wizard and any(order.get("state") != "draft" for order in orders):
            if len(orders) != 1:
                raise ValueError(f"Expected singleton: sale.order{tuple(ids)}")
            return {
                "name": "Cancel Sales Order",
                "view_mode": "form",
                "res_model": "sale.order.cancel",
                "view_id": 1,
                "type": "ir.actions.act_window",
                "context": {"default_order_id": orders[0]["id"], "mark_so_as_canceled": True},
                "target": "new",
            }
        for order in orders:
            # Done deliveries and posted invoices stay as they are, as in Odoo.
            self.update_row("sale.order", order["id"], state="cancel")
        return True

    def _recompute(self, model: str, row: dict[str, Any]) -> None:
        if model == "sale.order.line":
            row.setdefault("sequence", 10)
            product = self.records["product.product"][row["product_id"]]
            if row.get("price_unit") is None:
                row["price_unit"] = product.get("list_price") or 0.0
            if row.get("product_uom_qty") is None:
                row["product_uom_qty"] = 1.0
            if not row.get("name"):
                row["name"] = product.get("name")
            row["price_subtotal"] = round(row["product_uom_qty"] * row["price_unit"], 2)
        if model == "sale.order":
            pricelist = self.records["product.pricelist"].get(row.get("pricelist_id") or 0)
            row["currency_id"] = pricelist["currency_id"] if pricelist else self.currency_id(COMPANY_CURRENCY)
            lines = [self.records["sale.order.line"][i] for i in row.get("order_line") or []]
            total = round(sum(line["price_subtotal"] for line in lines), 2)
            row["amount_untaxed"] = total
            row["amount_total"] = total  # the sandbox has no taxes


def _line_commands(value: Any) -> list[tuple[int, int, dict[str, Any]]]:
    """The one2many commands of a value: create ``[0, 0, vals]``, update ``[1, id, vals]``, delete ``[2, id, 0]``
    and clear ``[5, 0, 0]`` (Odoo's ``Command.create/update/delete/clear``); others are outside the sandbox."""
    if not isinstance(value, list):
        raise validation_error("order_line must be a list of commands")
    commands = []
    for command in value:
        if not (isinstance(command, list) and len(command) == 3 and command[0] in (0, 1, 2, 5)):
            raise validation_error(f"unsupported one2many command {command!r} "
                                   "(the sandbox takes commands 0, 1, 2 and 5)")
        code, record_id, vals = command
        if code in (1, 2) and (isinstance(record_id, bool) or not isinstance(record_id, int)):
            raise validation_error(f"one2many command {command!r} needs a record id")
        if code in (0, 1) and not isinstance(vals, dict):
            raise validation_error(f"one2many command {command!r} needs values")
        commands.append((code, record_id if code in (1, 2) else 0, vals if code in (0, 1) else {}))
    return commands


def _parse_datetime(value: Any, bad: OdooFault) -> str:
    if not isinstance(value, str):
        raise bad
    for fmt in (DATETIME_FORMAT, "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).strftime(DATETIME_FORMAT)
        except ValueError:
            continue
    raise bad
