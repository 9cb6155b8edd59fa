"""Odoo ERP over the External JSON-2 API (Odoo 19+): a generic client and sales records in Odoo's terms.

from connectors.erp import OdooConfig, OdooJson2Client, OdooSales

with OdooJson2Client(OdooConfig(base_url=..., api_key=...)) as client:
    found = OdooSales(client).sale_orders_by_ref(["4500012345"], origin="orderhub:acme")

Canonical orders become Odoo values in ``mappings.odoo`` (``OdooSalesGateway``).
"""

from connectors.erp._accounting import Move, MoveLine, OdooAccounting, invoice_line_values
from connectors.erp._client import OdooJson2Client
from connectors.erp._config import OdooConfig
from connectors.erp._errors import (
    ErpRejected,
    ErpWriteInDoubt,
    error_from_response,
    is_duplicate_reference,
    retry_after_seconds,
)
from connectors.erp._models import (
    CANCELLED,
    QUOTATION_STATES,
    SaleOrderLine,
    SaleOrderRef,
    many2one_id,
    odoo_str,
)
from connectors.erp._sales import OdooSales
from connectors.erp._stock import IncomingMove, OdooStock, ProductStock, Warehouse

__all__ = [
    "CANCELLED",
    "QUOTATION_STATES",
    "ErpRejected",
    "ErpWriteInDoubt",
    "IncomingMove",
    "Move",
    "MoveLine",
    "OdooAccounting",
    "OdooConfig",
    "OdooJson2Client",
    "OdooSales",
    "OdooStock",
    "ProductStock",
    "SaleOrderLine",
    "SaleOrderRef",
    "Warehouse",
    "error_from_response",
    "invoice_line_values",
    "is_duplicate_reference",
    "many2one_id",
    "odoo_str",
    "retry_after_seconds",
]
