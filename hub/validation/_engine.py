"""The rule engine: a canonical order, the rules and what the hub knows of the ERP in; findings out.

Pure: no store, no Dagster, no I/O. Rules that need the catalogue or the customer's credit are
skipped while the hub has none synced (a fresh hub must not hold every order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from canonical.model import Order, OrderLine, Source, order_total
from mappings.validation_rules import ValidationRules

_EACH = "EA"  # list prices and packaging quantities in the ERP are per each


class Rule(StrEnum):
    """The rules a finding can name."""

    UNKNOWN_SKU = "unknown_sku"
    PRICE_OFF_LIST = "price_off_list"
    ORDER_VALUE = "order_value"
    CREDIT_LIMIT = "credit_limit"
    RESTRICTED_PRODUCT = "restricted_product"
    PACK_MULTIPLE = "pack_multiple"
    DUPLICATE_PO = "duplicate_po"
    TOTALS = "totals"
    LOW_CONFIDENCE = "low_confidence"
    UNKNOWN_SENDER = "unknown_sender"


@dataclass(frozen=True)
class Product:
    """One catalogue product as synced from the ERP."""

    sku: str
    list_price: Decimal | None = None
    currency: str | None = None
    pack_qty: Decimal | None = None
    active: bool = True


@dataclass(frozen=True)
class Credit:
    """A customer's credit in the ERP: limit and amount still open (None: not set there)."""

    limit: Decimal | None
    open_amount: Decimal
    currency: str | None = None


@dataclass(frozen=True)
class Context:
    """What the rules read besides the order: the catalogue (empty: never synced), credit, an earlier PO."""

    catalogue: Mapping[str, Product] = field(default_factory=dict)
    prices: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    """(sku, currency) -> the customer's pricelist price, where the ERP has one; else the list price counts."""
    credit: Credit | None = None
    duplicate_of: str | None = None
    """The channel that brought the same PO number from the same customer before, if any."""
    invoiced: Decimal = Decimal(0)
    """What of this order (an earlier version of it) is invoiced already, so counted in ``credit.open_amount``."""


@dataclass(frozen=True)
class Finding:
    """One broken rule: which, on which line (None: the whole order), what was expected and found."""

    rule: Rule
    line: str | None
    expected: str
    found: str

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-ready form (stored with the approval, printed by the CLI)."""
        return {"rule": self.rule.value, "line": self.line, "expected": self.expected, "found": self.found}


def evaluate(order: Order, rules: ValidationRules, context: Context) -> list[Finding]:
    """Every rule ``order`` breaks, line rules first in line order, then the order's own."""
    findings: list[Finding] = []
    for line in order.lines:
        findings.extend(_line_findings(order, line, rules, context))
    findings.extend(_order_findings(order, rules, context))
    return findings


def _line_findings(order: Order, line: OrderLine, rules: ValidationRules, context: Context) -> list[Finding]:
    found: list[Finding] = []
    sku = line.sku
    if sku and sku in set(rules.restricted_skus or ()):
        found.append(Finding(Rule.RESTRICTED_PRODUCT, line.line_no, "not a restricted product", sku))
    if not context.catalogue:
        return found
    product = context.catalogue.get(sku) if sku else None
    if product is None or not product.active:
        if rules.unknown_sku:
            # Kept on the order all the same: a person decides (map the SKU, or reject).
            what = "no SKU" if not sku else (f"{sku} (archived)" if product else sku)
            found.append(Finding(Rule.UNKNOWN_SKU, line.line_no, "a SKU in the ERP catalogue", what))
        return found
    each = line.uom == _EACH
    price = context.prices.get((product.sku, order.currency))
    if price is None and product.currency == order.currency:
        price = product.list_price
    tolerance = rules.price_tolerance_percent
    if tolerance is not None and each and price and line.unit_price is not None:
        off = abs(line.unit_price - price) * 100 / price
        if off > tolerance:
            found.append(Finding(Rule.PRICE_OFF_LIST, line.line_no,
                                 f"{price} {order.currency} ± {tolerance}%", f"{line.unit_price} ({off:.1f}% off)"))
    if rules.pack_multiples and each and product.pack_qty and product.pack_qty > 1 \
            and line.quantity % product.pack_qty != 0:
        found.append(Finding(Rule.PACK_MULTIPLE, line.line_no, f"a multiple of {product.pack_qty}",
                             f"{line.quantity}"))
    return found


