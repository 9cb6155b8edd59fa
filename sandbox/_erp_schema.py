"""The sandbox ERP's data model: Odoo's models and fields it serves, its methods, and Odoo's error answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

# (ISO code, symbol): the sandbox company's currencies; USD is the company currency.
CURRENCIES = [("USD", "$"), ("EUR", "€"), ("GBP", "£"), ("CAD", "$")]
COMPANY_CURRENCY = "USD"
# The message of the custom module's constraint (docs/operations.md); the hub's connector looks for its name.
UNIQUE_REF_MESSAGE = (
    "orderhub_ref_unique: a sale order with this customer reference already exists for this trading partner"
)
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Odoo's limits on one request: werkzeug's max_content_length (odoo.http.DEFAULT_MAX_CONTENT_LENGTH,
# 128 MiB), and a ceiling on records per call, which Odoo leaves to the worker's memory and
# limit_time_real; the sandbox refuses more than this so that clients keep their batches sensible.
MAX_BODY_BYTES = 128 * 1024 * 1024
MAX_RECORDS_PER_CALL = 500


@dataclass(frozen=True)
class FieldSpec:
    """One field of a model: its Odoo type and the rules the sandbox applies to it."""

    kind: str  # char | text | integer | float | bool | selection | datetime | many2one | one2many | many2many
    required: bool = False
    readonly: bool = False  # computed by the server: values sent for it are ignored, as Odoo does
    comodel: str | None = None
    choices: tuple[str, ...] = ()


def char_field(**kw: Any) -> FieldSpec:
    """A ``char`` field."""
    return FieldSpec("char", **kw)


MODELS: dict[str, dict[str, FieldSpec]] = {
    "res.partner": {
        "name": char_field(required=True),
        "ref": char_field(),
        "street": char_field(),
        "street2": char_field(),
        "city": char_field(),
        "zip": char_field(),
        "email": char_field(),
        "phone": char_field(),
        "comment": FieldSpec("text"),
        "is_company": FieldSpec("bool"),
        "active": FieldSpec("bool"),
        "type": FieldSpec("selection", choices=("contact", "invoice", "delivery", "other")),
        "parent_id": FieldSpec("many2one", comodel="res.partner"),
        # Odoo's account module: the customer's credit limit, and what it owes (computed, "Total Receivable").
        "credit_limit": FieldSpec("float"),
        "credit": FieldSpec("float", readonly=True),
    },
    "product.product": {
        "name": char_field(required=True),
        "default_code": char_field(),
        "barcode": char_field(),
        "list_price": FieldSpec("float"),
        "active": FieldSpec("bool"),
    },
    "res.currency": {
        "name": char_field(required=True),
        "symbol": char_field(),
        "active": FieldSpec("bool"),
    },
    "product.pricelist": {
        "name": char_field(required=True),
        "currency_id": FieldSpec("many2one", required=True, comodel="res.currency"),
        "sequence": FieldSpec("integer"),
        "active": FieldSpec("bool"),
    },
    # Packaging quantities (Odoo's product.packaging: a box of 6) and fixed pricelist prices per product.
    "product.packaging": {
        "name": char_field(required=True),
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "qty": FieldSpec("float"),
    },
    "product.pricelist.item": {
        "pricelist_id": FieldSpec("many2one", required=True, comodel="product.pricelist"),
        "product_id": FieldSpec("many2one", comodel="product.product"),
        "applied_on": FieldSpec("selection", choices=("3_global", "2_product_category", "1_product",
                                                      "0_product_variant")),
        "compute_price": FieldSpec("selection", choices=("fixed", "percentage", "formula")),
        "fixed_price": FieldSpec("float"),
    },
    "sale.order": {
        "name": char_field(),
        "client_order_ref": char_field(),
        "origin": char_field(),
        "note": FieldSpec("text"),
        "partner_id": FieldSpec("many2one", required=True, comodel="res.partner"),
        "partner_invoice_id": FieldSpec("many2one", comodel="res.partner"),
        "partner_shipping_id": FieldSpec("many2one", comodel="res.partner"),
        "date_order": FieldSpec("datetime"),
        "pricelist_id": FieldSpec("many2one", comodel="product.pricelist"),
        # Odoo: related to the pricelist's currency, else the company's (USD here); never written directly.
        "currency_id": FieldSpec("many2one", readonly=True, comodel="res.currency"),
        "state": FieldSpec("selection", choices=("draft", "sent", "sale", "cancel")),
        "locked": FieldSpec("bool"),
        "order_line": FieldSpec("one2many", comodel="sale.order.line"),
        "amount_untaxed": FieldSpec("float", readonly=True),
        "amount_total": FieldSpec("float", readonly=True),
        "create_date": FieldSpec("datetime", readonly=True),
    },
    "sale.order.line": {
        "order_id": FieldSpec("many2one", required=True, comodel="sale.order"),
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "sequence": FieldSpec("integer"),
        "display_type": FieldSpec("selection", choices=("line_section", "line_note")),
        "name": FieldSpec("text"),
        "product_uom_qty": FieldSpec("float"),
        "price_unit": FieldSpec("float"),
        "price_subtotal": FieldSpec("float", readonly=True),
        # Computed in Odoo from done deliveries and posted invoices; the sandbox's helpers set them.
        "qty_delivered": FieldSpec("float", readonly=True),
        "qty_invoiced": FieldSpec("float", readonly=True),
    },
    # Customer invoices and credit notes (Odoo's ``account`` module): draft -> posted (``action_post``
    # numbers it and adds its quantities to the sale lines' ``qty_invoiced``); ``button_draft`` and
    # ``button_cancel`` as in Odoo.
    "account.move": {
        "name": char_field(readonly=True),
        "ref": char_field(),
        "invoice_origin": char_field(),
        "move_type": FieldSpec("selection", required=True, choices=("out_invoice", "out_refund")),
        "state": FieldSpec("selection", readonly=True, choices=("draft", "posted", "cancel")),
        "partner_id": FieldSpec("many2one", required=True, comodel="res.partner"),
        "currency_id": FieldSpec("many2one", comodel="res.currency"),
        "reversed_entry_id": FieldSpec("many2one", comodel="account.move"),
        "invoice_line_ids": FieldSpec("one2many", comodel="account.move.line"),
        "amount_total": FieldSpec("float", readonly=True),
    },
    "account.move.line": {
        "move_id": FieldSpec("many2one", required=True, comodel="account.move"),
        "display_type": FieldSpec("selection", choices=("product", "line_section", "line_note")),
        "product_id": FieldSpec("many2one", comodel="product.product"),
        "name": FieldSpec("text"),
        "quantity": FieldSpec("float"),
        "price_unit": FieldSpec("float"),
        "price_subtotal": FieldSpec("float", readonly=True),
        "sale_line_ids": FieldSpec("many2many", comodel="sale.order.line"),
    },
}

METHODS: dict[str, frozenset[str]] = {
    "res.partner": frozenset({"search_read", "search", "search_count", "read", "create", "write"}),
    "product.product": frozenset({"search_read", "search", "search_count", "read", "create"}),
    "sale.order": frozenset({
        "search_read", "search", "search_count", "read", "create", "write", "unlink",
        "action_confirm", "action_cancel", "action_draft", "action_lock", "action_unlock",
    }),
    "sale.order.line": frozenset({"search_read", "read"}),
    "res.currency": frozenset({"search_read", "search", "search_count", "read"}),
    "product.pricelist": frozenset({"search_read", "search", "search_count", "read", "create", "write"}),
    "account.move": frozenset({
        "search_read", "search", "search_count", "read", "create", "action_post", "button_draft", "button_cancel",
    }),
    "account.move.line": frozenset({"search_read", "read"}),
    "product.packaging": frozenset({"search_read", "search", "read", "create"}),
    "product.pricelist.item": frozenset({"search_read", "search", "read", "create"}),
}
# @api.model methods: Odoo refuses them when ``ids`` are given.
MODEL_METHODS = frozenset({"search_read", "search", "search_count", "create"})
MUTATING = frozenset(
    {"create", "write", "unlink", "action_confirm", "action_cancel", "action_draft", "action_lock", "action_unlock",
     "action_post", "button_draft", "button_cancel"}
)
# sale.order.line fields Odoo refuses to change on a locked order, with the labels its message lists.
PROTECTED_LINE_FIELDS = {
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


def not_found(message: str) -> OdooFault:
    """Odoo's 404 for an unknown route, model, method or database."""
    return OdooFault(404, "werkzeug.exceptions.NotFound", message)


def unprocessable(message: str) -> OdooFault:
    """Odoo's 422 for arguments it cannot use."""
    return OdooFault(422, "werkzeug.exceptions.UnprocessableEntity", message)


def validation_error(message: str) -> OdooFault:
    """Odoo's ValidationError (a value or constraint refused)."""
    return OdooFault(422, "odoo.exceptions.ValidationError", message)


def user_error(message: str) -> OdooFault:
    """Odoo's UserError (a business rule refused the call)."""
    return OdooFault(422, "odoo.exceptions.UserError", message)


def missing_records(model: str, ids: Iterable[int]) -> OdooFault:
    """Odoo's MissingError for ids that do not exist."""
    listed = ", ".join(str(i) for i in ids)
    return OdooFault(
        404,
        "odoo.exceptions.MissingError",
        f"Record does not exist or has been deleted.\n(Record: {model}({listed},), User: 2)",
    )
