"""Dagster definitions for Shopify stores: each store's API resource (its sync comes from ``channels/``)."""
