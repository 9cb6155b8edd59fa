"""orderhub's services: store, intake, delivery, reconciliation, Dagster definitions and the CLI."""

from canonical import __version__

__all__ = ["__version__"]
