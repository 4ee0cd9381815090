"""Results and unsent input kept for one browser, server-side, under opaque ids.

Post/redirect/get: a form post stores what it needs here and redirects to a GET page that names
the entry by a random id, so Back, links and sign-in never lose an explanation, an assessment or
a half-saved score. Entries are bound to the browser cookie that created them (an id alone
reveals nothing), expire after `TTL_SECONDS` and are capped at `MAX_ENTRIES` (oldest dropped
first). Nothing here is ever logged.

Two stores share one interface:
- `DatabaseWebState` (the default) keeps entries in the service database, so every worker process
  of `spineguide serve --workers N` (and a restarted server) finds what another one stored. The
  input is encrypted with AES-GCM under a key derived from the browser's own cookie, which the
  server never stores: a copy of the database alone cannot read it.
- `WebState` keeps entries in this process's memory only (`SPINEGUIDE_WEB_STATE=memory`): nothing
  on disk, but only right with a single worker process.
What was computed from the input (an assessment, an explanation) is cached per process and
recomputed from the input when another worker serves the page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

BROWSER_COOKIE = "sg_browser"
TTL_SECONDS = 12 * 3600  # a clinic day: long enough for a consultation, short for patient text
MAX_ENTRIES = 5000
LOCAL_CACHE_ENTRIES = 256  # computed results kept per worker process (recomputed when evicted)
_KEY_INFO = b"spineguide web state v1"


@dataclass
class Entry:
    """One stored item: its kind, the input it came from and (cached) what was computed."""

    kind: str
    browser: str
    data: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    cache: dict[str, Any] = field(default_factory=dict)
    rid: str = ""
    secret: str = field(default="", repr=False)  # the browser id (database store: re-encrypts)


class ResultStore(Protocol):
    """What the web views need from a store of per-browser input and results."""

    def put(
        self, browser: str, kind: str, data: dict[str, Any], cache: dict[str, Any] | None = None
    ) -> str:
        """Store input (and optionally what was computed) for a browser; return the opaque id."""
        ...

    def get(self, browser: str | None, rid: str, kind: str) -> Entry | None:
        """The entry of this kind stored by this browser, or None (unknown, expired, not theirs)."""
        ...

    def save(self, entry: Entry) -> None:
        """Keep a change to an entry's input (`entry.data`)."""
        ...


class WebState:
    """A bounded, expiring, per-browser store of form input and results in process memory."""

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
                kind=kind, browser=_digest(browser), data=data, cache=dict(cache or {}), rid=rid
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

    def save(self, entry: Entry) -> None:
        """Keep a change to an entry's input (in memory the entry itself is the stored one)."""

    def __len__(self) -> int:
        """Number of live entries."""
        return len(self._items)


