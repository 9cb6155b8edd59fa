"""The PostgreSQL fixture gives a real server, reachable the way the hub and Dagster reach it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.integration


def test_hub_engine_round_trips_rows_through_psycopg3(postgres_server: PostgresServer, fresh_postgres_database: str):
    engine = sa.create_engine(postgres_server.url(fresh_postgres_database))
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE purchase_order (po_number text PRIMARY KEY, lines int)"))
            connection.execute(
                sa.text("INSERT INTO purchase_order VALUES (:po, :lines)"),
                [{"po": "PO-1", "lines": 3}, {"po": "PO-2", "lines": 5}],
            )
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT po_number, lines FROM purchase_order ORDER BY 1")).all()
            version = connection.execute(sa.text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("PO-1", 3), ("PO-2", 5)]
    assert version.startswith("15.")


def test_each_test_gets_an_empty_database(postgres_server: PostgresServer, fresh_postgres_database: str):
    engine = sa.create_engine(postgres_server.url(fresh_postgres_database))
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()
    assert tables == []  # the table created by the previous test lives in another database


def test_password_is_required(postgres_server: PostgresServer):
    wrong = postgres_server.url().replace(postgres_server.password, "not-the-password")
    engine = sa.create_engine(wrong)
    try:
        with pytest.raises(sa.exc.OperationalError, match="password authentication failed"):
            engine.connect()
    finally:
        engine.dispose()


def test_dagster_settings_name_the_psycopg2_driver(postgres_server: PostgresServer):
    assert postgres_server.dagster_url.startswith("postgresql+psycopg2://")
    assert postgres_server.dagster_postgres_db("x")["scheme"] == "postgresql+psycopg2"
    engine = sa.create_engine(postgres_server.dagster_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT current_user")).scalar_one() == postgres_server.user
    finally:
        engine.dispose()
