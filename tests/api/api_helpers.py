"""Helpers shared by the API tests (settings for a test app, problem-body checks, and a test
EHR that signs CDS Hooks JWTs with its own key pair)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwk, jwt

TEST_ISSUER = "https://ehr.test.example/issuer"
BASE_URL = "http://testserver"
SERVICE_URL = f"{BASE_URL}/cds-services/spineguide-lumbar"
EHR_KEY = jwk.ECKey.generate_key("P-384", parameters={"kid": "test-ehr-1"})
ALGS = ["ES384", "ES256", "RS384", "RS256", "HS256"]


def ehr_jwks(key: Any = EHR_KEY) -> dict[str, Any]:
    """The public JWKS of a test EHR key."""
    return {"keys": [key.as_dict(private=False)]}


def cds_jwt(
    aud: str | list[str] = SERVICE_URL,
    iss: str = TEST_ISSUER,
    key: Any = EHR_KEY,
    alg: str = "ES384",
    exp_in: int = 120,
    iat_offset: int = 0,
    jti: str | None = None,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A CDS Hooks 2.0 JWT as an EHR signs it (override any part to make it wrong)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": "ehr-client-1",
        "aud": aud,
        "exp": now + exp_in,
        "iat": now + iat_offset,
        "jti": jti or str(uuid.uuid4()),
    }
    for name in drop:
        claims.pop(name, None)
    head = {"alg": alg, "typ": "JWT", "kid": key.kid, **(header or {})}
    return jwt.encode(head, claims, key, algorithms=ALGS)


def cds_headers(**kwargs: Any) -> dict[str, str]:
    """Authorization headers with a fresh, valid CDS Hooks JWT."""
    return {"Authorization": f"Bearer {cds_jwt(**kwargs)}"}


def make_settings(url: str, **overrides: Any) -> Any:
    """Test settings: generous rate limits, non-Secure cookies (the test client is http) and
    the test EHR trusted with configured keys."""
    from spineguide.api.settings import Settings

    values: dict[str, Any] = {
        "database_url": url,
        "cookie_secure": False,
        "assess_rate": (10_000.0, 10_000.0),
        "login_rate": (1_000.0, 1_000.0),
        "public_base_url": BASE_URL,
        "cds_trusted_ehrs": [{"issuer": TEST_ISSUER, "jwks": ehr_jwks(), "rate_per_minute": 1000}],
        "lockout_failures": 1000,
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


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema of the test database."""
    from sqlalchemy import text

    from spineguide.store import db

    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
