"""CDS Hooks 2.0 trust: verify the JWT an EHR sends with every call (the spec's "Trusting CDS
Clients" section), with joserfc.

A call is trusted only when all of these hold:
- `Authorization: Bearer <JWT>` is present and the JWT is signed with an asymmetric algorithm
  (RS*, PS*, ES*, EdDSA; `none` and every HMAC algorithm are refused);
- `iss` is a configured, active trusted EHR (settings or `spineguide ehr add`);
- the signature verifies with that EHR's configured keys, or with keys from its allow-listed
  JWKS URL (a `jku` header must equal one of the EHR's allow-listed URLs);
- `aud` is this service's URL, `exp` is in the future and no more than five minutes ahead,
  `iat` is not in the future, and `jti` has not been seen before from that issuer (the replay
  cache lives in the database, so every worker shares it).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from joserfc import jwk, jws, jwt
from joserfc.errors import JoseError
from sqlalchemy.exc import IntegrityError

from spineguide.api.problems import ProblemError

if TYPE_CHECKING:
    from spineguide.api.app import Services

log = logging.getLogger("spineguide.api")

ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
ASYMMETRIC_KEY_TYPES = ("RSA", "EC", "OKP")
MAX_JWKS_BYTES = 256_000
MAX_TOKEN_CHARS = 16_000


@dataclass(frozen=True)
class TrustedEhrConfig:
    """One trusted EHR as the verifier needs it."""

    issuer: str
    jkus: tuple[str, ...]
    jwks: dict[str, Any] | None
    rate_per_minute: int
    label: str | None = None


@dataclass(frozen=True)
class VerifiedEhr:
    """The caller after verification: the issuer and the token's subject and id."""

    issuer: str
    subject: str | None
    jti: str
    rate_per_minute: int
    tenant: str | None = None


def _unauthorized(detail: str, hint: str | None = None) -> ProblemError:
    return ProblemError(
        401,
        detail,
        hint
        or "sign a JWT as the CDS Hooks 2.0 specification describes and register the EHR with "
        "`spineguide ehr add`",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        slug="cds-unauthorized",
    )


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is a loopback address or localhost."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_key_url(url: str) -> None:
    """Refuse JWKS URLs that are not https (plain http only to loopback, for local testing)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_url(url):
        return
    raise ValueError(f"a JWKS URL must be https (or http on loopback), got {url!r}")


def public_key_set(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a JWKS: asymmetric public keys only (private or symmetric keys are refused)."""
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError("a JWKS must be an object with a non-empty 'keys' list")
    out = []
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ASYMMETRIC_KEY_TYPES:
            raise ValueError("only RSA, EC and OKP public keys are accepted (no symmetric keys)")
        if "d" in key or "p" in key:
            raise ValueError("the JWKS contains a private key; give the public keys only")
        out.append(key)
    try:
        jwk.KeySet.import_key_set({"keys": out})
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"the JWKS could not be read: {type(exc).__name__}") from None
    return {"keys": out}


