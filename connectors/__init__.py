"""Clients for the external systems the hub talks to: one sub-package per system, no Dagster imports."""
