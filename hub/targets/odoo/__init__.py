"""The Odoo ERP target (kind ``odoo``): orders become sale orders over Odoo's JSON-2 API.

Its Dagster resource (``_resource.ErpResource``) is imported only when a connection is built, so
services that deliver to a target they are handed never import Dagster.
"""

from typing import Any

from hub.targets._registry import TargetKind, register_target_kind
from hub.targets.odoo._target import OdooTarget, SalesOrderTarget, erp_reference


def erp_connection(name: str, **settings: Any) -> Any:
    """The Dagster resource of the Odoo target ``name`` (``HUB_<NAME>_URL``, ``_DATABASE``, ``_API_KEY``), with the
    profiles' delivery settings (``batch_size``, ``in_flight``, ``confirm_orders``)."""
    from hub.targets.odoo._resource import ErpResource

    return ErpResource.from_env(name, **settings)


ODOO = register_target_kind(TargetKind(
    kind="odoo", connection=erp_connection, records="sales_orders", batches=True,
    description="Odoo 19+ sale orders over the External JSON-2 API",
))

__all__ = ["ODOO", "OdooTarget", "SalesOrderTarget", "erp_connection", "erp_reference"]
