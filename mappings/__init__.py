"""Declarative mappings: partner profiles, X12 maps, and wire-format <-> canonical mappers."""
