"""API fixtures: an app per test on SQLite (and PostgreSQL when SPINEGUIDE_TEST_POSTGRES_URL is
set), users with bearer tokens, and the example CDS Hooks requests in tests/data/fhir."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import make_settings, reset_postgres

ROOT = Path(__file__).resolve().parents[2]
FHIR_DIR = ROOT / "tests" / "data" / "fhir"
PG_URL = os.environ.get("SPINEGUIDE_TEST_POSTGRES_URL")


def _client(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database per test, once per backend."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("SPINEGUIDE_TEST_POSTGRES_URL is not set")
        reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'api.sqlite3'}"


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    """The application on a fresh, migrated database."""
    from spineguide.api.app import create_app

    application = create_app(make_settings(db_url))
    yield application
    application.state.sg.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A test client (server errors come back as responses, never as exceptions)."""
    with _client(app) as c:
        yield c


@pytest.fixture
def make_client() -> Callable[[Any], Any]:
    """Build extra clients for an app (e.g. a second browser)."""
    return _client


@pytest.fixture
def create_user(app: Any) -> Callable[..., None]:
    """Create a user directly in the database."""
    from spineguide.api.security import hash_password
    from spineguide.store import repository as repo

    def _create(username: str, password: str = "correct horse", role: str = "clinician") -> None:
        with app.state.sg.sessions.begin() as s:
            repo.create_user(s, username, hash_password(password), role=role)

    return _create


@pytest.fixture
def token_for(client: Any, create_user: Callable[..., None]) -> Callable[..., dict[str, str]]:
    """Create a user and return Authorization headers with a fresh bearer token."""

    def _token(username: str, role: str = "clinician") -> dict[str, str]:
        create_user(username, "pw-" + username, role)
        r = client.post(
            "/api/v1/auth/token", json={"username": username, "password": "pw-" + username}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return _token


@pytest.fixture
def fhir_request() -> Callable[[str], dict[str, Any]]:
    """Load one example CDS Hooks request from tests/data/fhir."""

    def _load(name: str) -> dict[str, Any]:
        return json.loads((FHIR_DIR / f"{name}.json").read_text(encoding="utf-8"))

    return _load
