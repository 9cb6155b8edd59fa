"""Dagster definitions for operations: the exception queue people fix and replay from."""
