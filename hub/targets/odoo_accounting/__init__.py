"""Odoo as an accounting target (kind ``odoo``): customer invoices and credit notes as ``account.move``.

Its Dagster resource is imported only when a connection is built, as for the Odoo order target.
"""

from typing import Any

from hub.targets._accounting import AccountingKind, register_accounting_kind
from hub.targets.odoo_accounting._target import OdooAccountingTarget


def accounting_connection(name: str) -> Any:
    """The Dagster resource of the Odoo accounting target ``name`` (``HUB_<NAME>_URL``, ``_DATABASE``, ``_API_KEY``)."""
    from hub.targets.odoo_accounting._resource import ErpAccountingResource

    return ErpAccountingResource.from_env(name)


ODOO_ACCOUNTING = register_accounting_kind(AccountingKind(
    kind="odoo", connection=accounting_connection,
    description="Odoo 19+ customer invoices (account.move) over the External JSON-2 API",
))

__all__ = ["ODOO_ACCOUNTING", "OdooAccountingTarget", "accounting_connection"]
