"""Odoo ERP over the External JSON-2 API (Odoo 19+): a generic client and the sales operations the hub uses.

from connectors.erp import OdooConfig, OdooJson2Client, OdooSalesGateway

with OdooJson2Client(OdooConfig(base_url=..., api_key=...)) as client:
    result = OdooSalesGateway(client).push_sale_order(order, client_order_ref="4500012345")
    # result.action: created / updated / unchanged / needs_review
    cancelled = OdooSalesGateway(client).cancel_sale_order(order, client_order_ref="4500012345")
"""

from connectors.erp._client import OdooJson2Client
from connectors.erp._config import OdooConfig
from connectors.erp._errors import ErpRejected, ErpWriteInDoubt, error_from_response, retry_after_seconds
from connectors.erp._models import CancelResult, PushResult, SaleOrderLine, SaleOrderRef
from connectors.erp._sales import OdooSalesGateway, party_ref, sale_order_origin

__all__ = [
    "CancelResult",
    "ErpRejected",
    "ErpWriteInDoubt",
    "OdooConfig",
    "OdooJson2Client",
    "OdooSalesGateway",
    "PushResult",
    "SaleOrderLine",
    "SaleOrderRef",
    "error_from_response",
    "party_ref",
    "retry_after_seconds",
    "sale_order_origin",
]
