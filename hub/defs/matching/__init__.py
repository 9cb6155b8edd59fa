"""Dagster definitions for the store-wide three-way match: a daily-partitioned asset, its checks, sensor, schedule."""
