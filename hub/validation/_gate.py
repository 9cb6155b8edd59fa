"""The approval gate: between storing a new order and queuing its deliveries, hold it if it breaks a rule.

The intake wraps a receipt's delivery targets with :func:`gated` (the partner's rules ride along
with the target names, so the intake's signatures stay as they are) and asks :func:`admit` before it
queues an order's deliveries. Holding records an approval (``hub.store``); :mod:`._decisions`
approves or rejects it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, case, func, select

from canonical.model import Order, Source
from hub import store as st
from hub.store._tables import invoices, orders
from hub.targets import InvoiceKind
from hub.validation._engine import Context, Credit, Finding, Product, evaluate
from mappings.profiles import PartnerProfile
from mappings.validation_rules import GLOBAL_RULES_FILE, ValidationRules, load_rules

_MAX_KNOWN = 50_000  # PO numbers of a partner's other channels held per receipt; beyond, one query per order

CREDIT_ERP_KIND = "odoo"
"""The target kind whose ``credit`` (unpaid invoices) the credit rule reads (``hub.validation._sync``)."""

RULES_ENV = "HUB_VALIDATION_RULES"
"""Environment variable naming another global rules file than ``mappings/validation.yaml``."""


@lru_cache(maxsize=8)
def _rules_file(path: str, mtime: float) -> ValidationRules:
    return load_rules(Path(path))


def global_rules() -> ValidationRules:
    """The deployment's rules (``HUB_VALIDATION_RULES`` or ``mappings/validation.yaml``), read again when changed."""
    path = Path(os.environ.get(RULES_ENV) or GLOBAL_RULES_FILE)
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _rules_file(str(path), mtime)


def rules_for(profile: PartnerProfile | None) -> ValidationRules:
    """The global rules with the customer's ``validation:`` on top."""
    return global_rules().merged(profile.validation if profile is not None else None)


class ApprovalGate:
    """One receipt's gate: the partner's rules, and the catalogue read from the store once, on first use."""

    def __init__(self, profile: PartnerProfile | None, rules: ValidationRules | None = None) -> None:
        self.rules = rules if rules is not None else rules_for(profile)
        # The targets that invoice in the ERP the credit is synced from (Odoo, not another accounting system):
        # their invoices are in its ``credit``. Without a profile none is known, and nothing is subtracted.
        self.invoiced_in_credit = frozenset(
            t.name for t in (profile.targets if profile is not None else ())
            if t.kind == CREDIT_ERP_KIND and t.accounting is None)
        self._catalogue: dict[str, Product] | None = None
        self._prices: dict[tuple[str, str], Decimal] = {}
        self._credit: dict[str, Credit | None] = {}
        self._other_channels: dict[tuple[str, str], dict[str, str] | None] = {}  # None: too many, ask each

    def findings(self, conn: Connection, order: Order, *, invoiced: Decimal = Decimal(0)) -> list[Finding]:
        """The rules ``order`` breaks, against what the store knows of the ERP now (``invoiced``: of this order)."""
        return evaluate(order, self.rules, replace(self._context(conn, order), invoiced=invoiced))

    def invoiced(self, conn: Connection, order_id: int, targets: Sequence[str]) -> Decimal:
        """What the hub invoiced of an order in the ERP the credit comes from (posted invoices less posted
        credit notes, at least 0): already in the customer's open amount there."""
        counted = sorted(self.invoiced_in_credit.intersection(targets))
        if not counted or not self.rules.credit_limit:
            return Decimal(0)
        sign = case((invoices.c.kind == InvoiceKind.CREDIT_NOTE, -invoices.c.amount), else_=invoices.c.amount)
        total = conn.execute(select(func.sum(sign)).where(
            (invoices.c.order_id == order_id) & invoices.c.target.in_(counted)
            & (invoices.c.state == st.InvoiceState.POSTED))).scalar_one_or_none()
        return max(Decimal(total or 0), Decimal(0))

    def _context(self, conn: Connection, order: Order) -> Context:
        if self._catalogue is None:
            self._catalogue = {p.sku: Product(p.sku, p.list_price, p.currency, p.pack_qty, p.active)
                               for p in st.catalogue(conn)}
            self._prices = {(p.sku, p.currency): p.price for p in st.pricelist_prices(conn) if p.price is not None}
        if order.partner_id not in self._credit:
            synced = st.credit_of(conn, order.partner_id)
            self._credit[order.partner_id] = None if synced is None else Credit(
                synced.credit_limit, synced.open_amount or Decimal(0), synced.currency)
        duplicate_of = self._duplicate_of(conn, order) if self.rules.duplicate_po else None
        return Context(self._catalogue, self._prices, self._credit[order.partner_id], duplicate_of)

    def _duplicate_of(self, conn: Connection, order: Order) -> str | None:
        """The other channel that brought this customer's PO number already, if any.

        A receipt's orders share partner and channel: the PO numbers of the partner's other channels
        are read once (usually there are none), so a 10,000-order file costs no query per order.
        """
        key = (order.partner_id, order.source.value)
        known = self._other_channels.get(key, {})
        if known is not None and key in self._other_channels:
            return known.get(order.source_ref)
        # The other sources by name: the unique index (source, partner, PO) answers, no scan of the orders.
        others = orders.c.source.in_([s.value for s in Source if s != order.source]) \
            & (orders.c.partner_id == order.partner_id)
        if key not in self._other_channels:
            rows = conn.execute(select(orders.c.source_ref, orders.c.source).where(others)
                                .limit(_MAX_KNOWN + 1)).all()
            self._other_channels[key] = known = dict(rows) if len(rows) <= _MAX_KNOWN else None
            if known is not None:
                return known.get(order.source_ref)
        return conn.execute(select(orders.c.source).where(others & (orders.c.source_ref == order.source_ref))
                            .limit(1)).scalar_one_or_none()


