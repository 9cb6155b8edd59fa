"""The match's finding categories: plain names, importable without polars (the Dagster checks use them)."""

EXCEPTIONS = ("price_variance", "over_billed", "over_shipped", "shipped_not_invoiced", "invoiced_not_shipped",
              "invoice_without_po", "shipment_without_po", "duplicate_invoice", "sku_mismatch")
INFORMATIONAL = ("partial_shipment_billed", "within_tolerance", "open_not_shipped")
