"""Business operations on Odoo sales: find, create, update, cancel and count sale orders by our reference.

A push is idempotent on ``client_order_ref`` (the sale order's "Customer Reference"): the
hub chooses it, we look for it before creating and again right after, so a retried or a
concurrent push never leaves two sale orders for one order.

A push of an order already in the ERP makes the sale order match it, but only while the sale
order is a quotation (``draft`` / ``sent``, not ``locked``): its lines are rewritten with Odoo's
x2many commands (``[1, id, vals]`` changed, ``[2, id, 0]`` removed, ``[0, 0, vals]`` added). A
confirmed, locked or cancelled sale order belongs to the ERP's people: the push changes nothing and
says what differs (``needs_review``). A cancellation calls ``action_cancel`` (without Odoo's wizard)
unless the sale order has delivered or invoiced quantities, which Odoo would leave behind.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from connectors.erp._client import OdooJson2Client
from connectors.erp._errors import ErpRejected, is_duplicate_reference
from connectors.erp._models import (
    CANCELLED,
    QUOTATION_STATES,
    SALE_ORDER_DETAIL_FIELDS,
    SALE_ORDER_FIELDS,
    SALE_ORDER_LINE_FIELDS,
    CancelResult,
    PushResult,
    SaleOrderLine,
    SaleOrderRef,
    created_id,
    many2one_id,
    odoo_str,
)
from canonical.model import Order, OrderLine, Party, PartyRole

_log = logging.getLogger(__name__)

SALE_ORDER = "sale.order"
PARTNER = "res.partner"
PRODUCT = "product.product"
SALE_ORDER_LINE = "sale.order.line"
CURRENCY = "res.currency"
PRICELIST = "product.pricelist"

# Role codes in partner references follow the X12 N101 entity codes partners already use.
_ROLE_CODES = {
    PartyRole.BUYER: "BY",
    PartyRole.SELLER: "SE",
    PartyRole.SHIP_TO: "ST",
    PartyRole.BILL_TO: "BT",
    PartyRole.SHIP_FROM: "SF",
    PartyRole.MARK_FOR: "Z7",
    PartyRole.REMIT_TO: "RI",
    PartyRole.VENDOR: "VN",
    PartyRole.SUPPLIER: "SU",
    PartyRole.CUSTOMER: "CU",
    PartyRole.OTHER: "OT",
}
# The Odoo customer of a sale order: the first of these roles present on the order.
_CUSTOMER_ROLES = (PartyRole.BUYER, PartyRole.CUSTOMER, PartyRole.BILL_TO, PartyRole.SHIP_TO)
_CONTACT_TYPES = {PartyRole.SHIP_TO: "delivery", PartyRole.BILL_TO: "invoice"}
# Odoo keeps quantities and prices as floats rounded to the database's precision (2 decimals by
# default): closer than this counts as equal, so a push is not an update forever after.
_TOLERANCE = Decimal("0.005")
_HEADER_LABELS = {
    "partner_id": "customer",
    "partner_invoice_id": "invoice address",
    "partner_shipping_id": "delivery address",
    "date_order": "order date",
}


def sale_order_origin(partner_id: str) -> str:
    """The sale order's ``origin`` (Source Document) we write: scopes our references per trading partner.

    Two retailers may both send PO ``1001``; the customer reference stays the PO number they know,
    and the origin tells their orders apart.
    """
    return f"orderhub:{partner_id}"


def party_ref(order: Order, party: Party) -> str:
    """Our stable key for a party in the ERP's partner ``ref``, e.g. ``"acme:ST:0042"``.

    A party without an id gets a digest of its name and address instead, so the key stays
    stable for the same address and holds no readable personal data.
    """
    role = _ROLE_CODES[party.role]
    if party.id:
        return f"{order.partner_id}:{role}:{party.id}"
    material = "|".join(
        [
            party.name or "",
            *party.address_lines,
            party.city or "",
            party.region or "",
            party.postal_code or "",
            party.country or "",
        ]
    )
    digest = hashlib.sha256(" ".join(material.casefold().split()).encode()).hexdigest()[:16]
    return f"{order.partner_id}:{role}:#{digest}"


class OdooSalesGateway:
    """What the hub asks of the ERP: sale orders by our reference, partners and products behind them."""

    batch_size = 200

    def __init__(self, client: OdooJson2Client) -> None:
        self._client = client
        self._pricelists: dict[str, int] = {}  # by currency code, for this gateway's lifetime (one pass)

    # -- reading -----------------------------------------------------------------------------

    def find_sale_orders(
        self, client_order_refs: Sequence[str], *, partner_id: str | None = None
    ) -> dict[str, list[SaleOrderRef]]:
        """Sale orders per reference (every asked reference is a key; oldest order first).

        With ``partner_id``, only the sale orders we pushed for that trading partner count.
        """
        found: dict[str, list[SaleOrderRef]] = {ref: [] for ref in client_order_refs}
        refs = list(found)
        for start in range(0, len(refs), self.batch_size):
            batch = refs[start : start + self.batch_size]
            rows = self._client.call(
                SALE_ORDER,
                "search_read",
                domain=[["client_order_ref", "in", batch]]
                + ([["origin", "=", sale_order_origin(partner_id)]] if partner_id else []),
                fields=SALE_ORDER_FIELDS,
                order="id asc",
            )
            for row in rows:
                order = SaleOrderRef.from_record(row)
                # Odoo's "in" is exact, but a server-side ilike or trailing spaces must not mislead us.
                if order.client_order_ref in found:
                    found[order.client_order_ref].append(order)
        return found

    def sale_order_refs(self, client_order_refs: Sequence[str], *, partner_id: str | None = None) -> Counter[str]:
        """How many sale orders carry each reference: 0 = missing, 2 or more = doubled."""
        found = self.find_sale_orders(client_order_refs, partner_id=partner_id)
        return Counter({ref: len(orders) for ref, orders in found.items()})

    def list_sale_orders_by_ref_prefix(self, prefix: str, *, limit: int | None = None) -> list[SaleOrderRef]:
        """Sale orders whose reference starts with ``prefix`` (e.g. one partner's ``"acme:"``), oldest first."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params: dict[str, Any] = {
            "domain": [["client_order_ref", "=like", pattern]],
            "fields": SALE_ORDER_FIELDS,
            "order": "id asc",
        }
        if limit is not None:
            params["limit"] = limit
        rows = self._client.call(SALE_ORDER, "search_read", **params)
        return [SaleOrderRef.from_record(row) for row in rows]

    # -- master data -------------------------------------------------------------------------

    def ensure_partner(self, party: Party, *, ref: str, parent_id: int | None = None) -> int:
        """The id of the ``res.partner`` whose ``ref`` is ``ref``; created from ``party`` if there is none.

        With ``parent_id`` a ship-to or bill-to becomes a delivery or invoice address of that customer.
        An existing partner is used as it is: the ERP owns its master data once it exists.
        """
        existing = self._partner_ids(ref)
        if existing:
            return existing[0]
        vals = _partner_values(party, ref=ref, parent_id=parent_id)
        partner_id = created_id(self._client.call(PARTNER, "create", vals_list=[vals]))
        # Two orders for the same store pushed at once both create it: keep the oldest, archive ours.
        keeper = min(self._partner_ids(ref), default=partner_id)
        if keeper != partner_id:
            _log.warning("partner ref %s was created concurrently; archiving duplicate partner %s", ref, partner_id)
            self._client.call(PARTNER, "write", ids=[partner_id], vals={"active": False})
            return keeper
        _log.info("created ERP partner %s for ref %s", partner_id, ref)
        return partner_id

    def _partner_ids(self, ref: str) -> list[int]:
        rows = self._client.call(PARTNER, "search_read", domain=[["ref", "=", ref]], fields=["id"], order="id asc")
        return [int(row["id"]) for row in rows]

    def ensure_product(self, line: OrderLine) -> int:
        """The id of the ``product.product`` for a line, by SKU (``default_code``) else GTIN (``barcode``).

        Products are never created here: an unknown SKU is an :class:`ErpRejected`.
        """
        return self._resolve_products([line])[line.line_no]

    # -- sale orders -------------------------------------------------------------------------

    def sale_order_states(
        self, client_order_refs: Sequence[str], *, partner_id: str | None = None
    ) -> dict[str, list[str]]:
        """The states (``draft``, ``sent``, ``sale``, ``cancel``) of the sale orders per reference, oldest first."""
        found = self.find_sale_orders(client_order_refs, partner_id=partner_id)
        return {ref: [order.state for order in orders] for ref, orders in found.items()}

    def push_sale_order(self, order: Order, *, client_order_ref: str) -> PushResult:
        """Make the ERP hold ``order``: create its sale order, or bring the existing quotation up to date."""
        if not client_order_ref or client_order_ref != client_order_ref.strip():
            raise ValueError("client_order_ref must be a non-empty string without surrounding spaces")
        existing = self.find_sale_orders([client_order_ref], partner_id=order.partner_id)[client_order_ref]
        if existing:
            if len(existing) > 1:
                _log.warning("ERP holds %d sale orders for ref %s", len(existing), client_order_ref)
            return self._update_sale_order(order, existing[0])

        # Products and pricelist first: an order the ERP cannot take must not leave new partners behind.
        product_ids = self._resolve_products(order.lines)
        # Odoo's sale order takes its currency from its pricelist: one in the order's currency.
        pricelist_id = self.pricelist_for(order.currency)
        partner_ids = self._order_partners(order)
        vals = {
            **partner_ids,
            "client_order_ref": client_order_ref,
            "pricelist_id": pricelist_id,
            "date_order": _date_order(order),
            "origin": sale_order_origin(order.partner_id),
            "order_line": [(0, 0, _line_values(line, product_ids[line.line_no])) for line in order.lines],
            "note": _note(order),
        }
        try:
            new_id = created_id(self._client.call(SALE_ORDER, "create", vals_list=[vals]))
        except ErpRejected as exc:
            if not is_duplicate_reference(exc):
                raise
            # The ERP's unique reference constraint: another push (or our own earlier, timed-out
            # create) committed it after we looked. It exists: compare with it instead.
            existing = self.find_sale_orders([client_order_ref], partner_id=order.partner_id)[client_order_ref]
            if not existing:
                raise
            _log.info("ref %s already exists in the ERP (unique constraint); comparing instead", client_order_ref)
            return self._update_sale_order(order, existing[0])
        return self._settle_duplicates(client_order_ref, new_id, partner_id=order.partner_id)

    def _update_sale_order(self, order: Order, found: SaleOrderRef) -> PushResult:
        """Compare the sale order with ``order``; rewrite it only while it is an unlocked quotation."""
        detail = self._sale_order_detail(found.id)
        lines = self._sale_order_lines(found.id)
        product_ids = self._resolve_products(order.lines)
        state, locked = odoo_str(detail.get("state")), bool(detail.get("locked"))
        editable = state in QUOTATION_STATES and not locked
        # Partners are created only for a quotation we will write; otherwise a missing one is a change.
        partner_ids = self._order_partners(order, create=editable)
        header, header_changes = _header_changes(order, detail, partner_ids, compare_date=editable)
        booked_in = odoo_str(detail["currency_id"][1]) if isinstance(detail.get("currency_id"), list) else ""
        if booked_in and booked_in != order.currency:
            header_changes.append(f"currency {booked_in} -> {order.currency}")
            if editable:
                header["pricelist_id"] = self.pricelist_for(order.currency)
        commands, line_changes = _line_changes(order.lines, product_ids, lines)
        changes = tuple(header_changes + line_changes)
        if state == CANCELLED:
            # The order is live in the hub (e.g. replaced after a cancellation): a cancelled sale order never matches.
            changes = ("the order is open but its sale order is cancelled", *changes)
        if not changes:
            return PushResult(found.id, found.name, created=False, action="unchanged")
        if not editable:
            why = "locked" if locked else {"sale": "confirmed", CANCELLED: "cancelled"}.get(state, f"in state {state}")
            reason = f"sale order {found.name} is {why} in the ERP; the hub does not change it on its own"
            return PushResult(found.id, found.name, created=False, action="needs_review", changes=changes,
                              reason=reason)
        vals: dict[str, Any] = {**header, "note": _note(order)}
        if commands:
            vals["order_line"] = commands
        self._client.call(SALE_ORDER, "write", ids=[found.id], vals=vals)
        _log.info("updated ERP sale order %s (%d change(s))", found.name, len(changes))
        return PushResult(found.id, found.name, created=False, action="updated", changes=changes)

    def cancel_sale_order(self, order: Order, *, client_order_ref: str) -> CancelResult:
        """Cancel the sale order(s) of ``order`` with Odoo's ``action_cancel``; refuse where Odoo would leave goods or bills."""
        found = self.find_sale_orders([client_order_ref], partner_id=order.partner_id)[client_order_ref]
        if not found:
            return CancelResult("not_in_erp")
        live = [so for so in found if so.state != CANCELLED]
        if not live:
            return CancelResult("already_cancelled", found[0].id, found[0].name)
        for so in live:
            refused = self._cancel(so)
            if refused:
                return CancelResult("refused", so.id, so.name, reason=refused)
        _log.info("cancelled ERP sale order %s", live[0].name)
        return CancelResult("cancelled", live[0].id, live[0].name)

    def _cancel(self, so: SaleOrderRef) -> str:
        """Cancel one sale order; the reason it was not cancelled, or "" when it was."""
        done = [line for line in self._sale_order_lines(so.id) if line.qty_delivered or line.qty_invoiced]
        if done:
            # Odoo would cancel it anyway and keep done deliveries and posted invoices: goods out, nothing billed.
            what = ", ".join(
                f"{line.product_name or line.name}: delivered {_num(line.qty_delivered)}, "
                f"invoiced {_num(line.qty_invoiced)}" for line in done
            )
            return (f"sale order {so.name} has delivered or invoiced quantities ({what}); cancelling it would "
                    "leave them behind")
        try:
            # Without this context Odoo answers a non-draft order with its cancel wizard and cancels nothing.
            answer = self._client.call(SALE_ORDER, "action_cancel", ids=[so.id],
                                       context={"disable_cancel_warning": True})
        except ErpRejected as exc:
            return f"Odoo refused to cancel sale order {so.name}: {exc.reason}"
        if isinstance(answer, dict):
            return f"Odoo answered the cancellation of sale order {so.name} with a wizard ({answer.get('res_model')})"
        rows = self._client.call(SALE_ORDER, "read", ids=[so.id], fields=["state"])
        state = odoo_str(rows[0].get("state")) if rows else ""
        if state != CANCELLED:
            return f"sale order {so.name} is still in state {state or 'unknown'} after action_cancel"
        return ""

    def _sale_order_detail(self, sale_order_id: int) -> dict[str, Any]:
        rows = self._client.call(SALE_ORDER, "read", ids=[sale_order_id], fields=SALE_ORDER_DETAIL_FIELDS)
        if not rows:
            raise ErpRejected(f"sale order id {sale_order_id} disappeared while it was being compared")
        return rows[0]

    def _sale_order_lines(self, sale_order_id: int) -> list[SaleOrderLine]:
        """The product lines of a sale order in Odoo's order (sections and notes left out)."""
        rows = self._client.call(
            SALE_ORDER_LINE,
            "search_read",
            domain=[["order_id", "=", sale_order_id], ["display_type", "=", False]],
            fields=SALE_ORDER_LINE_FIELDS,
            order="sequence asc, id asc",
        )
        return [SaleOrderLine.from_record(row) for row in rows]

    def _settle_duplicates(self, client_order_ref: str, new_id: int, *, partner_id: str) -> PushResult:
        """Look again after creating: if a concurrent push won the race, drop ours and report theirs."""
        orders = self.find_sale_orders([client_order_ref], partner_id=partner_id)[client_order_ref]
        keeper = orders[0] if orders else None
        if keeper is None or keeper.id == new_id:
            name = keeper.name if keeper else self._sale_order_name(new_id)
            _log.info("created ERP sale order %s (id %s) for ref %s", name, new_id, client_order_ref)
            return PushResult(new_id, name, created=True)
        _log.warning("ref %s was pushed concurrently; removing duplicate sale order id %s", client_order_ref, new_id)
        self._client.call(SALE_ORDER, "unlink", ids=[new_id])
        return PushResult(keeper.id, keeper.name, created=False)

    def _sale_order_name(self, sale_order_id: int) -> str:
        rows = self._client.call(SALE_ORDER, "read", ids=[sale_order_id], fields=["name"])
        return str(rows[0]["name"]) if rows else ""

    def pricelist_for(self, currency: str) -> int:
        """The id of the ERP pricelist in ``currency`` (first by sequence), or ErpRejected saying what to set up."""
        if currency in self._pricelists:
            return self._pricelists[currency]
        currencies = self._client.call(CURRENCY, "search_read", domain=[["name", "=", currency]], fields=["id"])
        if not currencies:
            raise ErpRejected(f"the order is in {currency}, which is not an active currency in the ERP: activate it "
                              f"and create a pricelist in {currency}, then replay", location="currency")
        rows = self._client.call(
            PRICELIST, "search_read", domain=[["currency_id", "=", int(currencies[0]["id"])]], fields=["id"],
            order="sequence asc, id asc", limit=1,
        )
        if not rows:
            raise ErpRejected(f"the order is in {currency} but the ERP has no pricelist in {currency}: create one "
                              "(Sales > Configuration > Pricelists), then replay", location="currency")
        self._pricelists[currency] = int(rows[0]["id"])
        return self._pricelists[currency]

    def _order_partners(self, order: Order, *, create: bool = True) -> dict[str, int | None]:
        """The sale order's partner ids for ``order``; without ``create``, None for a partner not in the ERP yet."""
        customer = next((p for role in _CUSTOMER_ROLES if (p := order.party(role)) is not None), None)
        if customer is None:
            raise ErpRejected("the order names no buyer, bill-to or ship-to party", location="parties")

        def partner(party: Party, parent_id: int | None = None) -> int | None:
            ref = party_ref(order, party)
            if create:
                return self.ensure_partner(party, ref=ref, parent_id=parent_id)
            return next(iter(self._partner_ids(ref)), None)

        customer_id = partner(customer)

        def address(role: PartyRole) -> int | None:
            party = order.party(role)
            if party is None or party is customer:
                return customer_id
            return partner(party, customer_id)

        return {
            "partner_id": customer_id,
            "partner_invoice_id": address(PartyRole.BILL_TO),
            "partner_shipping_id": address(PartyRole.SHIP_TO),
        }

    def _resolve_products(self, lines: Iterable[OrderLine]) -> dict[str, int]:
        """Product ids by line number, two searches at most; every unknown line named in one rejection."""
        lines = list(lines)
        by_sku = self._products_by("default_code", {line.sku for line in lines if line.sku})
        unresolved_gtins = {line.gtin for line in lines if line.gtin and not by_sku.get(line.sku or "")}
        by_gtin = self._products_by("barcode", unresolved_gtins)

        resolved: dict[str, int] = {}
        problems: list[tuple[str, str]] = []
        for line in lines:
            by, code, candidates = "SKU", line.sku, by_sku.get(line.sku or "")
            if not candidates:
                by, code, candidates = "GTIN", line.gtin, by_gtin.get(line.gtin or "")
            if candidates and len(candidates) == 1:
                resolved[line.line_no] = candidates[0]
            elif candidates:
                problems.append((line.line_no, f"{by} {code!r} matches {len(candidates)} ERP products"))
            elif line.sku:
                problems.append(
                    (
                        line.line_no,
                        f"unknown product SKU {line.sku!r}" + (f" / GTIN {line.gtin!r}" if line.gtin else ""),
                    )
                )
            elif line.gtin:
                problems.append((line.line_no, f"unknown product GTIN {line.gtin!r}"))
            else:
                problems.append((line.line_no, "line has neither SKU nor GTIN"))
        if problems:
            reason = "; ".join(f"{text} (line {line_no})" for line_no, text in problems)
            raise ErpRejected(reason, location="lines " + ", ".join(line_no for line_no, _ in problems))
        return resolved

    def _products_by(self, field: str, codes: set[str]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        codes_list = sorted(codes)
        for start in range(0, len(codes_list), self.batch_size):
            rows = self._client.call(
                PRODUCT,
                "search_read",
                domain=[[field, "in", codes_list[start : start + self.batch_size]]],
                fields=["id", field],
                order="id asc",
            )
            for row in rows:
                if row.get(field):
                    found.setdefault(str(row[field]), []).append(int(row["id"]))
        return found


def _partner_values(party: Party, *, ref: str, parent_id: int | None) -> dict[str, Any]:
    vals: dict[str, Any] = {"name": party.name or ref, "ref": ref}
    if party.address_lines:
        vals["street"] = party.address_lines[0]
        if len(party.address_lines) > 1:
            vals["street2"] = ", ".join(party.address_lines[1:])
    if party.city:
        vals["city"] = party.city
    if party.postal_code:
        vals["zip"] = party.postal_code
    if parent_id is not None:
        vals["parent_id"] = parent_id
        vals["type"] = _CONTACT_TYPES.get(party.role, "other")
    else:
        vals["is_company"] = True
    return vals


def _line_values(line: OrderLine, product_id: int) -> dict[str, Any]:
    vals: dict[str, Any] = {"product_id": product_id, "product_uom_qty": line.quantity}
    # Without a price the ERP's pricelist decides, as for an order keyed in by hand.
    if line.unit_price is not None:
        vals["price_unit"] = line.unit_price
    if line.description:
        vals["name"] = line.description
    return vals


def _date_order(order: Order) -> str:
    # date_order is a UTC datetime in Odoo; noon keeps the calendar date in every timezone.
    return f"{order.order_date.isoformat()} 12:00:00"


def _header_changes(
    order: Order, detail: dict[str, Any], partner_ids: dict[str, int | None], *, compare_date: bool
) -> tuple[dict[str, Any], list[str]]:
    """The header values to write and their descriptions.

    The order date is compared on quotations only: Odoo sets it to the confirmation time on confirm.
    The note is written with any other change but never compared (Odoo keeps it as HTML).
    """
    vals: dict[str, Any] = {}
    changes: list[str] = []
    for field, wanted in partner_ids.items():
        if many2one_id(detail.get(field)) != wanted:
            vals[field] = wanted
            changes.append(f"{_HEADER_LABELS[field]} changed")
    if compare_date and odoo_str(detail.get("date_order")) != _date_order(order):
        vals["date_order"] = _date_order(order)
        changes.append(f"order date {odoo_str(detail.get('date_order'))[:10]} -> {order.order_date.isoformat()}")
    # A partner the ERP does not have yet is only described, never written as an empty value.
    return {k: v for k, v in vals.items() if v is not None}, changes


def _line_changes(
    lines: Sequence[OrderLine], product_ids: dict[str, int], erp_lines: Sequence[SaleOrderLine]
) -> tuple[list[Any], list[str]]:
    """The x2many commands that turn ``erp_lines`` into ``lines``, and what they change in words.

    Lines pair up in order (the hub creates them in the order's line order): a pair that differs is
    updated in place (``[1, id, vals]``), ERP lines beyond ours are removed (``[2, id, 0]``), our lines
    beyond the ERP's are added (``[0, 0, vals]``).
    """
    commands: list[Any] = []
    changes: list[str] = []
    for line, erp in zip(lines, erp_lines):
        wanted = _line_values(line, product_ids[line.line_no])
        vals: dict[str, Any] = {}
        if erp.product_id != wanted["product_id"]:
            vals["product_id"] = wanted["product_id"]
            changes.append(f"line {line.line_no}: product {erp.product_name or erp.product_id} -> "
                           f"{line.sku or line.gtin}")
        if abs(erp.quantity - line.quantity) >= _TOLERANCE:
            vals["product_uom_qty"] = line.quantity
            changes.append(f"line {line.line_no}: quantity {_num(erp.quantity)} -> {_num(line.quantity)}")
        if line.unit_price is not None and abs(erp.price_unit - line.unit_price) >= _TOLERANCE:
            vals["price_unit"] = line.unit_price
            changes.append(f"line {line.line_no}: unit price {_num(erp.price_unit)} -> {_num(line.unit_price)}")
        if line.description and erp.name != line.description:
            vals["name"] = line.description
            changes.append(f"line {line.line_no}: description changed")
        if vals:
            if "product_id" in vals:
                vals = {**wanted, **vals}  # a new product: the rest of the line must be ours, not the old product's
            commands.append([1, erp.id, vals])
    for index, erp in enumerate(erp_lines[len(lines):], start=len(lines) + 1):
        commands.append([2, erp.id, 0])
        changes.append(f"ERP line {index} removed ({erp.product_name or erp.name}, quantity {_num(erp.quantity)})")
    for line in lines[len(erp_lines):]:
        commands.append([0, 0, _line_values(line, product_ids[line.line_no])])
        changes.append(f"line {line.line_no} added ({line.sku or line.gtin}, quantity {_num(line.quantity)})")
    return commands, changes


def _num(value: Decimal) -> str:
    """A quantity or price for a message: ``3``, ``4.5`` (no float noise, no exponent)."""
    text = format(value.normalize(), "f")
    return text


def _note(order: Order) -> str:
    note = f"Imported by orderhub from {order.source.value} order {order.source_ref} of {order.partner_id}"
    if order.raw_document_id:
        note += f" (raw document {order.raw_document_id[:12]})"
    return note + "."
