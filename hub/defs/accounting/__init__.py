"""Dagster definitions for invoicing delivered orders (``<target>_invoices``) with the hold gate."""
