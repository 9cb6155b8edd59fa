"""Dagster definitions for inventory: the ERP's stock and ATP per warehouse, and order lines allocated to them."""
