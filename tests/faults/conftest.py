"""Fault-injection scenarios. Every test here is marked ``faults``; long ones also ``slow_faults``
(left out of ``make test``, run by ``make faults``)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)
