"""``make demo``'s closing hint, and a fresh demo store after ``rm -rf var/`` with the instance kept."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import dagster as dg
import pytest

from hub import store as st
from hub.settings import sqlite_url
from sandbox import demo

SENSOR_TAGS = {"dagster/run_key": "acme:acme_po_4500012345.x12:abc", "dagster/sensor_name": "sftp_inbox_acme"}


def test_the_closing_hint_names_the_open_exception(sqlite_store):
    with sqlite_store.transaction() as conn:
        for reason in ("an older one", "the broken file"):
            newest = st.open_exception(conn, channel="sftp", kind=st.ExceptionKind.REJECTED_DOCUMENT,
                                       reason=reason, now=dt.datetime(2026, 12, 4, tzinfo=dt.UTC), partner_id="acme")
    lines: list[str] = []
    demo.print_next_steps(lines.append, sqlite_store)
    text = "\n".join(lines)
    assert f"hub exceptions show {newest}" in text, text
    assert "make ui" in text
    assert "bin/hub" in text and "/activate" in text, "says how to run hub (the venv's script or activating it)"
    # The demo's store is not the default one here: the command names it, so it shows the same queue.
    assert f"HUB_DATABASE_URL={sqlite_store.url}" in text


def test_the_hint_names_the_demos_profiles_when_they_are_not_the_samples(sqlite_store, tmp_path, monkeypatch):
    # The demo lays its overlay (855, 856, carrier) over the samples in a folder of its own: a replay typed in
    # another shell must read the same profiles.
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(tmp_path / "partners"))
    lines: list[str] = []
    demo.print_next_steps(lines.append, sqlite_store)
    assert f"HUB_PARTNERS_DIR={tmp_path / 'partners'} " in "\n".join(lines)
    monkeypatch.delenv("HUB_PARTNERS_DIR")
    lines.clear()
    demo.print_next_steps(lines.append, sqlite_store)
    assert "HUB_PARTNERS_DIR" not in "\n".join(lines)


def test_without_exceptions_the_hint_is_the_list_command(sqlite_store):
    lines: list[str] = []
    demo.print_next_steps(lines.append, sqlite_store)
    assert any(line.strip().endswith("hub exceptions list") for line in lines), lines
    assert not any("exceptions show" in line for line in lines)


@dg.op(pool="sftp_acme")  # the inbox jobs' steps hold a pool slot, as here
def _noop() -> None:
    pass


@dg.job
def _intake_like() -> None:
    _noop()


def _launch_sensor_run(home: Path) -> None:
    """One run keyed as an inbox sensor's, as an earlier demo left it in the instance."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert _intake_like.execute_in_process(instance=instance, tags=SENSOR_TAGS).success


def _keyed_runs(home: Path) -> int:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return len(instance.get_run_records(dg.RunsFilter(tags=SENSOR_TAGS)))


@pytest.fixture
def demo_home(tmp_path, monkeypatch) -> Path:
    """The demo's own instance in a temporary folder; no store setting from outside."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    # As the demo's dagster.yaml: one slot per pool.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    monkeypatch.setattr(demo, "DEMO_DAGSTER_HOME", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    return home


def test_a_new_store_forgets_the_runs_of_the_removed_one(demo_home, tmp_path):
    _launch_sensor_run(demo_home)
    said: list[str] = []
    demo._prepare_environment(tmp_path / "var", said.append)
    assert os.environ["HUB_DATABASE_URL"] == sqlite_url(tmp_path / "var" / "hub.sqlite3")
    assert _keyed_runs(demo_home) == 0, "the sensor would skip the sample files' run keys"
    assert any("forgot 1 run(s)" in line for line in said), said
    # The pool still has its slot: the next run's step gets it (wiping the whole event log would leave
    # the pool's limit without slots, and every step waiting forever).
    finished = threading.Thread(target=_launch_sensor_run, args=(demo_home,), daemon=True)
    finished.start()
    finished.join(timeout=60)
    assert not finished.is_alive(), "the step waits for a pool slot that no longer exists"
    assert _keyed_runs(demo_home) == 1


def test_an_existing_store_keeps_its_runs(demo_home, tmp_path):
    _launch_sensor_run(demo_home)
    st.HubStore(sqlite_url(tmp_path / "var" / "hub.sqlite3")).migrate().dispose()
    demo._prepare_environment(tmp_path / "var", lambda _text: None)
    assert _keyed_runs(demo_home) == 1


def test_an_instance_not_the_demos_is_never_wiped(demo_home, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(other))
    _launch_sensor_run(other)
    said: list[str] = []
    demo._prepare_environment(tmp_path / "var", said.append)
    assert _keyed_runs(other) == 1
    assert any("earlier run(s)" in line for line in said), said