class JwksCache:
    """Fetched JWKS documents by URL, kept for `ttl` seconds (fetches are bounded in time/size)."""

    def __init__(self, ttl: float = 300.0, timeout: float = 5.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._cache: dict[str, tuple[float, jwk.KeySet]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, refresh: bool = False) -> jwk.KeySet:
        """The key set at `url` (cached), fetching it when absent, stale or `refresh`."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(url)
        if hit and not refresh and hit[0] > now:
            return hit[1]
        keys = jwk.KeySet.import_key_set(public_key_set(fetch_json(url, self.timeout)))
        with self._lock:
            self._cache[url] = (now + self.ttl, keys)
        return keys

    def clear(self) -> None:
        """Forget every cached key set."""
        with self._lock:
            self._cache.clear()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_json(url: str, timeout: float, max_bytes: int = MAX_JWKS_BYTES) -> dict[str, Any]:
    """GET a JSON document with a timeout and a size cap (no redirects)."""
    check_key_url(url)
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with opener.open(req, timeout=timeout) as resp:
        raw = resp.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError("JWKS document too large")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("JWKS document is not a JSON object")
    return data


def trusted_ehrs(services: Services) -> dict[str, TrustedEhrConfig]:
    """Every active trusted EHR: those in settings plus those added with `spineguide ehr add`."""
    from spineguide.store import repository as repo

    out: dict[str, TrustedEhrConfig] = {}
    default_rate = services.settings.cds_default_rate_per_minute
    for item in services.settings.cds_trusted_ehrs:
        jkus = item.get("jku") or []
        jkus = [jkus] if isinstance(jkus, str) else list(jkus)
        out[item["issuer"]] = TrustedEhrConfig(
            issuer=item["issuer"],
            jkus=tuple(jkus),
            jwks=item.get("jwks"),
            rate_per_minute=int(item.get("rate_per_minute") or default_rate),
            label=item.get("label"),
        )
    with services.read_sessions() as s:
        for row in repo.list_ehrs(s, active_only=True):
            out[row.issuer] = TrustedEhrConfig(
                issuer=row.issuer,
                jkus=tuple(u for u in (row.jku or "").split() if u),
                jwks=row.jwks,
                rate_per_minute=row.rate_per_minute or default_rate,
                label=row.label,
            )
    return out


def _keys_for(
    ehr: TrustedEhrConfig, header: dict[str, Any], cache: JwksCache, refresh: bool = False
) -> jwk.KeySet:
    jku = header.get("jku")
    if jku is not None:
        if not isinstance(jku, str) or jku not in ehr.jkus:
            raise _unauthorized(
                "the JWT's jku header is not an allow-listed JWKS URL for this issuer",
                "register the JWKS URL with `spineguide ehr add --jku`",
            )
        return cache.get(jku, refresh)
    if ehr.jwks:
        return jwk.KeySet.import_key_set(public_key_set(ehr.jwks))
    if ehr.jkus:
        return cache.get(ehr.jkus[0], refresh)
    raise _unauthorized("no keys are configured for this issuer")


def _audiences(aud: object) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return list(aud)
    return []


def verify_request_jwt(
    authorization: str | None,
    services: Services,
    audiences: list[str],
    cache: JwksCache,
    now: float | None = None,
) -> VerifiedEhr:
    """Verify a CDS Hooks bearer JWT; raise a 401 problem on any failure (runs in a thread)."""
    settings = services.settings
    if not authorization:
        raise _unauthorized("a CDS Hooks call needs 'Authorization: Bearer <JWT>' from the EHR")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise _unauthorized("the Authorization header must be 'Bearer <JWT>'")
    try:
        unverified = jws.extract_compact(token.encode("ascii"))
        header = dict(unverified.headers())
        claims = json.loads(unverified.payload)
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise _unauthorized("the bearer token is not a compact JWS (JWT)") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _unauthorized(
            f"JWT algorithm {str(alg)[:20]!r} is refused: only asymmetric signatures "
            "(RS/PS/ES 256-512, EdDSA) are accepted; 'none' and HMAC never are"
        )
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    ehr = trusted_ehrs(services).get(issuer) if isinstance(issuer, str) else None
    if ehr is None:
        raise _unauthorized("the JWT issuer (iss) is not a trusted EHR")
    try:
        keys = _keys_for(ehr, header, cache)
        try:
            token_obj = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except JoseError:
            if header.get("jku") is None and not ehr.jkus:
                raise
            # keys may have rotated: fetch the JWKS again once
            token_obj = jwt.decode(
                token, _keys_for(ehr, header, cache, True), algorithms=ALGORITHMS
            )
    except ProblemError:
        raise
    except (JoseError, ValueError, TypeError):
        raise _unauthorized("the JWT signature does not verify with the issuer's keys") from None
    except (OSError, urllib.error.URLError):
        raise _unauthorized(
            "the issuer's JWKS could not be fetched", "check the EHR's JWKS URL"
        ) from None
    now_i = int(time.time() if now is None else now)
    leeway = settings.cds_clock_leeway_s
    registry = jwt.JWTClaimsRegistry(
        now=now_i,
        leeway=leeway,
        iss={"essential": True, "value": ehr.issuer},
        aud={"essential": True, "values": audiences},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    )
    claims = token_obj.claims
    try:
        registry.validate(claims)
    except JoseError as exc:
        name = getattr(exc, "claim", None) or getattr(exc, "error", "claim")
        if exc.error == "expired_token":
            raise _unauthorized("the JWT has expired (exp)") from None
        if "aud" in str(exc.description or ""):
            raise _unauthorized(
                "the JWT audience (aud) is not this service's URL",
                f"set aud to {audiences[0]}" if audiences else None,
            ) from None
        raise _unauthorized(f"the JWT claims do not validate ({name})") from None
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise _unauthorized("the JWT needs numeric exp and iat claims")
    if exp - now_i > settings.cds_max_token_lifetime_s + leeway or exp - iat > (
        settings.cds_max_token_lifetime_s + leeway
    ):
        raise _unauthorized("the JWT lives too long: exp must be at most 5 minutes ahead")
    if not any(a in audiences for a in _audiences(claims.get("aud"))):
        raise _unauthorized("the JWT audience (aud) is not this service's URL")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 300:
        raise _unauthorized("the JWT needs a jti claim (at most 300 characters)")
    _remember(services, ehr.issuer, jti, datetime.fromtimestamp(exp + leeway, UTC))
    sub = claims.get("sub")
    tenant = claims.get("tenant")
    return VerifiedEhr(
        issuer=ehr.issuer,
        subject=sub if isinstance(sub, str) else None,
        jti=jti,
        rate_per_minute=ehr.rate_per_minute,
        tenant=tenant if isinstance(tenant, str) else None,
    )


def _remember(services: Services, issuer: str, jti: str, expires: datetime) -> None:
    """Store the jti in the shared replay cache; a second use is refused."""
    from spineguide.store import repository as repo

    try:
        with services.sessions.begin() as s:
            repo.remember_jti(s, issuer, jti, max(expires, datetime.now(UTC) + timedelta(0)))
    except IntegrityError:
        raise _unauthorized(
            "this JWT was already used (jti replay)", "sign a fresh JWT with a new jti per call"
        ) from None
