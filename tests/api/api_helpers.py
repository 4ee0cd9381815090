"""Helpers shared by the API tests (settings for a test app, problem-body checks)."""

from __future__ import annotations

from typing import Any


def make_settings(url: str, **overrides: Any) -> Any:
    """Test settings: generous rate limits and non-Secure cookies (the test client is http)."""
    from spineguide.api.settings import Settings

    values: dict[str, Any] = {
        "database_url": url,
        "cookie_secure": False,
        "assess_rate": (10_000.0, 10_000.0),
        "login_rate": (1_000.0, 1_000.0),
    }
    values.update(overrides)
    return Settings(**values)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem body and return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    assert body["detail"]
    return body
