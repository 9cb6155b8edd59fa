"""Shared pytest setup. Fixtures that start real servers live in ``tests/fixtures/`` as plugins; constants
many modules share (``PARTNERS``, the golden data folders, the sandbox ERP's key) are imported from there."""

pytest_plugins = [
    "tests.fixtures.clock",
    "tests.fixtures.dovecot",
    "tests.fixtures.dagster_ui",
    "tests.fixtures.erp",
    "tests.fixtures.openssh",
    "tests.fixtures.postgres",
    "tests.fixtures.store",
]
