"""Accounts: argon2id passwords, hashed bearer tokens, session cookies and role checks.

The web app reuses this module: `login_session(...)` sets the session cookie after a password
check, `current_user` (bearer or cookie) and `require_clinician` are FastAPI dependencies, and
`verify_csrf(request, token)` checks the per-session CSRF token on HTML form posts.
`check_login(request, username, password)` is the whole login policy (per-account lockout,
audit) and `check_origin(request)` refuses cross-site logins.

Client addresses: `client_key` uses the TCP peer; X-Forwarded-For is honoured only when that
peer is one of the configured trusted proxies (SPINEGUIDE_TRUSTED_PROXIES).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
from spineguide.api.ratelimit import TokenBucketLimiter, retry_after_header
from spineguide.store import repository as repo
from spineguide.store.db import aware
from spineguide.store.models import User, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SESSION_COOKIE = "sg_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "sgt_"
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A random URL-safe secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (tokens and session ids are stored only hashed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """A random password for generated accounts (demo user)."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a detached user snapshot and how they authenticated."""

    id: int
    username: str
    role: str
    via: str  # "token" | "session"
    csrf_token: str | None = None

    def as_user(self) -> User:
        """A transient User object for repository calls (id, username and role)."""
        return User(id=self.id, username=self.username, role=self.role, password_hash="")


def _principal(user: User, via: str, csrf: str | None = None) -> Principal:
    return Principal(id=user.id, username=user.username, role=user.role, via=via, csrf_token=csrf)


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sg.sessions