class DatabaseWebState:
    """Per-browser input in the service database (encrypted), shared by every worker process."""

    def __init__(
        self,
        sessions: Any,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        cache_entries: int = LOCAL_CACHE_ENTRIES,
    ) -> None:
        self.sessions = sessions  # SQLAlchemy sessionmaker of the service database
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()  # rid → computed results
        self._cache_entries = cache_entries
        self._lock = threading.Lock()

    def _remember_computed(self, rid: str, cache: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            kept = self._cache.setdefault(rid, cache)
            self._cache.move_to_end(rid)
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return kept

    def put(
        self, browser: str, kind: str, data: dict[str, Any], cache: dict[str, Any] | None = None
    ) -> str:
        """Store input (and optionally what was computed) for a browser; return the opaque id."""
        from sqlalchemy import delete, func, select

        from spineguide.store.models import WebEntry

        rid = secrets.token_urlsafe(12)
        now = datetime.now(UTC)
        payload = _seal(browser, rid, kind, data)
        with self.sessions.begin() as s:
            s.execute(delete(WebEntry).where(WebEntry.expires < now))
            s.add(
                WebEntry(
                    id=rid,
                    kind=kind,
                    browser=_digest(browser),
                    payload=payload,
                    created=now,
                    expires=now + timedelta(seconds=self.ttl),
                )
            )
            s.flush()
            extra = s.scalar(select(func.count()).select_from(WebEntry)) - self.max_entries
            if extra > 0:  # the oldest go first, as in memory
                oldest = select(WebEntry.id).order_by(WebEntry.created).limit(extra)
                s.execute(delete(WebEntry).where(WebEntry.id.in_(list(s.scalars(oldest)))))
        self._remember_computed(rid, dict(cache or {}))
        return rid

    def get(self, browser: str | None, rid: str, kind: str) -> Entry | None:
        """The entry of this kind stored by this browser, or None (unknown, expired, not theirs)."""
        from spineguide.store.models import WebEntry

        if not browser or not rid or len(rid) > 64:
            return None
        with self.sessions() as s:
            row = s.get(WebEntry, rid)
            if row is None or row.kind != kind:
                return None
            if not hmac.compare_digest(row.browser, _digest(browser)):
                return None
            if _aware(row.expires) < datetime.now(UTC):
                return None
            payload, created = row.payload, _aware(row.created)
        data = _open(browser, rid, kind, payload)
        if data is None:
            return None  # not decryptable with this cookie: treat as not theirs
        age = (datetime.now(UTC) - created).total_seconds()
        return Entry(
            kind=kind,
            browser=_digest(browser),
            data=data,
            created=time.monotonic() - age,
            cache=self._remember_computed(rid, {}),
            rid=rid,
            secret=browser,
        )

    def save(self, entry: Entry) -> None:
        """Keep a change to an entry's input (re-encrypted under the same browser key)."""
        from sqlalchemy import update

        from spineguide.store.models import WebEntry

        if not entry.secret or not entry.rid:
            raise ValueError("this entry was not read from the database store")
        payload = _seal(entry.secret, entry.rid, entry.kind, entry.data)
        with self.sessions.begin() as s:
            s.execute(update(WebEntry).where(WebEntry.id == entry.rid).values(payload=payload))

    def __len__(self) -> int:
        """Number of live entries."""
        from sqlalchemy import func, select

        from spineguide.store.models import WebEntry

        with self.sessions() as s:
            now = datetime.now(UTC)
            return int(
                s.scalar(select(func.count()).select_from(WebEntry).where(WebEntry.expires >= now))
            )


def make_store(kind: str, sessions: Any) -> ResultStore:
    """The result store a service setting names: "database" (default) or "memory"."""
    if kind == "memory":
        return WebState()
    if kind == "database":
        return DatabaseWebState(sessions)
    raise ValueError(f"SPINEGUIDE_WEB_STATE must be 'database' or 'memory', got {kind!r}")


def _key(browser: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        browser.encode()
    )


def _seal(browser: str, rid: str, kind: str, data: dict[str, Any]) -> bytes:
    """Input as JSON, encrypted with the browser's key and bound to its id and kind."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    plain = json.dumps(data, separators=(",", ":")).encode()
    return nonce + AESGCM(_key(browser)).encrypt(nonce, plain, f"{rid}:{kind}".encode())


def _open(browser: str, rid: str, kind: str, payload: bytes) -> dict[str, Any] | None:
    """The stored input, or None when this browser's key does not open it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plain = AESGCM(_key(browser)).decrypt(payload[:12], payload[12:], f"{rid}:{kind}".encode())
    except (InvalidTag, ValueError):
        return None
    data = json.loads(plain)
    return data if isinstance(data, dict) else None


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _digest(browser: str) -> str:
    return hashlib.sha256(browser.encode()).hexdigest()


def new_browser_id() -> str:
    """A random browser id for the browser cookie."""
    return secrets.token_urlsafe(24)


def login_token(browser: str) -> str:
    """The sign-in form's CSRF token for a browser (double-submit: derived from its cookie)."""
    return hashlib.sha256(b"spineguide-login-csrf:" + browser.encode()).hexdigest()[:40]
