"""In-memory token-bucket rate limiting per client (per worker process)."""

from __future__ import annotations

import math
import threading
import time


class TokenBucketLimiter:
    """Token buckets keyed by client: `capacity` burst, refilled at `rate` tokens per second."""

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


def retry_after_header(seconds: float) -> str:
    """Retry-After value in whole seconds (at least 1)."""
    return str(max(1, math.ceil(seconds)))
