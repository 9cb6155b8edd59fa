"""Odoo as an accounting target (kind ``odoo``): customer invoices and credit notes as ``account.move``.

The ERP that takes the orders bills them: its connection is the Odoo order target's resource
(``ErpResource.accounting(name)``), under the target's own name; no second set of credentials.
"""

from typing import Any

from hub.targets._accounting import AccountingKind, register_accounting_kind
from hub.targets.odoo_accounting._target import OdooAccountingTarget


def accounting_connection(name: str) -> Any:
    """The Dagster resource of the Odoo target ``name`` (``HUB_<NAME>_URL``, ``_DATABASE``, ``_API_KEY``): the
    order target's own."""
    from hub.targets.odoo._resource import ErpResource

    return ErpResource.from_env(name)


ODOO_ACCOUNTING = register_accounting_kind(AccountingKind(
    kind="odoo", connection=accounting_connection, shares_target_connection=True,
    description="Odoo 19+ customer invoices (account.move) over the External JSON-2 API",
))

__all__ = ["ODOO_ACCOUNTING", "OdooAccountingTarget", "accounting_connection"]
