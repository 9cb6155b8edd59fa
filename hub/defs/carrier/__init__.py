"""Dagster definitions for carrier targets: polling the trackers their webhooks left quiet."""
