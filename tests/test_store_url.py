"""The store's URL is decided in one place, and every entry point opens the store it decides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from hub.settings import resolve_database_url, sqlite_url


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No store settings from the outer environment; the data folder is a fresh temporary one."""
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_hub_database_url_wins_when_set(env):
    env.setenv("HUB_DATABASE_URL", "postgresql+psycopg://hub@127.0.0.1:5999/hub")
    assert resolve_database_url() == "postgresql+psycopg://hub@127.0.0.1:5999/hub"
    assert resolve_database_url(data_dir=Path("/elsewhere")) == "postgresql+psycopg://hub@127.0.0.1:5999/hub"
    assert resolve_database_url("sqlite:///given.sqlite3") == "sqlite:///given.sqlite3", "a URL given explicitly wins"


def test_unset_means_the_sqlite_file_in_the_data_folder(env, tmp_path):
    assert resolve_database_url() == f"sqlite:///{tmp_path / 'data' / 'hub.sqlite3'}"
    env.setenv("HUB_DATABASE_URL", "")
    assert resolve_database_url() == f"sqlite:///{tmp_path / 'data' / 'hub.sqlite3'}", "empty counts as unset"


def test_a_data_folder_given_or_relative_still_gives_an_absolute_file(env, tmp_path):
    assert resolve_database_url(data_dir=tmp_path / "demo") == f"sqlite:///{tmp_path / 'demo' / 'hub.sqlite3'}"
    env.chdir(tmp_path)
    env.setenv("HUB_DATA_DIR", "var")
    assert resolve_database_url() == f"sqlite:///{tmp_path / 'var' / 'hub.sqlite3'}"
    assert sqlite_url(Path("x.sqlite3")) == f"sqlite:///{tmp_path / 'x.sqlite3'}"


def test_alembic_run_by_hand_migrates_the_resolved_store(env, tmp_path):
    from hub.store._engine import alembic_config

    command.upgrade(alembic_config(), "head")
    engine = create_engine(sqlite_url(tmp_path / "data" / "hub.sqlite3"))
    try:
        assert {"receipts", "orders", "outbox", "exceptions"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_dagster_resource_without_a_url_opens_the_resolved_store(env, tmp_path):
    from hub.defs.resources import HubStoreResource

    store = HubStoreResource(partners_dir=str(tmp_path)).store()
    assert store.url == resolve_database_url() == f"sqlite:///{tmp_path / 'data' / 'hub.sqlite3'}"
    assert (tmp_path / "data" / "hub.sqlite3").exists(), "migrated on first use"
    store.dispose()


def test_the_demo_exports_the_resolved_url_for_dagster_and_the_webhook_endpoint(env, tmp_path):
    from sandbox.demo import _prepare_environment

    env.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    _prepare_environment(tmp_path / "demo")
    assert os.environ["HUB_DATABASE_URL"] == f"sqlite:///{tmp_path / 'demo' / 'hub.sqlite3'}"
    assert resolve_database_url() == os.environ["HUB_DATABASE_URL"]
    env.setenv("HUB_DATABASE_URL", "sqlite:///chosen.sqlite3")
    _prepare_environment(tmp_path / "demo")
    assert os.environ["HUB_DATABASE_URL"] == "sqlite:///chosen.sqlite3", "a URL the operator set is kept"
