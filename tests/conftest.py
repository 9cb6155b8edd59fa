"""Shared pytest setup. Fixtures that start real servers live in ``tests/fixtures/`` as plugins."""

pytest_plugins = [
    "tests.fixtures.clock",
    "tests.fixtures.dagster_ui",
    "tests.fixtures.openssh",
    "tests.fixtures.postgres",
    "tests.fixtures.store",
]
