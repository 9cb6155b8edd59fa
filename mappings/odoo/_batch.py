"""Many orders as Odoo sale orders in a handful of calls, with the single push's exactly-once rules.

For a batch (the delivery's, at most the target's ``batch_size``):

1. one ``search_read`` per trading partner: ``client_order_ref in [...]`` scoped by ``origin``; an
   order found there is compared and updated as a single push would (``_update_sale_order``);
2. products by SKU / GTIN and pricelists through a cache kept for the gateway's life (one pass), so
   a catalog is read once, not once per order; an order whose product or currency the ERP lacks
   is refused alone (``ErpRejected`` in its place of the answer);
3. partners by ``ref`` through the same cache: one ``search_read`` for the refs not seen yet, one
   ``create`` (a list) for the missing customers and one for the missing addresses, each looked up
   again after creating so that a concurrent push's partner wins (ours is archived);
4. one ``create`` with the list of the new sale orders' values: Odoo runs one call in one
   transaction, so it commits all of them or none;
5. one ``search_read`` again: a concurrent push of the same reference may have won (ours is
   removed); it also gives the new sale orders' names;
6. with ``confirm``, one ``action_confirm`` on the new ids.

A batch the ERP refuses as a whole (a create that names no culprit) raises ``ErpRejected``:
nothing of its sale orders was written, and the caller splits it to find the order at fault.
A write without an answer raises ``ErpWriteInDoubt``: the next attempt starts with step 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from canonical.model import Order, Party, PartyRole
from connectors.erp import ErpRejected, is_duplicate_reference
from mappings.odoo._results import PushResult
from mappings.odoo._values import (
    CUSTOMER_ROLES,
    date_order,
    line_values,
    note,
    partner_values,
    party_ref,
    sale_order_origin,
)

if TYPE_CHECKING:
    from mappings.odoo._gateway import OdooSalesGateway

_log = logging.getLogger(__name__)

BatchAnswer = PushResult | ErpRejected
"""Per order of a batch: what its push did, or why the ERP refused that order alone."""


class PartnerCache:
    """ERP partner ids by our ``ref``, for one gateway's life; created in batches, races settled."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def resolve(self, gateway: OdooSalesGateway, wanted: dict[str, tuple[Party, str | None]]) -> None:
        """Make every ref of ``wanted`` (ref -> party, parent ref) known: found, else created (customers first)."""
        sales = gateway._sales
        unknown = [ref for ref in wanted if ref not in self.ids]
        if unknown:
            for ref, ids in sales.partners_by_ref(unknown).items():
                if ids:
                    self.ids[ref] = ids[0]
        for parents in (True, False):  # customers, then their addresses (which need the customer's id)
            missing = [ref for ref, (_, parent) in wanted.items()
                       if ref not in self.ids and (parent is None) == parents]
            if not missing:
                continue
            vals = [partner_values(wanted[ref][0], ref=ref,
                                   parent_id=None if wanted[ref][1] is None else self.ids[str(wanted[ref][1])])
                    for ref in missing]
            created = dict(zip(missing, sales.create_partners(vals), strict=True))
            # Two pushes creating the same customer at once: the oldest stays, ours is archived.
            for ref, ids in sales.partners_by_ref(missing).items():
                keeper = min(ids, default=created[ref])
                if keeper != created[ref]:
                    _log.warning("partner ref %s was created concurrently; archiving duplicate partner %s", ref,
                                 created[ref])
                    sales.archive_partner(created[ref])
                self.ids[ref] = keeper


def push_sale_orders(gateway: OdooSalesGateway, batch: Sequence[tuple[Order, str]], *,
                     confirm: bool = False) -> list[BatchAnswer]:
    """Make the ERP hold every order of ``batch`` ((order, client_order_ref) pairs); one answer per order."""
    answers: list[BatchAnswer | None] = [None] * len(batch)
    seen: set[tuple[str, str]] = set()
    later: list[int] = []  # the same reference twice in one batch: the second waits for the first
    for index, (order, ref) in enumerate(batch):
        if not ref or ref != ref.strip():
            raise ValueError("client_order_ref must be a non-empty string without surrounding spaces")
        if (order.partner_id, ref) in seen:
            later.append(index)
        seen.add((order.partner_id, ref))
    first = [i for i in range(len(batch)) if i not in later]
    drafts: list[int] = []  # found as quotations: confirmed with the new ones (an earlier confirm got no answer)
    for _ in range(2):  # again once if the unique reference constraint says one was created meanwhile
        new = _compare_found(gateway, batch, first, answers, drafts)
        try:
            _create(gateway, batch, new, answers, confirm_too=drafts if confirm else None)
            break
        except ErpRejected as exc:
            if not is_duplicate_reference(exc):
                raise
            _log.info("a reference of the batch exists already (unique constraint); looking again")
            first = new
    else:
        raise ErpRejected("the ERP refused the batch twice for a reference that it then did not hold")
    for index in later:
        order, ref = batch[index]
        try:
            answers[index] = gateway.push_sale_order(order, client_order_ref=ref)
        except ErpRejected as exc:
            answers[index] = exc
    return [answer for answer in answers if answer is not None]


