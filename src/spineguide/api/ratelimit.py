"""Rate limiting: shared fixed-window counters in the database (every worker sees the same
counts) for logins, accounts and EHRs, and an in-process token bucket for CPU-bound endpoints."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("spineguide.api")


class TokenBucketLimiter:
    """Token buckets keyed by client: `capacity` burst, refilled at `rate` tokens per second.

    Per worker process on purpose: it protects that worker's CPU (assessments, parsing).
    """

    def __init__(self, capacity: float, rate: float, max_keys: int = 50_000) -> None:
        self.capacity = capacity
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Take `cost` tokens; return 0 when allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                if len(self._buckets) > self.max_keys:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (cost - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled completely (they carry no state)."""
        full_after = self.capacity / self.rate
        for k in [k for k, (_, last) in self._buckets.items() if now - last > full_after]:
            del self._buckets[k]

    def reset(self) -> None:
        """Forget every bucket (tests)."""
        with self._lock:
            self._buckets.clear()


class SharedWindowLimiter:
    """Fixed-window counters stored in the database, so limits hold across worker processes.

    `capacity` requests per `period` seconds per key; the count is incremented atomically with
    INSERT ... ON CONFLICT DO UPDATE ... RETURNING (SQLite and PostgreSQL).
    """

    def __init__(
        self, sessions: sessionmaker[Session], bucket: str, capacity: float, period: float
    ) -> None:
        self.sessions = sessions
        self.bucket = bucket
        self.capacity = max(1, int(capacity))
        self.period = max(1.0, float(period))

    @classmethod
    def from_rate(
        cls, sessions: sessionmaker[Session], bucket: str, rate: tuple[float, float]
    ) -> SharedWindowLimiter:
        """Build from a (capacity, refill per second) pair as Settings stores rates."""
        capacity, per_second = rate
        return cls(sessions, bucket, capacity, capacity / per_second)

    def hit(
        self, key: str, cost: float = 1.0, now: float | None = None, capacity: int | None = None
    ) -> float:
        """Count one request; return 0 when allowed, else the seconds until the window ends."""
        from spineguide.store import repository as repo

        now = time.time() if now is None else now
        window = int(now // self.period)
        ends = (window + 1) * self.period
        expires = datetime.fromtimestamp(ends, UTC) + timedelta(seconds=1)
        limit = capacity or self.capacity
        with self.sessions.begin() as s:
            count = repo.rate_hit(s, f"{self.bucket}:{key}"[:400], window, expires, int(cost))
            if random.random() < 0.01:  # occasional cleanup of finished windows
                repo.purge_expired(s)
        return 0.0 if count <= limit else max(0.001, ends - now)

    def reset(self) -> None:
        """Forget every window of this bucket (tests)."""
        from sqlalchemy import delete

        from spineguide.store.models import RateWindow

        with self.sessions.begin() as s:
            s.execute(delete(RateWindow).where(RateWindow.key.startswith(self.bucket + ":")))


def retry_after_header(seconds: float) -> str:
    """Retry-After value in whole seconds (at least 1)."""
    return str(max(1, math.ceil(seconds)))
