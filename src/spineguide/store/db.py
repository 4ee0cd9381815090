"""Engine and session factories: SQLite by default (WAL, foreign keys, busy timeout, write
transactions that start with BEGIN IMMEDIATE), PostgreSQL by URL.

SQLAlchemy is told to hide bound parameters in its error messages, so a failing statement never
carries patient text into a traceback or a log line.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("var") / "spineguide.sqlite3"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ALEMBIC_INI = Path(__file__).parent / "alembic.ini"


def database_url(url: str | None = None) -> str:
    """The database URL: the argument, else SPINEGUIDE_DATABASE_URL, else ./var SQLite file."""
    url = url or os.environ.get("SPINEGUIDE_DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "sg_read_only"  # execution option: a read-only transaction may BEGIN DEFERRED


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver must not open transactions itself: we emit BEGIN (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE for transactions that may write, BEGIN (deferred) for read-only ones.

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another writer committed in between (WAL snapshot upgrade); IMMEDIATE takes the write
    lock first and waits for it under busy_timeout instead.
    """
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files (and their folder) are created on first use."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("hide_parameters", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", 30)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("hide_parameters", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory for transactions that may write (SQLite: BEGIN IMMEDIATE)."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory for read-only work (SQLite: deferred BEGIN, runs beside writers)."""
    return sessionmaker(
        engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False
    )


def alembic_config(engine: Engine) -> Any:
    """An Alembic Config pointing at the packaged migrations and this engine."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolates "%": escape it (URL-encoded passwords and options contain it)
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database, or None when not migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() or ""


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def aware(dt: datetime) -> datetime:
    """Treat naive datetimes read back from SQLite as UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