def _order_findings(order: Order, rules: ValidationRules, context: Context) -> list[Finding]:
    found: list[Finding] = []
    if rules.max_order_value is not None and order.total > rules.max_order_value:
        found.append(Finding(Rule.ORDER_VALUE, None, f"at most {rules.max_order_value} {order.currency}",
                             f"{order.total}"))
    credit = context.credit
    if rules.credit_limit and credit is not None and credit.limit is not None \
            and (credit.currency is None or credit.currency == order.currency):
        # The open amount is the customer's unpaid invoices: an invoiced earlier version of this order is in
        # it already, so a revision adds only what it holds beyond that (a reduction adds nothing).
        adds = max(order.total - context.invoiced, Decimal(0))
        exposure = credit.open_amount + adds
        if exposure > credit.limit:
            what = f"{order.total}" if not context.invoiced else f"{adds} not yet invoiced of {order.total}"
            found.append(Finding(Rule.CREDIT_LIMIT, None, f"open amount + order within {credit.limit}",
                                 f"{credit.open_amount} open + {what} = {exposure}"))
    if rules.duplicate_po and context.duplicate_of:
        found.append(Finding(Rule.DUPLICATE_PO, None, "a PO number new for this customer",
                             f"{order.source_ref} already received through {context.duplicate_of}"))
    if rules.totals_tolerance is not None:
        found.extend(_totals(order, rules.totals_tolerance))
    # Email is always read from free text: its doubtful extractions wait for a person whatever the rules say.
    if order.source.value in {Source.EMAIL.value, *(rules.review_extracted_from or ())}:
        found.extend(_low_confidence(order))
    if order.source == Source.EMAIL and order.references.get("sender_unknown"):
        # Not a rule to switch off: an order from someone the customer never named is always a draft. The
        # domain only (findings reach the Dagster UI); the address is on the order (`hub approvals show`).
        domain = (order.references.get("sender") or "").rpartition("@")[2]
        found.append(Finding(Rule.UNKNOWN_SENDER, None, "a sender the customer's profile lists",
                             f"a sender at {domain}" if domain else "no sender address"))
    return found


def _low_confidence(order: Order) -> list[Finding]:
    """An order read from free text that the reader was not sure of: its warnings, lines lacking SKU or price."""
    found = [Finding(Rule.LOW_CONFIDENCE, None, "an order read without doubt", warning[:200])
             for warning in order.warnings]
    for line in order.lines:
        missing = [name for name, value in (("SKU", line.sku), ("unit price", line.unit_price)) if value is None]
        if missing:
            found.append(Finding(Rule.LOW_CONFIDENCE, line.line_no, "a SKU and a unit price",
                                 f"no {' and no '.join(missing)}"))
    return found


def _totals(order: Order, tolerance: Decimal) -> list[Finding]:
    """Line amounts against quantity x price, and the order total against lines and charges."""
    found = []
    for line in order.lines:
        if line.amount is not None and line.unit_price is not None:
            expected = line.quantity * line.unit_price
            if abs(expected - line.amount) > tolerance:
                found.append(Finding(Rule.TOTALS, line.line_no, f"{expected} (quantity x price)", f"{line.amount}"))
    if all(line.amount is not None for line in order.lines):
        expected = order_total(order.lines, order.charges)
        # A total with tax added (prices without tax) still adds up.
        with_tax = expected + order.tax_total if order.tax_total and not order.taxes_included else None
        if abs(expected - order.total) > tolerance and (with_tax is None or abs(with_tax - order.total) > tolerance):
            found.append(Finding(Rule.TOTALS, None, f"{expected} (lines and charges)", f"{order.total}"))
    return found
