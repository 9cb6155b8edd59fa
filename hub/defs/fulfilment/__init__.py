"""Dagster definitions for the channels' fulfilments: shipped orders sent back to the store or marketplace."""
