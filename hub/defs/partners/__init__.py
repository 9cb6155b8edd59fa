"""The partner profiles as Dagster components (``defs.yaml``), read when Dagster loads the definitions."""
