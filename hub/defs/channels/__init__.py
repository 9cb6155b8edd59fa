"""Dagster definitions for API channels: one sync asset, job and schedule per store or seller account."""
