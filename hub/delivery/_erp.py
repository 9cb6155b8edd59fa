"""The ERP's deliveries: the generic delivery loop with the Odoo target around a sales gateway."""

from __future__ import annotations

import datetime as dt

from hub import store as st
from hub.delivery._orders import PushSummary, deliver_due_orders
from hub.targets.odoo import OdooTarget, SalesOrderTarget


def push_due_orders(
    store: st.HubStore, erp: SalesOrderTarget, *, max_attempts: int = 5, limit: int = 500,
    now: dt.datetime | None = None, batch_size: int | None = None, in_flight: int | None = None,
) -> PushSummary:
    """Make the ERP (outbox target ``erp``) match every order with a due delivery, once; see ``deliver_due_orders``."""
    return deliver_due_orders(store, OdooTarget(erp), max_attempts=max_attempts, limit=limit, now=now,
                              batch_size=batch_size, in_flight=in_flight)
