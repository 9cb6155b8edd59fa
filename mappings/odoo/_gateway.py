"""Canonical orders as Odoo sale orders: find, create, update and cancel them by our reference.

A push is idempotent on ``client_order_ref`` (the sale order's "Customer Reference"): the
hub chooses it, we look for it before creating and again right after, so a retried or a
concurrent push never leaves two sale orders for one order.

A push of an order already in the ERP makes the sale order match it, but only while the sale
order is a quotation (``draft`` / ``sent``, not ``locked``): its lines are rewritten with Odoo's
x2many commands (``[1, id, vals]`` changed, ``[2, id, 0]`` removed, ``[0, 0, vals]`` added). A
confirmed, locked or cancelled sale order belongs to the ERP's people: the push changes nothing and
says what differs (``needs_review``). A cancellation calls ``action_cancel`` (without Odoo's wizard)
unless the sale order has delivered or invoiced quantities, which Odoo would leave behind.

The Odoo calls themselves are ``connectors.erp.OdooSales``; the values come from ``_values.py``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from canonical.model import Order, OrderLine, Party, PartyRole
from connectors.erp import (
    CANCELLED,
    QUOTATION_STATES,
    ErpRejected,
    OdooJson2Client,
    OdooSales,
    SaleOrderRef,
    is_duplicate_reference,
    odoo_str,
)
from mappings.odoo._batch import BatchAnswer, PartnerCache, push_sale_orders
from mappings.odoo._results import CancelResult, PushResult
from mappings.odoo._values import (
    CUSTOMER_ROLES,
    date_order,
    header_changes,
    line_changes,
    line_values,
    note,
    num,
    partner_values,
    party_ref,
    sale_order_origin,
)

_log = logging.getLogger(__name__)


class OdooSalesGateway:
    """What the hub asks of the ERP: sale orders by our reference, partners and products behind them."""

    def __init__(self, client: OdooJson2Client) -> None:
        self._client = client
        self._sales = OdooSales(client)  # one pricelist cache per gateway (one pass)
        # Batches resolve products and partners once per pass, not once per order.
        self._product_cache: dict[tuple[str, str], list[int]] = {}
        self._partner_cache = PartnerCache()

    # -- reading -----------------------------------------------------------------------------

    def find_sale_orders(
        self, client_order_refs: Sequence[str], *, partner_id: str | None = None
    ) -> dict[str, list[SaleOrderRef]]:
        """Sale orders per reference (every asked reference is a key; oldest order first).

        With ``partner_id``, only the sale orders we pushed for that trading partner count.
        """
        return self._sales.sale_orders_by_ref(client_order_refs,
                                              origin=sale_order_origin(partner_id) if partner_id else None)

    def sale_order_refs(self, client_order_refs: Sequence[str], *, partner_id: str | None = None) -> Counter[str]:
        """How many sale orders carry each reference: 0 = missing, 2 or more = doubled."""
        found = self.find_sale_orders(client_order_refs, partner_id=partner_id)
        return Counter({ref: len(orders) for ref, orders in found.items()})

    def sale_order_states(
        self, client_order_refs: Sequence[str], *, partner_id: str | None = None
    ) -> dict[str, list[str]]:
        """The states (``draft``, ``sent``, ``sale``, ``cancel``) of the sale orders per reference, oldest first."""
        found = self.find_sale_orders(client_order_refs, partner_id=partner_id)
        return {ref: [order.state for order in orders] for ref, orders in found.items()}

    def list_sale_orders_by_ref_prefix(self, prefix: str, *, limit: int | None = None) -> list[SaleOrderRef]:
        """Sale orders whose reference starts with ``prefix`` (e.g. one partner's ``"acme:"``), oldest first."""
        return self._sales.sale_orders_by_ref_prefix(prefix, limit=limit)

    # -- master data -------------------------------------------------------------------------

    def ensure_partner(self, party: Party, *, ref: str, parent_id: int | None = None) -> int:
        """The id of the ``res.partner`` whose ``ref`` is ``ref``; created from ``party`` if there is none.

        With ``parent_id`` a ship-to or bill-to becomes a delivery or invoice address of that customer.
        An existing partner is used as it is: the ERP owns its master data once it exists.
        """
        existing = self._sales.partner_ids(ref)
        if existing:
            return existing[0]
        partner_id = self._sales.create_partner(partner_values(party, ref=ref, parent_id=parent_id))
        # Two orders for the same store pushed at once both create it: keep the oldest, archive ours.
        keeper = min(self._sales.partner_ids(ref), default=partner_id)
        if keeper != partner_id:
            _log.warning("partner ref %s was created concurrently; archiving duplicate partner %s", ref, partner_id)
            self._sales.archive_partner(partner_id)
            return keeper
        _log.info("created ERP partner %s for ref %s", partner_id, ref)
        return partner_id

    def ensure_product(self, line: OrderLine) -> int:
        """The id of the ``product.product`` for a line, by SKU (``default_code``) else GTIN (``barcode``).

        Products are never created here: an unknown SKU is an :class:`ErpRejected`.
        """
        return self._resolve_products([line])[line.line_no]

    def pricelist_for(self, currency: str) -> int:
        """The id of the ERP pricelist in ``currency`` (first by sequence), or ErpRejected saying what to set up."""
        return self._sales.pricelist_for(currency)

    # -- sale orders -------------------------------------------------------------------------

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
            "date_order": date_order(order),
            "origin": sale_order_origin(order.partner_id),
            "order_line": [(0, 0, line_values(line, product_ids[line.line_no])) for line in order.lines],
            "note": note(order),
        }
        try:
            new_id = self._sales.create_sale_order(vals)
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

    def push_sale_orders(self, batch: Sequence[tuple[Order, str]], *, confirm: bool = False) -> list[BatchAnswer]:
        """Make the ERP hold every (order, client_order_ref) of ``batch`` in a few calls (``_batch.py``); per
        order its result, or the ``ErpRejected`` that refused it alone. With ``confirm``, new sale orders are
        confirmed (``action_confirm`` on the list)."""
        return push_sale_orders(self, batch, confirm=confirm)

    def _update_sale_order(self, order: Order, found: SaleOrderRef) -> PushResult:
        """Compare the sale order with ``order``; rewrite it only while it is an unlocked quotation."""
        detail = self._sales.sale_order_detail(found.id)
        lines = self._sales.sale_order_lines(found.id)
        product_ids = self._resolve_products(order.lines)
        state, locked = odoo_str(detail.get("state")), bool(detail.get("locked"))
        editable = state in QUOTATION_STATES and not locked
        # Partners are created only for a quotation we will write; otherwise a missing one is a change.
        partner_ids = self._order_partners(order, create=editable)
        header, header_diff = header_changes(order, detail, partner_ids, compare_date=editable)
        booked_in = odoo_str(detail["currency_id"][1]) if isinstance(detail.get("currency_id"), list) else ""
        if booked_in and booked_in != order.currency:
            header_diff.append(f"currency {booked_in} -> {order.currency}")
            if editable:
                header["pricelist_id"] = self.pricelist_for(order.currency)
        commands, line_diff = line_changes(order.lines, product_ids, lines)
        changes = tuple(header_diff + line_diff)
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
        vals: dict[str, Any] = {**header, "note": note(order)}
        if commands:
            vals["order_line"] = commands
        self._sales.write_sale_order(found.id, vals)
        _log.info("updated ERP sale order %s (%d change(s))", found.name, len(changes))
        return PushResult(found.id, found.name, created=False, action="updated", changes=changes)

    def cancel_sale_order(self, order: Order, *, client_order_ref: str) -> CancelResult:
        """Cancel the sale order(s) of ``order`` with Odoo's ``action_cancel``; refuse where Odoo would leave
        goods or bills."""
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
        done = [line for line in self._sales.sale_order_lines(so.id) if line.qty_delivered or line.qty_invoiced]
        if done:
            # Odoo would cancel it anyway and keep done deliveries and posted invoices: goods out, nothing billed.
            what = ", ".join(
                f"{line.product_name or line.name}: delivered {num(line.qty_delivered)}, "
                f"invoiced {num(line.qty_invoiced)}" for line in done
            )
            return (f"sale order {so.name} has delivered or invoiced quantities ({what}); cancelling it would "
                    "leave them behind")
        try:
            answer = self._sales.action_cancel(so.id)
        except ErpRejected as exc:
            return f"Odoo refused to cancel sale order {so.name}: {exc.reason}"
        if isinstance(answer, dict):
            return f"Odoo answered the cancellation of sale order {so.name} with a wizard ({answer.get('res_model')})"
        state = self._sales.sale_order_field(so.id, "state")
        if state != CANCELLED:
            return f"sale order {so.name} is still in state {state or 'unknown'} after action_cancel"
        return ""

    def _settle_duplicates(self, client_order_ref: str, new_id: int, *, partner_id: str) -> PushResult:
        """Look again after creating: if a concurrent push won the race, drop ours and report theirs."""
        orders = self.find_sale_orders([client_order_ref], partner_id=partner_id)[client_order_ref]
        keeper = orders[0] if orders else None
        if keeper is None or keeper.id == new_id:
            name = keeper.name if keeper else self._sales.sale_order_field(new_id, "name")
            _log.info("created ERP sale order %s (id %s) for ref %s", name, new_id, client_order_ref)
            return PushResult(new_id, name, created=True)
        _log.warning("ref %s was pushed concurrently; removing duplicate sale order id %s", client_order_ref, new_id)
        self._sales.unlink_sale_order(new_id)
        return PushResult(keeper.id, keeper.name, created=False)

    def _order_partners(self, order: Order, *, create: bool = True) -> dict[str, int | None]:
        """The sale order's partner ids for ``order``; without ``create``, None for a partner not in the ERP yet."""
        customer = next((p for role in CUSTOMER_ROLES if (p := order.party(role)) is not None), None)
        if customer is None:
            raise ErpRejected("the order names no buyer, bill-to or ship-to party", location="parties")

        def partner(party: Party, parent_id: int | None = None) -> int | None:
            ref = party_ref(order, party)
            if create:
                return self.ensure_partner(party, ref=ref, parent_id=parent_id)
            return next(iter(self._sales.partner_ids(ref)), None)

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

    def _products_by(self, field: str, codes: set[str], cache: dict[tuple[str, str], list[int]] | None
                     ) -> dict[str, list[int]]:
        """Product ids per code, read once per pass when a ``cache`` is given."""
        if cache is None:
            return self._sales.products_by(field, codes)
        unknown = {code for code in codes if (field, code) not in cache}
        if unknown:
            found = self._sales.products_by(field, unknown)
            for code in unknown:
                cache[(field, code)] = found.get(code, [])
        return {code: cache[(field, code)] for code in codes if cache[(field, code)]}

    def _resolve_products(self, lines: Iterable[OrderLine], *, cache: dict[tuple[str, str], list[int]] | None = None
                          ) -> dict[str, int]:
        """Product ids by line number, two searches at most; every unknown line named in one rejection."""
        lines = list(lines)
        by_sku = self._products_by("default_code", {line.sku for line in lines if line.sku}, cache)
        unresolved_gtins = {line.gtin for line in lines if line.gtin and not by_sku.get(line.sku or "")}
        by_gtin = self._products_by("barcode", unresolved_gtins, cache)

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
