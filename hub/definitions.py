"""The Dagster code location: ``dagster dev -m hub.definitions``."""

from hub.defs import build_definitions

defs = build_definitions()
