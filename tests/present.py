"""``present(value)``: a value the test needs, failing the test when it is None (and typed without None)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: str = "value") -> T:
    """``value``, asserting it is not None: the test fails here instead of deep in the code under test."""
    assert value is not None, f"expected a {what}, got None"
    return value
