"""Invoicing delivered orders through an accounting target, with the hold gate (issue 13 points 1 and 4).

``invoice_order`` bills what was delivered and not billed yet, matched first (``match_invoice``): an
invoice with an exception is held in the store until a person releases it (``hub holds release``) or a
re-match finds it within tolerance; returns and cancellations after invoicing become credit notes.
docs/three-way-match.md (holds) and docs/adding-a-target.md (accounting targets) describe it.
"""

from hub.accounting._gate import match_invoice, net_invoiced
from hub.accounting._invoicing import Invoiced, invoice_order, invoice_reference, orders_with_work

__all__ = ["Invoiced", "invoice_order", "invoice_reference", "match_invoice", "net_invoiced", "orders_with_work"]
