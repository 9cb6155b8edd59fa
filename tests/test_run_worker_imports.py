"""What a run worker loads: the Dagster definitions without the libraries only some steps need (issue 10's
per-run overhead), and a store already at the newest revision opened without loading Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command

from hub.settings import sqlite_url
from hub.store import HubStore
from hub.store._engine import _at_head, alembic_config, make_engine

REPO = Path(__file__).resolve().parent.parent


def loaded_after(code: str) -> set[str]:
    """Top-level modules imported in a fresh interpreter after running ``code``."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_loading_the_definitions_leaves_alembic_and_slack_for_the_steps_that_need_them():
    loaded = loaded_after("import hub.definitions")
    assert "dagster" in loaded and "sqlalchemy" in loaded
    assert not {"alembic", "mako", "slack_sdk"} & loaded


def test_a_store_at_the_newest_revision_opens_without_alembic(tmp_path):
    url = sqlite_url(tmp_path / "hub.sqlite3")
    HubStore(url).migrate().dispose()
    loaded = loaded_after(f"from hub.store import HubStore\nHubStore({url!r}).migrate()")
    assert "alembic" not in loaded


def test_a_store_behind_the_newest_revision_is_still_migrated(tmp_path):
    engine = make_engine(sqlite_url(tmp_path / "old.sqlite3"))
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008_edi855")
    assert not _at_head(engine)
    store = HubStore(engine.url.render_as_string(hide_password=False)).migrate()
    assert _at_head(store.engine)
    store.dispose()
    engine.dispose()
