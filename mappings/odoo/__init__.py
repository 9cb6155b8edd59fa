"""Canonical orders -> Odoo sale orders (Odoo's wire format itself is ``connectors.erp``).

from mappings.odoo import OdooSalesGateway

with OdooJson2Client(OdooConfig(base_url=..., api_key=...)) as client:
    result = OdooSalesGateway(client).push_sale_order(order, client_order_ref="4500012345")
    # result.action: created / updated / unchanged / needs_review
    cancelled = OdooSalesGateway(client).cancel_sale_order(order, client_order_ref="4500012345")
"""

from mappings.odoo._gateway import OdooSalesGateway
from mappings.odoo._results import CancelResult, PushResult
from mappings.odoo._values import party_ref, sale_order_origin

__all__ = ["CancelResult", "OdooSalesGateway", "PushResult", "party_ref", "sale_order_origin"]
