"""A sandbox ERP that speaks Odoo's External JSON-2 API (Odoo 19) on loopback.

It serves ``POST /json/2/<model>/<method>`` for the models and methods the hub's ERP connector
uses (partners, products, sale orders), with Odoo's headers, status codes and error objects
(``name``, ``message``, ``arguments``, ``context``, ``debug``). Sale orders follow Odoo 17+'s
workflow: ``state`` draft / sent / sale / cancel and the ``locked`` flag; ``write`` takes the
one2many commands ``[0, 0, vals]``, ``[1, id, vals]``, ``[2, id, 0]`` and ``[5, 0, 0]`` for
``order_line`` under Odoo's rules (no line removed from a confirmed order, no protected line field
changed on a locked one); ``action_confirm``, ``action_cancel`` (its wizard unless the context says
``disable_cancel_warning``; refused on a locked order), ``action_draft``, ``action_lock`` and
``action_unlock`` behave as in Odoo. A sale order's ``currency_id`` follows its ``pricelist_id``
(``res.currency`` USD, EUR, GBP, CAD; pricelists in USD and EUR), else the company's USD. State
lives in memory behind one lock and, when ``state_path`` is set, in a JSON file so the demo's data
survives a restart.

Faults for tests: ``inject_failures`` (an HTTP error on the next calls), ``inject_slow_commit`` (a
write held past the client's timeout, committed when released), ``inject_drop_after_commit`` (a
write committed, then the connection cut without an answer) and ``unique_sale_order_refs`` (the
custom module's UNIQUE(origin, client_order_ref), see docs/operations.md). Normal calls keep the
Odoo wire contract.

    with SandboxErp(api_key="demo-key") as erp:
        erp.seed_products(DEMO_PRODUCTS)
        ...  # point OdooConfig(base_url=erp.base_url, database=erp.database, api_key="demo-key") at it

Run it on its own with ``python -m sandbox.erp_server --port 8069 --state var/sandbox/erp.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hmac
import inspect
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._server import BackgroundServer

# (default_code, name, list_price, barcode): a small catalog the demo partners' orders refer to.
DEMO_PRODUCTS: list[tuple[str, str, float, str | None]] = [
    ("WID-100", "Widget, blue", 4.50, "00012345678905"),
    ("WID-200", "Widget, red", 4.75, "00012345678912"),
    ("GAD-300", "Gadget, large", 19.90, "00012345678929"),
    ("GIZ-400", "Gizmo", 7.25, "00012345678936"),
    ("BOX-500", "Shipping box, 10 pack", 12.00, None),
]

# (ISO code, symbol): the sandbox company's currencies; USD is the company currency.
_CURRENCIES = [("USD", "$"), ("EUR", "€"), ("GBP", "£"), ("CAD", "$")]
_COMPANY_CURRENCY = "USD"
# The message of the custom module's constraint (docs/operations.md); the hub's connector looks for its name.
UNIQUE_REF_MESSAGE = (
    "orderhub_ref_unique: a sale order with this customer reference already exists for this trading partner"
)

_ODOO_VERSION = {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


# -- the data model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    kind: str  # char | text | integer | float | bool | selection | datetime | many2one | one2many
    required: bool = False
    readonly: bool = False  # computed by the server: values sent for it are ignored, as Odoo does
    comodel: str | None = None
    choices: tuple[str, ...] = ()


def _char(**kw: Any) -> _Field:
    return _Field("char", **kw)


_MODELS: dict[str, dict[str, _Field]] = {
    "res.partner": {
        "name": _char(required=True),
        "ref": _char(),
        "street": _char(),
        "street2": _char(),
        "city": _char(),
        "zip": _char(),
        "email": _char(),
        "phone": _char(),
        "comment": _Field("text"),
        "is_company": _Field("bool"),
        "active": _Field("bool"),
        "type": _Field("selection", choices=("contact", "invoice", "delivery", "other")),
        "parent_id": _Field("many2one", comodel="res.partner"),
    },
    "product.product": {
        "name": _char(required=True),
        "default_code": _char(),
        "barcode": _char(),
        "list_price": _Field("float"),
        "active": _Field("bool"),
    },
    "res.currency": {
        "name": _char(required=True),
        "symbol": _char(),
        "active": _Field("bool"),
    },
    "product.pricelist": {
        "name": _char(required=True),
        "currency_id": _Field("many2one", required=True, comodel="res.currency"),
        "sequence": _Field("integer"),
        "active": _Field("bool"),
    },
    "sale.order": {
        "name": _char(),
        "client_order_ref": _char(),
        "origin": _char(),
        "note": _Field("text"),
        "partner_id": _Field("many2one", required=True, comodel="res.partner"),
        "partner_invoice_id": _Field("many2one", comodel="res.partner"),
        "partner_shipping_id": _Field("many2one", comodel="res.partner"),
        "date_order": _Field("datetime"),
        "pricelist_id": _Field("many2one", comodel="product.pricelist"),
        # Odoo: related to the pricelist's currency, else the company's (USD here); never written directly.
        "currency_id": _Field("many2one", readonly=True, comodel="res.currency"),
        "state": _Field("selection", choices=("draft", "sent", "sale", "cancel")),
        "locked": _Field("bool"),
        "order_line": _Field("one2many", comodel="sale.order.line"),
        "amount_untaxed": _Field("float", readonly=True),
        "amount_total": _Field("float", readonly=True),
        "create_date": _Field("datetime", readonly=True),
    },
    "sale.order.line": {
        "order_id": _Field("many2one", required=True, comodel="sale.order"),
        "product_id": _Field("many2one", required=True, comodel="product.product"),
        "sequence": _Field("integer"),
        "display_type": _Field("selection", choices=("line_section", "line_note")),
        "name": _Field("text"),
        "product_uom_qty": _Field("float"),
        "price_unit": _Field("float"),
        "price_subtotal": _Field("float", readonly=True),
        # Computed in Odoo from done deliveries and posted invoices; the sandbox's helpers set them.
        "qty_delivered": _Field("float", readonly=True),
        "qty_invoiced": _Field("float", readonly=True),
    },
}

_METHODS: dict[str, frozenset[str]] = {
    "res.partner": frozenset({"search_read", "search", "search_count", "read", "create", "write"}),
    "product.product": frozenset({"search_read", "search", "search_count", "read", "create"}),
    "sale.order": frozenset({
        "search_read", "search", "search_count", "read", "create", "write", "unlink",
        "action_confirm", "action_cancel", "action_draft", "action_lock", "action_unlock",
    }),
    "sale.order.line": frozenset({"search_read", "read"}),
    "res.currency": frozenset({"search_read", "search", "search_count", "read"}),
    "product.pricelist": frozenset({"search_read", "search", "search_count", "read", "create", "write"}),
}
# @api.model methods: Odoo refuses them when ``ids`` are given.
_MODEL_METHODS = frozenset({"search_read", "search", "search_count", "create"})
_MUTATING = frozenset(
    {"create", "write", "unlink", "action_confirm", "action_cancel", "action_draft", "action_lock", "action_unlock"}
)
# sale.order.line fields Odoo refuses to change on a locked order, with the labels its message lists.
_PROTECTED_LINE_FIELDS = {
    "product_id": "Product", "name": "Description", "price_unit": "Unit Price", "product_uom_qty": "Quantity",
}


class OdooFault(Exception):
    """An error answered with Odoo's JSON-2 error object and an HTTP status."""

    def __init__(self, status: int, name: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers or {}

    def response(self, context: dict[str, Any] | None = None) -> JSONResponse:
        """The HTTP answer Odoo gives for this error (no traceback in ``debug``: there is none to show)."""
        body = {
            "name": self.name,
            "message": self.message,
            "arguments": [self.message, self.status] if self.name.startswith("werkzeug.") else [self.message],
            "context": context or {},
            "debug": "",
        }
        return JSONResponse(
            body, status_code=self.status, headers=self.headers, media_type="application/json; charset=utf-8"
        )


def _not_found(message: str) -> OdooFault:
    return OdooFault(404, "werkzeug.exceptions.NotFound", message)


def _unprocessable(message: str) -> OdooFault:
    return OdooFault(422, "werkzeug.exceptions.UnprocessableEntity", message)


def _validation(message: str) -> OdooFault:
    return OdooFault(422, "odoo.exceptions.ValidationError", message)


def _user_error(message: str) -> OdooFault:
    return OdooFault(422, "odoo.exceptions.UserError", message)


def _missing(model: str, ids: Iterable[int]) -> OdooFault:
    listed = ", ".join(str(i) for i in ids)
    return OdooFault(
        404,
        "odoo.exceptions.MissingError",
        f"Record does not exist or has been deleted.\n(Record: {model}({listed},), User: 2)",
    )


# -- the database --------------------------------------------------------------------------------


class _Database:
    """All records, the id counters and the sale order sequence; callers hold ``lock``."""

    def __init__(self, state_path: Path | None) -> None:
        self.lock = threading.RLock()
        self.state_path = state_path
        self.records: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in _MODELS}
        self.next_id: dict[str, int] = {model: 1 for model in _MODELS}
        self.sale_order_sequence = 0
        # Odoo's "Lock Confirmed Sales" setting: confirmed orders are locked at once.
        self.lock_confirmed_sales = False
        # What a small custom Odoo module adds (docs/operations.md): UNIQUE(origin, client_order_ref)
        # on sale.order, so a second create for the same trading partner's reference is refused.
        self.unique_sale_order_refs = False
        if state_path is not None and state_path.exists():
            self._load(state_path)
        if not self.records["res.currency"]:
            self._seed_currencies()

    def _seed_currencies(self) -> None:
        """The company currency (USD), a few others, and a pricelist in USD and in EUR (none in GBP or CAD)."""
        ids = {code: self.create("res.currency", {"name": code, "symbol": symbol, "active": True})
               for code, symbol in _CURRENCIES}
        self.create("product.pricelist", {"name": "Public Pricelist", "currency_id": ids["USD"], "sequence": 10})
        self.create("product.pricelist", {"name": "EUR Pricelist", "currency_id": ids["EUR"], "sequence": 20})

    def currency_id(self, code: str) -> int | None:
        """The id of the ``res.currency`` named ``code``."""
        return next((r["id"] for r in self.records["res.currency"].values() if r.get("name") == code), None)

    # persistence

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        for model in _MODELS:
            self.records[model] = {int(k): v for k, v in data.get("records", {}).get(model, {}).items()}
            self.next_id[model] = int(data.get("next_id", {}).get(model, 1))
        self.sale_order_sequence = int(data.get("sale_order_sequence", 0))

    def save(self) -> None:
        """Write the state file atomically (a crash leaves the previous state, never half of one)."""
        if self.state_path is None:
            return
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

    # ORM-like primitives

    def existing(self, model: str, ids: Iterable[int]) -> list[int]:
        ids = list(ids)
        missing = [i for i in ids if i not in self.records[model]]
        if missing:
            raise _missing(model, missing)
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
        matches = _compile_domain(model, domain if domain is not None else [])
        # Like Odoo, archived records are left out unless the domain or the context asks for them.
        hide_archived = active_test and "active" in _MODELS[model] and not _mentions(domain, "active")
        rows = [
            row
            for row in self.records[model].values()
            if matches(row, self) and not (hide_archived and row.get("active") is False)
        ]
        rows = _sorted(model, rows, order)
        if (
            not isinstance(offset, int)
            or offset < 0
            or (limit is not None and (not isinstance(limit, int) or limit < 0))
        ):
            raise _unprocessable("offset and limit must be non-negative integers")
        end = None if limit is None else offset + limit
        return [row["id"] for row in rows[offset:end]]

    def read(self, model: str, ids: list[int], fields: list[str] | None) -> list[dict[str, Any]]:
        spec = _MODELS[model]
        if fields is None or fields == []:
            fields = list(spec)
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _unprocessable("fields must be a list of field names")
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

    def _export(self, field: _Field, value: Any) -> Any:
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
                    raise _user_error(
                        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
                    )
        for record_id in ids:
            row = self.records[model].pop(record_id)
            for line_id in row.get("order_line") or []:
                self.records["sale.order.line"].pop(line_id, None)

    def _check_unique(self, model: str, row: dict[str, Any]) -> None:
        """The custom module's UNIQUE(origin, client_order_ref), answered as Odoo answers an SQL constraint."""
        if model != "sale.order" or not self.unique_sale_order_refs:
            return
        key = (row.get("origin"), row.get("client_order_ref"))
        if None in key or "" in key:
            return  # NULLs never collide in PostgreSQL
        for other in self.records[model].values():
            if other["id"] != row["id"] and (other.get("origin"), other.get("client_order_ref")) == key:
                # odoo.service.model turns the IntegrityError into this ValidationError.
                raise _validation(f"The operation cannot be completed: {UNIQUE_REF_MESSAGE}")

    # value checking

    def _assign(self, model: str, row: dict[str, Any], vals: Any, *, creating: bool) -> list[dict[str, Any]] | None:
        """Check and copy ``vals`` into ``row``; one2many commands are returned for after the insert."""
        if not isinstance(vals, dict):
            raise _unprocessable(f"values for {model} must be an object")
        spec = _MODELS[model]
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
                raise _validation(f"Missing required fields on {model}: {', '.join(missing)}")
        return lines

    def _import(self, model: str, name: str, field: _Field, value: Any) -> Any:
        if field.kind == "bool":
            return bool(value)
        if value is False or value is None:
            if field.required:
                raise _validation(f"Missing required value for {model}.{name}")
            return None
        bad = _validation(f"Wrong value for {model}.{name}: {value!r}")
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
                raise _validation(
                    f"The operation cannot be completed: {model}.{name} refers to a record that does not exist "
                    f"({field.comodel} {value})"
                )
            return value
        raise bad  # pragma: no cover - every kind is handled above

    def _defaults(self, model: str, row: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime(_DATETIME_FORMAT)
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
                raise _missing("sale.order.line", [line_id])
            if code in (2, 5) and state == "sale" and (line_ids if code == 5 else [line_id]):
                raise _user_error(
                    "Once a sales order is confirmed, you can't remove one of its lines (we need to track if "
                    "something gets invoiced or delivered).\nSet the quantity to 0 instead."
                )
            if code in (0, 1) and locked:
                protected = [label for name, label in _PROTECTED_LINE_FIELDS.items() if name in vals]
                if protected:
                    raise _user_error(
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
            raise _user_error("Some orders are not in a state requiring confirmation.")
        now = dt.datetime.now(dt.UTC).strftime(_DATETIME_FORMAT)
        for order in orders:
            # Odoo replaces the quotation date with the confirmation time.
            order.update(state="sale", date_order=now, locked=lock or bool(order.get("locked")))

    def cancel(self, ids: list[int], *, show_wizard: bool) -> Any:
        """Odoo's ``action_cancel``: refused on a locked order; the wizard's action for a non-draft one unless skipped."""
        orders = [self.records["sale.order"][i] for i in self.existing("sale.order", ids)]
        if any(order.get("locked") for order in orders):
            raise _user_error("You cannot cancel a locked order. Please unlock it first.")
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
            order["state"] = "cancel"
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
            row["currency_id"] = pricelist["currency_id"] if pricelist else self.currency_id(_COMPANY_CURRENCY)
            lines = [self.records["sale.order.line"][i] for i in row.get("order_line") or []]
            total = round(sum(line["price_subtotal"] for line in lines), 2)
            row["amount_untaxed"] = total
            row["amount_total"] = total  # the sandbox has no taxes


def _line_commands(value: Any) -> list[tuple[int, int, dict[str, Any]]]:
    """The one2many commands of a value: create ``[0, 0, vals]``, update ``[1, id, vals]``, delete ``[2, id, 0]``
    and clear ``[5, 0, 0]`` (Odoo's ``Command.create/update/delete/clear``); others are outside the sandbox."""
    if not isinstance(value, list):
        raise _validation("order_line must be a list of commands")
    commands = []
    for command in value:
        if not (isinstance(command, list) and len(command) == 3 and command[0] in (0, 1, 2, 5)):
            raise _validation(f"unsupported one2many command {command!r} (the sandbox takes commands 0, 1, 2 and 5)")
        code, record_id, vals = command
        if code in (1, 2) and (isinstance(record_id, bool) or not isinstance(record_id, int)):
            raise _validation(f"one2many command {command!r} needs a record id")
        if code in (0, 1) and not isinstance(vals, dict):
            raise _validation(f"one2many command {command!r} needs values")
        commands.append((code, record_id if code in (1, 2) else 0, vals if code in (0, 1) else {}))
    return commands


def _parse_datetime(value: Any, bad: OdooFault) -> str:
    if not isinstance(value, str):
        raise bad
    for fmt in (_DATETIME_FORMAT, "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).strftime(_DATETIME_FORMAT)
        except ValueError:
            continue
    raise bad


# -- domains and ordering ------------------------------------------------------------------------

_Predicate = Callable[[dict[str, Any], _Database], bool]
_OPERATORS = frozenset(
    {"=", "!=", "<>", "in", "not in", "like", "not like", "ilike", "not ilike", "=like", "=ilike", "<", "<=", ">", ">="}
)


def _mentions(domain: Any, field: str) -> bool:
    return isinstance(domain, list) and any(isinstance(t, list) and t and t[0] == field for t in domain)


def _compile_domain(model: str, domain: Any) -> _Predicate:
    """A predicate for an Odoo domain: prefix ``&``, ``|``, ``!`` and an implicit AND between terms."""
    if not isinstance(domain, list):
        raise _unprocessable("domain must be a list")
    predicates = []
    position = 0
    while position < len(domain):
        predicate, position = _parse_domain(model, domain, position)
        predicates.append(predicate)
    return lambda row, db: all(p(row, db) for p in predicates)


def _parse_domain(model: str, domain: list[Any], position: int) -> tuple[_Predicate, int]:
    token = domain[position]
    if token == "!":
        inner, position = _parse_domain(model, domain, position + 1)
        return (lambda row, db: not inner(row, db)), position
    if token in ("&", "|"):
        if position + 1 >= len(domain):
            raise _unprocessable(f"domain operator {token!r} lacks operands")
        left, position = _parse_domain(model, domain, position + 1)
        if position >= len(domain):
            raise _unprocessable(f"domain operator {token!r} lacks operands")
        right, position = _parse_domain(model, domain, position)
        if token == "&":
            return (lambda row, db: left(row, db) and right(row, db)), position
        return (lambda row, db: left(row, db) or right(row, db)), position
    return _term(model, token), position + 1


def _term(model: str, term: Any) -> _Predicate:
    if not (isinstance(term, list) and len(term) == 3 and isinstance(term[0], str)):
        raise _unprocessable(f"invalid domain term {term!r}")
    name, operator, value = term
    field = _MODELS[model].get(name)
    if field is None and name != "id":
        raise OdooFault(422, "builtins.ValueError", f"Invalid field {model}.{name} in condition {term!r}")
    if operator not in _OPERATORS:
        raise _unprocessable(f"invalid operator {operator!r} in condition {term!r}")
    if operator in ("in", "not in"):
        if not isinstance(value, list):
            raise _unprocessable(f"{operator!r} needs a list in condition {term!r}")
        wanted = [None if v is False else v for v in value]
        inside = operator == "in"
        return lambda row, db: (row.get(name) in wanted) == inside
    if operator in ("=", "!=", "<>"):
        expected = None if value is False else value
        equal = operator == "="

        def compare(row: dict[str, Any], db: _Database) -> bool:
            actual = row.get(name)
            if expected is None:
                return (actual in (None, "", False)) == equal
            return (actual == expected) == equal

        return compare
    if operator.endswith("like"):
        if not isinstance(value, str):
            raise _unprocessable(f"{operator!r} needs a string in condition {term!r}")
        exact = operator.startswith("=")
        regex = _like_regex(value if exact else f"%{value}%", ignore_case="ilike" in operator)
        negate = operator.startswith("not")

        def like(row: dict[str, Any], db: _Database) -> bool:
            actual = row.get(name)
            if field is not None and field.kind == "many2one":
                actual = db.display_name(field.comodel or "", actual) if actual else None
            if actual is None:
                return negate
            return bool(regex.match(str(actual))) != negate

        return like

    def order_compare(row: dict[str, Any], db: _Database) -> bool:
        actual = row.get(name)
        if actual is None or value is None or value is False:
            return False
        try:
            return {"<": actual < value, "<=": actual <= value, ">": actual > value, ">=": actual >= value}[operator]
        except TypeError:
            return False

    return order_compare


def _like_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        position += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _sorted(model: str, rows: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    if order is None or order is False or order == "":
        order = "id"
    if not isinstance(order, str):
        raise _unprocessable("order must be a string such as 'id desc'")
    keys = []
    for clause in order.split(","):
        parts = clause.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise _unprocessable(f"invalid order {order!r}")
        if parts[0] != "id" and parts[0] not in _MODELS[model]:
            raise OdooFault(422, "builtins.ValueError", f"Invalid field {parts[0]!r} on model {model!r}")
        keys.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))
    # Stable sorts from the last key to the first give a multi-key order; empty values sort last.
    rows = sorted(rows, key=lambda r: r["id"])
    for name, descending in reversed(keys):
        present = [r for r in rows if r.get(name) is not None]
        empty = [r for r in rows if r.get(name) is None]
        rows = sorted(present, key=lambda r: r[name], reverse=descending) + empty
    return rows


# -- the JSON-2 methods --------------------------------------------------------------------------


class _Methods:
    """The public ORM methods of one model, with the signatures Odoo 19 gives them."""

    def __init__(self, db: _Database, model: str, ids: list[int], context: dict[str, Any]) -> None:
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
        return self._db.read(self._model, ids, fields)

    def search(self, domain: Any, offset: int = 0, limit: int | None = None, order: str | None = None) -> list[int]:
        return self._db.search(
            self._model, domain, offset=offset, limit=limit, order=order, active_test=self._active_test
        )

    def search_count(self, domain: Any, limit: int | None = None) -> int:
        count = len(self._db.search(self._model, domain, active_test=self._active_test))
        return count if limit is None else min(count, limit)

    def read(self, fields: list[str] | None = None, load: str | None = "_classic_read") -> list[dict[str, Any]]:
        return self._db.read(self._model, self._ids, fields)

    def create(self, vals_list: Any) -> list[int]:
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list):
            raise _unprocessable("vals_list must be a list of objects")
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
            row = self._db.records[self._model][record_id]
            if row.get("state") in ("cancel", "sent"):
                row["state"] = "draft"
        return True

    def action_lock(self) -> bool:
        for record_id in self._db.existing(self._model, self._ids):
            self._db.records[self._model][record_id]["locked"] = True
        return True

    def action_unlock(self) -> bool:
        for record_id in self._db.existing(self._model, self._ids):
            self._db.records[self._model][record_id]["locked"] = False
        return True


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass
class _InjectedFault:
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


class _Json2Api:
    """The Starlette endpoints: authentication, dispatch and Odoo's error answers."""

    def __init__(self, db: _Database, *, api_key: str, database: str) -> None:
        self.db = db
        self.api_key = api_key
        self.database = database
        self.faults: deque[_InjectedFault] = deque()
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
                raise _unprocessable("context must be an object")
            write_fault = self._write_fault(model, method)
            if write_fault is not None:
                return await self._faulted_write(write_fault, request, model, method, ids, context, body)
            result = self._dispatch(model, method, ids, context, body)
        except OdooFault as fault:
            return fault.response(context if isinstance(context, dict) else {})
        except Exception as exc:  # noqa: BLE001 - Odoo answers any other error as a 500 error object
            fault = OdooFault(500, f"{type(exc).__module__}.{type(exc).__qualname__}", "internal server error")
            return fault.response(context if isinstance(context, dict) else {})
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
        return _not_found("Did you mean POST /json/2/<model>/<method>?").response()

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
        raw = await request.body()
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
            raise _not_found(f"database {database!r} not found")
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise OdooFault(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")

    def _dispatch(self, model: str, method: str, ids: Any, context: dict[str, Any], params: dict[str, Any]) -> Any:
        if model not in _METHODS:
            raise _not_found(f"the model {model!r} does not exist")
        if method not in _METHODS[model]:
            raise _not_found(f"The method '{model}.{method}' does not exist")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise _unprocessable("ids must be a list of integers")
        if method in _MODEL_METHODS and ids:
            raise _unprocessable(f"cannot call {model}.{method} with ids")
        func = getattr(_Methods(self.db, model, ids, context), method)
        try:
            inspect.signature(func).bind(**params)
        except TypeError as exc:
            raise _unprocessable(f"{method}() {exc.args[0]}") from exc
        with self.db.lock:
            self.calls.append((model, method))
            if method not in _MUTATING:
                return func(**params)
            # Like Odoo's per-call transaction: a failing call leaves no partial change behind.
            snapshot = _copy_state(self.db)
            try:
                result = func(**params)
            except BaseException:
                _restore_state(self.db, snapshot)
                raise
            self.db.save()
            return result


def _copy_state(db: _Database) -> tuple[Any, ...]:
    return (
        {model: {k: dict(v) for k, v in rows.items()} for model, rows in db.records.items()},
        dict(db.next_id),
        db.sale_order_sequence,
    )


def _restore_state(db: _Database, snapshot: tuple[Any, ...]) -> None:
    db.records, db.next_id, db.sale_order_sequence = snapshot


def create_app(api: _Json2Api) -> Starlette:
    """The Starlette application serving the JSON-2 contract for ``api``."""
    return Starlette(
        routes=[
            Route("/json/2/{model}/{method}", api.rpc, methods=["POST"]),
            Route("/json/2", api.not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/json/2/{subpath:path}", api.not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/web/version", api.version, methods=["GET"]),
        ]
    )


class _ConnectionDropper:
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


class SandboxErp:
    """A sandbox Odoo on 127.0.0.1, served by uvicorn in a daemon thread; a context manager."""

    def __init__(
        self,
        *,
        api_key: str,
        database: str = "sandbox",
        state_path: Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        lock_confirmed_sales: bool = False,
        unique_sale_order_refs: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("the sandbox ERP needs an API key")
        self.database = database
        self.host = host
        self._db = _Database(state_path)
        self._db.lock_confirmed_sales = lock_confirmed_sales
        self._db.unique_sale_order_refs = unique_sale_order_refs
        self._api = _Json2Api(self._db, api_key=api_key, database=database)
        self.app = create_app(self._api)
        self._runner = BackgroundServer(_ConnectionDropper(self.app), host=host, port=port, name="sandbox ERP")

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started (the port is chosen at start when 0 was given)."""
        return self._runner.base_url

    def start(self) -> SandboxErp:
        """Serve until :meth:`stop`; returns once the server accepts connections."""
        self._runner.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (the state stays)."""
        self._runner.stop()

    def __enter__(self) -> SandboxErp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- helpers for tests and the demo (they bypass the API and its checks) --

    def seed_products(self, products: Iterable[tuple[str, str, float, str | None]]) -> list[int]:
        """Add catalog products ``(default_code, name, list_price, barcode)``; existing codes are kept."""
        ids = []
        with self._db.lock:
            known = {row.get("default_code"): row["id"] for row in self._db.records["product.product"].values()}
            for default_code, name, list_price, barcode in products:
                if default_code in known:
                    ids.append(known[default_code])
                    continue
                vals = {"default_code": default_code, "name": name, "list_price": float(list_price)}
                if barcode:
                    vals["barcode"] = barcode
                ids.append(self._db.create("product.product", vals))
            self._db.save()
        return ids

    def delete_sale_order(self, client_order_ref: str) -> int:
        """Delete every sale order with this reference, whatever its state (as an ERP user might); returns how many."""
        with self._db.lock:
            ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
            if ids:
                self._db.unlink("sale.order", ids, check_state=False)
                self._db.save()
        return len(ids)

    def confirm_sale_order(self, client_order_ref: str, *, lock: bool = False) -> str:
        """Confirm the sale order with this reference as a salesperson would (Odoo's ``action_confirm``); its name."""
        with self._db.lock:
            ids = self._sale_order_ids(client_order_ref)
            self._db.confirm(ids, lock=lock or self._db.lock_confirmed_sales)
            self._db.save()
            return self._db.records["sale.order"][ids[0]]["name"]

    def deliver_and_invoice(self, client_order_ref: str, *, delivered: bool = True, invoiced: bool = True) -> None:
        """Mark every line of a confirmed sale order delivered and/or invoiced in full (a done transfer, a posted invoice)."""
        with self._db.lock:
            for order_id in self._sale_order_ids(client_order_ref):
                order = self._db.records["sale.order"][order_id]
                if order.get("state") != "sale":
                    raise ValueError(f"sale order {order['name']} is not confirmed")
                for line_id in order.get("order_line") or []:
                    line = self._db.records["sale.order.line"][line_id]
                    if delivered:
                        line["qty_delivered"] = line["product_uom_qty"]
                    if invoiced:
                        line["qty_invoiced"] = line["product_uom_qty"]
            self._db.save()

    def sale_order_lines(self, client_order_ref: str) -> list[dict[str, Any]]:
        """The lines of the (oldest) sale order with this reference, in Odoo's line order."""
        with self._db.lock:
            order = self._db.records["sale.order"][self._sale_order_ids(client_order_ref)[0]]
            ids = self._db.search("sale.order.line", [["order_id", "=", order["id"]]], order="sequence, id")
            return self._db.read("sale.order.line", ids, None)

    def _sale_order_ids(self, client_order_ref: str) -> list[int]:
        ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
        if not ids:
            raise KeyError(f"no sale order with reference {client_order_ref!r}")
        return ids

    def sale_orders(self) -> list[dict[str, Any]]:
        """Every sale order as `search_read` returns it, oldest first."""
        with self._db.lock:
            return self._db.read("sale.order", self._db.search("sale.order", []), None)

    def records(self, model: str) -> list[dict[str, Any]]:
        """Every record of ``model`` as `read` returns it."""
        with self._db.lock:
            return self._db.read(model, self._db.search(model, []), None)

    def inject_failures(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` API calls with ``status`` (e.g. 429 or 503) to exercise retries."""
        with self._db.lock:
            self._api.faults.extend(_InjectedFault(status, retry_after) for _ in range(times))

    def inject_slow_commit(
        self, *, model: str = "sale.order", method: str = "create", hold_seconds: float = 30.0
    ) -> WriteFault:
        """Hold the next ``model.method`` call until ``release()`` (at most ``hold_seconds``), then commit it."""
        return self._inject_write_fault("slow_commit", model, method, hold_seconds)

    def inject_drop_after_commit(self, *, model: str = "sale.order", method: str = "create") -> WriteFault:
        """Commit the next ``model.method`` call, then drop the connection without answering."""
        return self._inject_write_fault("drop_after_commit", model, method, 0.0)

    def _inject_write_fault(self, kind: str, model: str, method: str, hold_seconds: float) -> WriteFault:
        if model not in _METHODS or method not in _METHODS[model] or method not in _MUTATING:
            raise ValueError(f"{model}.{method} is not a write the sandbox serves")
        fault = WriteFault(kind, model, method, hold_seconds)
        with self._db.lock:
            self._api.write_faults.append(fault)
        return fault

    def enforce_unique_sale_order_refs(self, enabled: bool = True) -> None:
        """Switch the custom module's UNIQUE(origin, client_order_ref) on sale.order on or off."""
        with self._db.lock:
            self._db.unique_sale_order_refs = enabled

    def sale_orders_by_ref(self, client_order_ref: str) -> list[dict[str, Any]]:
        """Every sale order carrying this customer reference (any trading partner), oldest first."""
        with self._db.lock:
            ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
            return self._db.read("sale.order", ids, None)

    def archive_pricelists(self, currency: str) -> int:
        """Archive every pricelist in ``currency`` (as an ERP admin might); returns how many."""
        with self._db.lock:
            currency_id = self._db.currency_id(currency)
            ids = [r["id"] for r in self._db.records["product.pricelist"].values()
                   if r.get("currency_id") == currency_id and r.get("active") is not False]
            for pricelist_id in ids:
                self._db.records["product.pricelist"][pricelist_id]["active"] = False
            self._db.save()
        return len(ids)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """The (model, method) of every authenticated API call so far, oldest first."""
        with self._db.lock:
            return list(self._api.calls)


def main(argv: list[str] | None = None) -> None:
    """Serve a sandbox ERP in the foreground (for the demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--database", default="sandbox")
    parser.add_argument("--state", type=Path, default=None, help="JSON file that keeps the data across restarts")
    parser.add_argument("--unique-refs", action="store_true",
                        help="model the custom module's UNIQUE(origin, client_order_ref) on sale.order")
    args = parser.parse_args(argv)
    api_key = os.environ.get("HUB_SANDBOX_ERP_API_KEY")
    if not api_key:
        parser.error("set HUB_SANDBOX_ERP_API_KEY to the API key clients must send")
    erp = SandboxErp(api_key=api_key, database=args.database, state_path=args.state, port=args.port, host=args.host,
                     unique_sale_order_refs=args.unique_refs)
    erp.seed_products(DEMO_PRODUCTS)
    with erp:
        print(f"sandbox ERP (Odoo JSON-2) on {erp.base_url}, database {erp.database!r}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
