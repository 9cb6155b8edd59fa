"""Dagster definitions for validation: the ERP catalogue the rules read, and the orders waiting for approval."""