class GatedTargets(tuple[str, ...]):
    """A receipt's delivery targets with the gate their orders pass first."""

    gate: ApprovalGate

    def __new__(cls, targets: Sequence[str], gate: ApprovalGate) -> GatedTargets:
        """The targets, carrying ``gate``."""
        made = super().__new__(cls, tuple(targets))
        made.gate = gate
        return made


def gated(targets: Sequence[str], profile: PartnerProfile | None) -> GatedTargets:
    """``targets`` with the gate of ``profile``'s rules."""
    return GatedTargets(targets, ApprovalGate(profile))


def needs_approval(conn: Connection, order: Order, targets: Sequence[str]) -> bool:
    """Whether ``order`` would be held (the bulk intake path sends such orders down the one-by-one path)."""
    gate = getattr(targets, "gate", None)
    return bool(gate is not None and targets and gate.findings(conn, order))


def admit(conn: Connection, order: Order, order_id: int, targets: Sequence[str], *, now: dt.datetime) -> bool:
    """True if the new order ``order_id`` may be queued for ``targets``; else it is held for approval.

    Targets without a gate (not from :func:`gated`) admit every order.
    """
    gate = getattr(targets, "gate", None)
    if gate is None or not targets:
        return True
    findings = gate.findings(conn, order)
    if not findings:
        return True
    st.hold_order(conn, order_id=order_id, partner_id=order.partner_id, source=order.source.value,
                  source_ref=order.source_ref, findings=[f.as_dict() for f in findings], targets=list(targets),
                  now=now)
    st.add_event(conn, order_id, "held", {"reason": st.AWAITING_APPROVAL,
                                          "rules": sorted({f.rule.value for f in findings})}, now=now)
    return False


def admit_new_version(conn: Connection, order_id: int, targets: Sequence[str], *, now: dt.datetime) -> bool:
    """For a new version of a stored order: True if its deliveries may follow it; else it is (still) held.

    Every new version is judged on its content, as a new order is: a person's yes (or the absence of a
    question) was about the content seen then. A rejected order stays rejected. Breaking rules, the
    order is pending approval (a first hold, or again with the new findings) and its deliveries not yet
    sent are paused, so each target keeps the version it has until a person decides; breaking none, a
    held one is released by the hub (audited) and any other flows on.
    """
    approval = st.approval_of_order(conn, order_id)
    gate = getattr(targets, "gate", None)
    if (approval is not None and approval.state == st.ApprovalState.REJECTED) or gate is None or not targets:
        return not st.keep_held(conn, order_id)
    stored = st.load_stored_order(conn, order_id)
    findings = gate.findings(conn, stored.order, invoiced=gate.invoiced(conn, order_id, targets))
    if not findings:
        if approval is not None and approval.state == st.ApprovalState.PENDING:
            st.decide_approval(conn, approval.id, state=st.ApprovalState.APPROVED, by="hub", now=now,
                               note=f"revision {stored.revision} breaks no rule")
        return True
    broken = [f.as_dict() for f in findings]
    if approval is None:
        order = stored.order
        st.hold_order(conn, order_id=order_id, partner_id=order.partner_id, source=order.source.value,
                      source_ref=order.source_ref, findings=broken, targets=list(targets), now=now,
                      note=f"revision {stored.revision}: {len(findings)} rule(s) broken")
    else:
        earlier = "" if approval.state == st.ApprovalState.PENDING else \
            f"; the {approval.state} decision was for an earlier version"
        st.hold_again(conn, approval.id, findings=broken, now=now,
                      note=f"revision {stored.revision}: {len(findings)} rule(s) broken{earlier}")
    for target in targets:
        delivery = st.delivery_of(conn, order_id=order_id, target=target)
        if delivery is not None and delivery.state in (st.PENDING, st.FAILED):
            # A write that got no answer keeps its mark: the target's writes wait until it can no longer commit.
            doubt = f"; {delivery.last_error}" if st.in_doubt_until(delivery.last_error) else ""
            st.finish_delivery(conn, delivery.id, state=st.SKIPPED, now=now, error=f"held for approval{doubt}")
    st.add_event(conn, order_id, "held", {"reason": st.AWAITING_APPROVAL, "revision": stored.revision,
                                          "rules": sorted({f.rule.value for f in findings})}, now=now)
    return False
