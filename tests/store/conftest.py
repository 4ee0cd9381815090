"""Database fixtures: every store test runs on SQLite, and on PostgreSQL when
SPINEGUIDE_TEST_POSTGRES_URL is set (its public schema is reset for each test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("SPINEGUIDE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema of the test database."""
    from sqlalchemy import text

    from spineguide.store import db

    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url_for(backend: str, tmp_path: Path) -> str:
    """A fresh, empty database URL for the backend (skips postgres without a server)."""
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("SPINEGUIDE_TEST_POSTGRES_URL is not set")
        reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'spineguide-test.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per backend."""
    return database_url_for(request.param, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[object]:
    """A migrated engine."""
    from spineguide.store import db

    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: object) -> object:
    """A session factory on the migrated database."""
    from spineguide.store import db

    return db.make_session_factory(engine)  # type: ignore[arg-type]