def _compare_found(gateway: OdooSalesGateway, batch: Sequence[tuple[Order, str]], indexes: list[int],
                   answers: list[BatchAnswer | None], drafts: list[int]) -> list[int]:
    """Look the batch up per partner; compare (and update) the orders found; the indexes still to create."""
    by_partner: dict[str, list[int]] = {}
    for index in indexes:
        by_partner.setdefault(batch[index][0].partner_id, []).append(index)
    new: list[int] = []
    for partner_id, members in by_partner.items():
        found = gateway.find_sale_orders([batch[i][1] for i in members], partner_id=partner_id)
        for index in members:
            order, ref = batch[index]
            existing = found[ref]
            if not existing:
                new.append(index)
                continue
            if len(existing) > 1:
                _log.warning("ERP holds %d sale orders for ref %s", len(existing), ref)
            try:
                answers[index] = gateway._update_sale_order(order, existing[0])
            except ErpRejected as exc:
                answers[index] = exc
                continue
            if existing[0].state == "draft":
                drafts.append(existing[0].id)
    return new


def _create(gateway: OdooSalesGateway, batch: Sequence[tuple[Order, str]], indexes: list[int],
            answers: list[BatchAnswer | None], *, confirm_too: list[int] | None) -> None:
    """Create the sale orders of ``indexes`` in one call; refused ones answered alone, before any write.

    With ``confirm_too`` (a list, maybe empty, of quotations found), the new ones and those are confirmed.
    """
    ready: list[tuple[int, dict[str, Any]]] = []
    wanted: dict[str, tuple[Party, str | None]] = {}
    for index in indexes:
        order, ref = batch[index]
        try:
            # Products and pricelist first: an order the ERP cannot take must not leave new partners behind.
            product_ids = gateway._resolve_products(order.lines, cache=gateway._product_cache)
            pricelist_id = gateway.pricelist_for(order.currency)
            roles = _partner_refs(order, wanted)
        except ErpRejected as exc:
            answers[index] = exc
            continue
        ready.append((index, {
            "client_order_ref": ref, "pricelist_id": pricelist_id, "date_order": date_order(order),
            "origin": sale_order_origin(order.partner_id),
            "order_line": [(0, 0, line_values(line, product_ids[line.line_no])) for line in order.lines],
            "note": note(order), "_partners": roles,
        }))
    if not ready:
        if confirm_too:
            gateway._sales.confirm_sale_orders(confirm_too)
        return
    partners = gateway._partner_cache
    partners.resolve(gateway, wanted)
    for _, vals in ready:
        vals.update({field: partners.ids[ref] for field, ref in vals.pop("_partners").items()})
    new_ids = gateway._sales.create_sale_orders([vals for _, vals in ready])
    # Look again: a concurrent push of the same reference may have committed first (its sale order stays).
    by_partner: dict[str, list[tuple[int, int]]] = {}
    for (index, _), new_id in zip(ready, new_ids, strict=True):
        by_partner.setdefault(batch[index][0].partner_id, []).append((index, new_id))
    losers: list[int] = []
    for partner_id, members in by_partner.items():
        found = gateway.find_sale_orders([batch[i][1] for i, _ in members], partner_id=partner_id)
        for index, new_id in members:
            ref = batch[index][1]
            keeper = found[ref][0] if found[ref] else None
            if keeper is None or keeper.id == new_id:
                name = keeper.name if keeper else gateway._sales.sale_order_field(new_id, "name")
                answers[index] = PushResult(new_id, name, created=True)
            else:
                _log.warning("ref %s was pushed concurrently; removing duplicate sale order id %s", ref, new_id)
                losers.append(new_id)
                answers[index] = PushResult(keeper.id, keeper.name, created=False)
    if losers:
        gateway._sales.unlink_sale_orders(losers)
    created = [answer.sale_order_id for answer in answers if isinstance(answer, PushResult) and answer.created]
    if confirm_too is not None and (created or confirm_too):
        gateway._sales.confirm_sale_orders(created + confirm_too)
    _log.info("created %d ERP sale orders in one call", len(created))


def _partner_refs(order: Order, wanted: dict[str, tuple[Party, str | None]]) -> dict[str, str]:
    """The sale order's partner fields as our refs (each added to ``wanted`` with its parent's ref)."""
    customer = next((p for role in CUSTOMER_ROLES if (p := order.party(role)) is not None), None)
    if customer is None:
        raise ErpRejected("the order names no buyer, bill-to or ship-to party", location="parties")
    customer_ref = party_ref(order, customer)
    wanted.setdefault(customer_ref, (customer, None))
    fields = {"partner_id": customer_ref}
    for field, role in (("partner_invoice_id", PartyRole.BILL_TO), ("partner_shipping_id", PartyRole.SHIP_TO)):
        party = order.party(role)
        if party is None or party is customer:
            fields[field] = customer_ref
            continue
        ref = party_ref(order, party)
        wanted.setdefault(ref, (party, customer_ref))
        fields[field] = ref
    return fields
