"""Engines and schema migrations for the hub store (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:  # Alembic (with Mako) is imported only to migrate: ~0.15 s off every run worker's start
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*['\"]([^'\"]+)['\"]", re.M)


SQLITE_BUSY_TIMEOUT = 30
"""Seconds a SQLite transaction waits for another writer (``?timeout=`` in the URL overrides it)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout for concurrent runs.

    SQLite keeps pysqlite's transactions, which begin at the first write: reads before it see the
    latest commit, and a writer never fails upgrading an old read snapshot. Work that must not run
    twice claims its row by compare-and-set (receipts, deliveries), which is safe on both backends.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # normalized_query holds every value as a tuple (a key may repeat): the last one wins.
        timeout = float(parsed.normalized_query.get("timeout", (str(SQLITE_BUSY_TIMEOUT),))[-1])
        engine = create_engine(parsed.difference_update_query(["timeout"]), connect_args={"timeout": timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if parsed.drivername == "postgresql":
        # SQLAlchemy 2.1 defaults to psycopg 3 anyway; say so explicitly so the URL means one thing.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest revision (idempotent)."""
    if _at_head(engine):  # what every run worker finds: nothing to do, and no Alembic to load for it
        return
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _at_head(engine: Engine) -> bool:
    """True when the store's ``alembic_version`` is the one head of the migration files; False when unsure.

    The head is read from the files' ``revision``/``down_revision`` lines; anything else (two heads,
    a tuple of parents, no version table yet) answers False and Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        return False
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False
    return list(versions) == list(heads)
