"""Web app fixtures: the real app on a temporary SQLite database, a test client, a clinician
account, and (for browser tests) a live uvicorn server on loopback in a background thread."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CLINICIAN, LiveServer, add_user, login, make_settings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """The service's app (with the web router) on a fresh, migrated SQLite database."""
    from spineguide.api.app import create_app

    application = create_app(make_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"))
    yield application
    application.state.sg.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A test client that follows no redirects by default."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as c:
        yield c


@pytest.fixture
def clinician(app: Any) -> tuple[str, str]:
    """A clinician account (username, password)."""
    add_user(app, *CLINICIAN)
    return CLINICIAN


@pytest.fixture
def logged_in(client: Any, clinician: tuple[str, str]) -> Any:
    """The client with a browser session cookie."""
    r = login(client, clinician[0], clinician[1])
    assert r.status_code == 303, r.text
    return client


@pytest.fixture
def live_server(app: Any, clinician: tuple[str, str]) -> Iterator[LiveServer]:
    """The app served over real HTTP on loopback (with a clinician account)."""
    with LiveServer(app) as srv:
        yield srv
