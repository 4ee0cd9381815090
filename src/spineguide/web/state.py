"""Results and unsent input kept for one browser, server-side, under opaque ids.

Post/redirect/get: a form post stores what it needs here and redirects to a GET page that names
the entry by a random id, so Back, links and sign-in never lose an explanation, an assessment or
a half-saved score. Entries are bound to the browser cookie that created them (an id alone
reveals nothing), kept in this process's memory only (never on disk, never logged), expire after
`TTL_SECONDS` and are capped at `MAX_ENTRIES` (oldest dropped first).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

BROWSER_COOKIE = "sg_browser"
TTL_SECONDS = 12 * 3600  # a clinic day: long enough for a consultation, short for patient text
MAX_ENTRIES = 5000


@dataclass
class Entry:
    """One stored item: its kind, the input it came from and (cached) what was computed."""

    kind: str
    browser: str
    data: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    cache: dict[str, Any] = field(default_factory=dict)


class WebState:
    """A bounded, expiring, per-browser store of form input and results."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._items:
            key, entry = next(iter(self._items.items()))
            if now - entry.created <= self.ttl and len(self._items) <= self.max_entries:
                break
            del self._items[key]

    def put(
        self, browser: str, kind: str, data: dict[str, Any], cache: dict[str, Any] | None = None
    ) -> str:
        """Store input (and optionally what was computed) for a browser; return the opaque id."""
        rid = secrets.token_urlsafe(12)
        with self._lock:
            self._items[rid] = Entry(
                kind=kind, browser=_digest(browser), data=data, cache=dict(cache or {})
            )
            self._expire(time.monotonic())
        return rid

    def get(self, browser: str | None, rid: str, kind: str) -> Entry | None:
        """The entry of this kind stored by this browser, or None (unknown, expired, not theirs)."""
        if not browser or not rid:
            return None
        with self._lock:
            self._expire(time.monotonic())
            entry = self._items.get(rid)
        if entry is None or entry.kind != kind:
            return None
        if not hmac.compare_digest(entry.browser, _digest(browser)):
            return None
        return entry

    def __len__(self) -> int:
        """Number of live entries."""
        return len(self._items)


def _digest(browser: str) -> str:
    return hashlib.sha256(browser.encode()).hexdigest()


def new_browser_id() -> str:
    """A random browser id for the browser cookie."""
    return secrets.token_urlsafe(24)


def login_token(browser: str) -> str:
    """The sign-in form's CSRF token for a browser (double-submit: derived from its cookie)."""
    return hashlib.sha256(b"spineguide-login-csrf:" + browser.encode()).hexdigest()[:40]
