"""Invoices of delivered orders: the ``<target>_invoices`` asset, with the hold gate and a check per category.

The asset goes over the orders delivered to the target (their outbox delivery done) and runs
``hub.accounting.invoice_order`` on each: what was delivered and not billed yet is matched, then posted or
held; released invoices are sent; held ones re-matched. Running it again creates nothing twice: each
document is stored under its reference before it is sent and looked up in the target first.
"""


import os
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg

from hub import store as st
from hub.defs._policies import OWNERS, retry_when_retriable
from hub.matching import EXCEPTIONS

TOLERANCES_ENV = "HUB_MATCH_TOLERANCES"
"""A tolerances file (YAML or JSON, as ``hub match --tolerances``) the hold gate uses; unset: exact."""


def load_tolerances() -> Any:
    """The hold gate's tolerances: ``HUB_MATCH_TOLERANCES``'s file, else exact (no limit)."""
    from hub.matching import Tolerances

    path = os.environ.get(TOLERANCES_ENV, "").strip()
    if not path:
        return Tolerances()
    import yaml

    return Tolerances.parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def invoice_delivered_orders(store: st.HubStore, target: Any, tolerances: Any) -> Counter[str]:
    """Invoice every order delivered to ``target`` (``hub.accounting.invoice_order``); how many of each action."""
    from hub.accounting import invoice_order, orders_with_work

    with store.transaction() as conn:
        stored = [st.load_stored_order(conn, order_id) for order_id in st.delivered_order_ids(conn, target.name)]
    actions: Counter[str] = Counter()
    # Only orders with something new (a few ERP calls for all of them), not seven calls per order ever invoiced.
    for order in orders_with_work(store, target, stored):
        for result in invoice_order(store, target, order.order, order_id=order.id, cancelled=order.cancelled,
                                    tolerances=tolerances):
            actions[result.action if result.kind == "invoice" else f"credit_note_{result.action}"] += 1
            _queue(store, target.name, order, result)
    return actions


def _queue(store: st.HubStore, name: str, order: st.StoredOrder, result: Any) -> None:
    """A document the target refused goes to the exception queue (once); posted later, its exception closes."""
    kind, now = f"{name}_invoice_rejected", st.utcnow()
    with store.transaction() as conn:
        if result.action == "rejected":
            st.open_exception(conn, channel=f"{name}_invoices", kind=kind, reason=result.detail, now=now,
                              partner_id=order.order.partner_id, order_id=order.id, document_ref=result.reference)
        elif result.action == "posted":
            exception_id = st.open_invoice_exception(conn, kind=kind, reference=result.reference)
            if exception_id is not None:
                st.close_exception(conn, exception_id, state=st.RESOLVED, now=now,
                                   note=f"posted as {result.record} by a later invoicing run")


def build_invoicing_assets(name: str, upstream: dg.AssetKey, resource: str
                           ) -> tuple[dg.AssetsDefinition, list[dg.AssetChecksDefinition]]:
    """The invoicing asset of target ``name`` (downstream of its push asset ``upstream``) and its checks; the
    resource ``resource`` opens the accounting target (``accounting(name)``)."""

    @dg.asset(name=f"{name}_invoices", group_name=name, kinds={"odoo"}, deps=[upstream], pool=name, owners=OWNERS,
              required_resource_keys={"hub_store", resource},
              description=f"Delivered orders invoiced in {name}: matched first, held on an exception until released "
                          "(hub holds release), posted once; credit notes for returns and cancellations.")
    def invoices(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        store = context.resources.hub_store.store()
        connection = getattr(context.resources, resource)
        with retry_when_retriable(context), connection.accounting(name) as target:
            actions = invoice_delivered_orders(store, target, load_tolerances())
        with store.transaction() as conn:
            by_state = Counter(str(invoice.state) for invoice in st.list_invoices(conn, limit=1_000_000))
            held = st.held_by_category(conn)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": by_state.get(st.InvoiceState.POSTED, 0),
            "this_run": dg.MetadataValue.json(dict(sorted(actions.items()))),
            "by_state": dg.MetadataValue.json(dict(sorted(by_state.items()))),
            "held_by_category": dg.MetadataValue.json(held),
        })

    return invoices, [_held_check(invoices, category) for category in EXCEPTIONS]


def _held_check(asset: dg.AssetsDefinition, category: str) -> dg.AssetChecksDefinition:
    """Passes when no held invoice names ``category`` (a warning: held invoices wait for a person)."""

    @dg.asset_check(asset=asset, name=f"no_invoice_held_for_{category}", required_resource_keys={"hub_store"},
                    description=f"No invoice is held for {category} (hub holds list).")
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        with context.resources.hub_store.store().transaction() as conn:
            held = [invoice for invoice in st.list_invoices(conn, state=st.InvoiceState.HELD, limit=1_000_000)
                    if any(finding.get("category") == category for finding in invoice.findings)]
        return dg.AssetCheckResult(
            passed=not held, severity=dg.AssetCheckSeverity.WARN,
            metadata={"held": len(held), "invoices": dg.MetadataValue.json([i.id for i in held[:50]])})

    return check