def _in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def client_key(request: Request) -> str:
    """The rate-limit and audit key of the caller: its IP address.

    The TCP peer, unless that peer is a configured trusted proxy: then the right-most address in
    X-Forwarded-For that is not itself a trusted proxy.
    """
    peer = request.client.host if request.client else "unknown"
    proxies: list[str] = request.app.state.sg.settings.trusted_proxies
    if not proxies or not _in_networks(peer, proxies):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in_networks(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: fall back to the proxy itself
    return peer


def authenticate(sf: sessionmaker[Session], username: str, password: str) -> User | None:
    """Check a username and password; return the user or None (constant-ish time)."""
    with sf() as s:
        user = repo.user_by_username(s, username)
        if user is None or not user.active:
            verify_password(_DUMMY_HASH, password)  # same cost whether or not the user exists
            return None
        return user if verify_password(user.password_hash, password) else None


def _fail_key(username: str) -> str:
    return "login-fail:" + username.strip().lower()[:80]


def _lock_key(username: str) -> str:
    return "login-lock:" + username.strip().lower()[:80]


def _locked_for(sf: sessionmaker[Session], username: str) -> float:
    """Seconds left on an account lockout (0 when not locked)."""
    from spineguide.store.models import RateWindow

    with sf() as s:
        row = s.get(RateWindow, (_lock_key(username), 0))
        if row is None:
            return 0.0
        left = (aware(row.expires) - utcnow()).total_seconds()
    return max(0.0, left)


def check_login(request: Request, username: str, password: str) -> User:
    """The login policy: lockout check, password check, failure counting and audit.

    Returns the user, or raises 401 (bad credentials) or 429 (account temporarily locked).
    Runs in a worker thread. The same rules apply whether or not the username exists.
    """
    sg = request.app.state.sg
    settings = sg.settings
    client = client_key(request)
    wait = _locked_for(sg.read_sessions, username)
    if wait > 0:
        with sg.sessions.begin() as s:
            known = repo.user_by_username(s, username)
            repo.audit(s, known, "auth.login", "locked", client=client, detail="account locked")
        raise ProblemError(
            429,
            "too many failed sign-ins for this account; it is locked for a while",
            f"wait {retry_after_header(wait)} s, or ask an administrator to reset the password",
            headers={"Retry-After": retry_after_header(wait)},
            slug="account-locked",
        )
    user = authenticate(sg.sessions, username, password)
    with sg.sessions.begin() as s:
        if user is not None:
            repo.rate_clear(s, _fail_key(username))
            repo.audit(s, user, "auth.login", "ok", client=client)
            return user
        known = repo.user_by_username(s, username)
        until = utcnow() + timedelta(seconds=settings.lockout_seconds)
        repo.rate_clear_expired(s, _fail_key(username))  # failures older than the window
        failures = repo.rate_hit(s, _fail_key(username), 0, until)
        repo.audit(
            s,
            known,
            "auth.login",
            "denied",
            client=client,
            detail="bad credentials" if known else "bad credentials (unknown account)",
        )
        if failures >= settings.lockout_failures:
            repo.rate_clear(s, _fail_key(username))
            repo.rate_clear(s, _lock_key(username))
            repo.rate_hit(s, _lock_key(username), 0, until)
            repo.audit(
                s,
                known,
                "auth.lockout",
                "locked",
                client=client,
                detail=f"{failures} failed sign-ins; locked {settings.lockout_seconds} s",
            )
    raise ProblemError(
        401,
        "unknown username or wrong password",
        "check the username and password",
        slug="bad-login",
    )


def check_origin(request: Request) -> None:
    """Refuse a login posted from another site (login CSRF): Origin must be this service's."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if origin is None:
        if site == "cross-site":
            raise ProblemError(403, "cross-site sign-in refused", slug="cross-origin")
        return
    settings = request.app.state.sg.settings
    own = f"{request.url.scheme}://{request.url.netloc}"
    allowed = {own, *settings.allowed_origins}
    if settings.public_base_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.public_base_url)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    if origin.rstrip("/") not in allowed:
        raise ProblemError(
            403,
            "sign-in from another origin is refused",
            "sign in from this service's own pages, or add the origin to "
            "SPINEGUIDE_ALLOWED_ORIGINS",
            slug="cross-origin",
        )


def issue_token(sf: sessionmaker[Session], user: User, ttl_hours: float) -> tuple[str, datetime]:
    """Create a bearer token for a user; only its hash is stored."""
    token = TOKEN_PREFIX + new_secret()
    expires = utcnow() + timedelta(hours=ttl_hours)
    with sf.begin() as s:
        repo.add_token(s, user, digest(token), expires)
    return token, expires


def login_session(request: Request, response: Response, user: User) -> str:
    """Start a browser session for a user and set the cookie; returns the session's CSRF token."""
    sg = request.app.state.sg
    secret = new_secret()
    csrf = new_secret()
    expires = utcnow() + timedelta(hours=sg.settings.session_ttl_hours)
    with sg.sessions.begin() as s:
        repo.add_session(s, user, digest(secret), csrf, expires)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(sg.settings.session_ttl_hours * 3600),
        httponly=True,
        secure=sg.settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    return csrf


def logout_session(request: Request, response: Response) -> None:
    """End the browser session and revoke the bearer token sent with the request, if any."""
    secret = request.cookies.get(SESSION_COOKIE)
    auth = request.headers.get("authorization") or ""
    scheme, _, token = auth.partition(" ")
    token = token.strip()
    if secret or (scheme.lower() == "bearer" and token):
        with _sessions(request).begin() as s:
            if secret:
                repo.delete_session(s, digest(secret))
            if scheme.lower() == "bearer" and token:
                user = repo.user_for_token(s, digest(token))
                if repo.revoke_token(s, digest(token)):
                    repo.audit(s, user, "auth.logout", "ok", client=client_key(request),
                               detail="bearer token revoked")  # fmt: skip
    response.delete_cookie(SESSION_COOKIE, path="/")


def verify_csrf(principal: Principal | None, token: str | None) -> None:
    """Reject a cookie-authenticated state change whose CSRF token does not match."""
    if principal is None or principal.via != "session":
        return
    if (
        not token
        or not principal.csrf_token
        or not hmac.compare_digest(token, principal.csrf_token)
    ):
        raise ProblemError(
            403,
            "missing or wrong CSRF token for a cookie-authenticated request",
            f"send the session's CSRF token in the {CSRF_HEADER} header (or the form field)",
            slug="csrf",
        )


def _lookup(request: Request) -> Principal | None:
    """Resolve the bearer token or session cookie to a principal (runs in a worker thread)."""
    sf = request.app.state.sg.read_sessions
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ProblemError(
                401,
                "the Authorization header must be 'Bearer <token>'",
                "get a token from POST /api/v1/auth/token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        with sf() as s:
            user = repo.user_for_token(s, digest(token))
        if user is None:
            raise ProblemError(
                401,
                "the bearer token is unknown, revoked or expired",
                "get a new token from POST /api/v1/auth/token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return _principal(user, "token")
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with sf() as s:
            found = repo.session_user(s, digest(secret))
        if found is not None:
            sess, user = found
            return _principal(user, "session", sess.csrf_token)
    return None


async def current_user(request: Request) -> Principal | None:
    """Dependency: the caller (bearer token or session cookie), or None when anonymous."""
    if "authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        return None  # anonymous hot path: no thread hop, no database
    principal = await run_in_threadpool(_lookup, request)
    if (
        principal is not None
        and principal.via == "session"
        and request.method
        not in (
            "GET",
            "HEAD",
            "OPTIONS",
        )
        and request.url.path.startswith("/api/")
    ):
        verify_csrf(principal, request.headers.get(CSRF_HEADER))
    return principal


async def require_user(principal: Principal | None = Depends(current_user)) -> Principal:
    """Dependency: an authenticated caller, else 401."""
    if principal is None:
        raise ProblemError(
            401,
            "this endpoint needs a signed-in clinician",
            "get a token from POST /api/v1/auth/token and send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


async def require_clinician(principal: Principal = Depends(require_user)) -> Principal:
    """Dependency: a caller with the clinician or admin role."""
    if principal.role not in ("clinician", "admin"):
        raise ProblemError(403, "a clinician account is required", slug="forbidden")
    return principal


def rate_limit(bucket: str) -> Any:
    """Dependency factory: charge one request to the caller's bucket, else 429 with Retry-After."""

    async def _check(request: Request) -> None:
        limiter = request.app.state.sg.limiters[bucket]
        if isinstance(limiter, TokenBucketLimiter):
            wait = limiter.hit(client_key(request))
        else:  # shared limiter: a database round trip
            wait = await run_in_threadpool(limiter.hit, client_key(request))
        if wait:
            raise ProblemError(
                429,
                f"too many {bucket} requests from this client",
                f"wait {retry_after_header(wait)} s before retrying",
                headers={"Retry-After": retry_after_header(wait)},
            )

    return _check
