"""QuickBooks Online as an accounting target (kind ``quickbooks``): invoices and credit memos over the Accounting
API v3, minorversion 75 (``connectors.quickbooks``).

A profile selects it for the orders of one of its order targets: ``targets: [{kind: odoo, name: erp,
accounting: {kind: quickbooks, customer: "Acme Corporation"}}]``; the ERP still takes the orders and says what
was delivered, QuickBooks gets the invoices. Its connection is its own resource ``<name>_accounting``.
"""

from typing import Any

from hub.targets._accounting import AccountingKind, register_accounting_kind
from hub.targets.quickbooks._target import QuickBooksAccountingTarget, doc_number, request_id
from hub.targets.quickbooks._tokens import StoreTokens


def accounting_connection(name: str) -> Any:
    """The Dagster resource invoicing target ``name``'s orders in QuickBooks (``HUB_QBO_*``, ``HUB_<NAME>_*``)."""
    from hub.targets.quickbooks._resource import QuickBooksResource

    return QuickBooksResource.from_env(name)


QUICKBOOKS_ACCOUNTING = register_accounting_kind(AccountingKind(
    kind="quickbooks", connection=accounting_connection, shares_target_connection=False,
    description="QuickBooks Online invoices and credit memos (Accounting API v3, minorversion 75)",
))

__all__ = ["QUICKBOOKS_ACCOUNTING", "QuickBooksAccountingTarget", "StoreTokens", "accounting_connection",
           "doc_number", "request_id"]
