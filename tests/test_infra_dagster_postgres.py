"""dagster_home/dagster.postgres.yaml, as shipped, runs a job against a real PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.integration

PRODUCTION_INSTANCE_YAML = Path(__file__).resolve().parent.parent / "dagster_home" / "dagster.postgres.yaml"


@dg.op
def count_purchase_orders() -> int:
    return 3


@dg.job
def instance_smoke_job():
    count_purchase_orders()


@pytest.fixture
def production_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer, fresh_postgres_database: str
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PRODUCTION_INSTANCE_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres_server.host)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(postgres_server.port))
    monkeypatch.setenv("DAGSTER_PG_USER", postgres_server.user)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_server.password)
    monkeypatch.setenv("DAGSTER_PG_DB", fresh_postgres_database)
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_job_run_is_stored_as_success_in_postgres(
    production_instance: dg.DagsterInstance, postgres_server: PostgresServer, fresh_postgres_database: str
):
    result = instance_smoke_job.execute_in_process(instance=production_instance)

    assert result.success
    stored = production_instance.get_run_by_id(result.run_id)
    assert stored is not None
    assert stored.status == dg.DagsterRunStatus.SUCCESS
    # The run really lives in PostgreSQL, not in a SQLite file under DAGSTER_HOME.
    engine = sa.create_engine(postgres_server.url(fresh_postgres_database))
    try:
        with engine.connect() as connection:
            status = connection.execute(
                sa.text("SELECT status FROM runs WHERE run_id = :run_id"), {"run_id": result.run_id}
            ).scalar_one()
    finally:
        engine.dispose()
    assert status == "SUCCESS"


def test_run_queue_limits_are_loaded(production_instance: dg.DagsterInstance):
    from dagster._core.run_coordinator import QueuedRunCoordinator

    assert isinstance(production_instance.run_coordinator, QueuedRunCoordinator)
    run_settings = production_instance.get_concurrency_config().run_queue_config
    assert run_settings.max_concurrent_runs == 10
    assert {limit["key"] for limit in run_settings.tag_concurrency_limits} == {"hub/connector", "dagster/backfill"}
