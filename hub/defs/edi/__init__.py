"""Dagster definitions for EDI over SFTP."""
