"""Shared pytest setup. Fixtures that start real servers live in ``tests/fixtures/`` as plugins."""

pytest_plugins = [
    "tests.fixtures.openssh",
    "tests.fixtures.postgres",
    "tests.fixtures.store",
]
