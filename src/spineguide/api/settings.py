"""Service settings, read from SPINEGUIDE_* environment variables (with safe defaults)."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` from the environment (clear error otherwise)."""
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _env_rate(name: str, default: str) -> tuple[float, float]:
    """Parse "N/S" (N requests per S seconds, burst N) into (capacity, refill per second)."""
    raw = os.environ.get(name, default)
    try:
        count, seconds = raw.split("/", 1)
        capacity = float(count)
        per = float(seconds)
        if capacity <= 0 or per <= 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{name} must look like 20/1 (requests/seconds), got {raw!r}") from None
    return capacity, capacity / per


def parse_networks(raw: str | None) -> list[str]:
    """Comma-separated IP addresses or CIDR networks (validated); empty when unset."""
    out: list[str] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {part!r}") from None
            out.append(part)
    return out


def parse_trusted_ehrs(raw: str | None) -> list[dict[str, Any]]:
    """Trusted EHRs from JSON text or `@/path/to/file.json`: a list of {issuer, jku?, jwks?}."""
    if not raw or not raw.strip():
        return []
    text = raw.strip()
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    data = json.loads(text)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("SPINEGUIDE_CDS_TRUSTED_EHRS must be a JSON list of EHR objects")
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("issuer"), str):
            raise ValueError("each trusted EHR needs an 'issuer' string")
        if not item.get("jku") and not item.get("jwks"):
            raise ValueError(f"trusted EHR {item['issuer']!r} needs a 'jku' URL or 'jwks' keys")
    return data


@dataclass
class Settings:
    """Everything the service can be configured with."""

    database_url: str | None = None
    max_body_bytes: int = 1_000_000
    login_rate: tuple[float, float] = (10.0, 10.0 / 60.0)  # 10 attempts per minute per client
    assess_rate: tuple[float, float] = (100.0, 100.0)  # 100 per second per client, burst 100
    token_ttl_hours: float = 12.0
    session_ttl_hours: float = 8.0
    cookie_secure: bool = True
    auto_migrate: bool = True
    public_base_url: str | None = None  # the service's external URL: CDS `aud`, card links
    # -- CDS Hooks trust
    cds_trusted_ehrs: list[dict[str, Any]] = field(default_factory=list)
    cds_allow_anonymous: bool = False  # sandbox only: accept CDS calls without a JWT
    cds_max_token_lifetime_s: int = 300  # the spec: exp no more than 5 minutes ahead
    cds_clock_leeway_s: int = 30
    cds_default_rate_per_minute: int = 120
    cds_feedback_max_bytes: int = 64_000
    cds_fhir_connect_timeout_s: float = 3.0
    cds_fhir_read_timeout_s: float = 10.0
    cds_fhir_max_bytes: int = 5_000_000
    cds_jwks_cache_s: int = 300
    # -- accounts
    password_min_length: int = 12
    lockout_failures: int = 5
    lockout_seconds: int = 900
    trusted_proxies: list[str] = field(default_factory=list)  # peers whose X-Forwarded-For counts
    allowed_origins: list[str] = field(default_factory=list)  # extra origins allowed to log in
    # -- input
    json_max_depth: int = 32
    web_state: str = "database"  # where the web app keeps form input: "database" or "memory"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from SPINEGUIDE_* environment variables."""
        return cls(
            database_url=os.environ.get("SPINEGUIDE_DATABASE_URL"),
            max_body_bytes=int(os.environ.get("SPINEGUIDE_MAX_BODY_BYTES", "1000000")),
            login_rate=_env_rate("SPINEGUIDE_RATE_LOGIN", "10/60"),
            assess_rate=_env_rate("SPINEGUIDE_RATE_ASSESS", "100/1"),
            token_ttl_hours=float(os.environ.get("SPINEGUIDE_TOKEN_TTL_HOURS", "12")),
            session_ttl_hours=float(os.environ.get("SPINEGUIDE_SESSION_TTL_HOURS", "8")),
            cookie_secure=_env_bool("SPINEGUIDE_COOKIE_SECURE", True),
            auto_migrate=_env_bool("SPINEGUIDE_AUTO_MIGRATE", True),
            public_base_url=os.environ.get("SPINEGUIDE_PUBLIC_URL"),
            cds_trusted_ehrs=parse_trusted_ehrs(os.environ.get("SPINEGUIDE_CDS_TRUSTED_EHRS")),
            cds_allow_anonymous=_env_bool("SPINEGUIDE_CDS_ALLOW_ANONYMOUS", False),
            cds_default_rate_per_minute=int(
                os.environ.get("SPINEGUIDE_CDS_RATE_PER_MINUTE", "120")
            ),
            password_min_length=int(os.environ.get("SPINEGUIDE_PASSWORD_MIN_LENGTH", "12")),
            lockout_failures=int(os.environ.get("SPINEGUIDE_LOCKOUT_FAILURES", "5")),
            lockout_seconds=int(os.environ.get("SPINEGUIDE_LOCKOUT_SECONDS", "900")),
            trusted_proxies=parse_networks(os.environ.get("SPINEGUIDE_TRUSTED_PROXIES")),
            web_state=_env_choice("SPINEGUIDE_WEB_STATE", "database", ("database", "memory")),
            allowed_origins=[
                o.strip().rstrip("/")
                for o in os.environ.get("SPINEGUIDE_ALLOWED_ORIGINS", "").split(",")
                if o.strip()
            ],
        )
