"""Security test fixtures: an app per test on SQLite and on PostgreSQL (when
SPINEGUIDE_TEST_POSTGRES_URL is set), a test EHR that signs CDS Hooks JWTs, and local HTTP stubs
(JWKS and FHIR server) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))

from api_helpers import make_settings, reset_postgres  # noqa: E402

ROOT = HERE.parents[1]
FHIR_DIR = ROOT / "tests" / "data" / "fhir"
PG_URL = os.environ.get("SPINEGUIDE_TEST_POSTGRES_URL")


def test_client(app: Any, **kwargs: Any) -> Any:
    """A TestClient that returns server errors as responses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False, **kwargs)


test_client.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database per test, once per backend."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("SPINEGUIDE_TEST_POSTGRES_URL is not set")
        reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'sec.sqlite3'}"


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Any]]:
    """Build apps on the test database with settings overrides (disposed afterwards)."""
    from spineguide.api.app import create_app

    apps: list[Any] = []

    def _make(**overrides: Any) -> Any:
        app = create_app(make_settings(db_url, **overrides))
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.state.sg.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    """The application with default test settings."""
    return make_app()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A test client for `app`."""
    with test_client(app) as c:
        yield c


@pytest.fixture
def new_client() -> Callable[..., Any]:
    """Build more test clients (e.g. one per simulated worker)."""
    return test_client


@pytest.fixture
def create_user(app: Any) -> Callable[..., None]:
    """Create a user directly in the database."""
    from spineguide.api.security import hash_password
    from spineguide.store import repository as repo

    def _create(username: str, password: str = "a long test passphrase", role: str = "clinician"):
        with app.state.sg.sessions.begin() as s:
            repo.create_user(s, username, hash_password(password), role=role)

    return _create


@pytest.fixture
def token_for(client: Any, create_user: Callable[..., None]) -> Callable[..., dict[str, str]]:
    """Create a user and return Authorization headers with a fresh bearer token."""

    def _token(username: str, role: str = "clinician") -> dict[str, str]:
        create_user(username, "pw-" + username + "-long-enough", role)
        r = client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": "pw-" + username + "-long-enough"},
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


class StubServer:
    """A tiny HTTP server on 127.0.0.1 answering GETs from a path -> (status, JSON) table."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                import time

                stub.requests.append((self.path, dict(self.headers)))
                if stub.delay:
                    time.sleep(stub.delay)
                path = self.path.split("?", 1)[0]
                status, body = stub.routes.get(self.path, stub.routes.get(path, (404, {})))
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    """A local HTTP stub (JWKS endpoint or FHIR server) on 127.0.0.1."""
    server = StubServer()
    yield server
    server.close()
