"""Service settings, read from SPINEGUIDE_* environment variables (with safe defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


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
    public_base_url: str | None = None  # used in CDS Hooks card links; else the request URL
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
        )
