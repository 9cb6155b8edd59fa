"""Dagster definitions for the ERP target."""
