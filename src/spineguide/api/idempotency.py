"""Idempotency keys for saves: a retried POST with the same `Idempotency-Key` returns the first
response instead of saving twice; the same key with a different request is a 409."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Header
from fastapi.responses import Response

from spineguide.api.problems import ProblemError
from spineguide.store import repository as repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,200}$"

IdempotencyHeader = Header(
    None,
    alias="Idempotency-Key",
    min_length=8,
    max_length=200,
    pattern=KEY_PATTERN,
    description="a unique key per save (e.g. a UUID); retrying with the same key and body "
    "returns the original response instead of saving twice",
)


@dataclass(frozen=True)
class StoredResponse:
    """A response remembered under an idempotency key."""

    status: int
    body: str
    location: str | None

    def to_response(self) -> Response:
        """Replay it (marked with Idempotent-Replayed: true)."""
        headers = {"Idempotent-Replayed": "true"}
        if self.location:
            headers["Location"] = self.location
        return Response(
            self.body, status_code=self.status, media_type="application/json", headers=headers
        )


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 over what makes two requests "the same" for idempotency."""
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def lookup(s: Session, user_id: int, key: str, fingerprint: str) -> StoredResponse | None:
    """The earlier response for this key, or None; 409 when the key was used for another request."""
    row = repo.idempotent_response(s, user_id, key)
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ProblemError(
            409,
            "this Idempotency-Key was already used for a different request",
            "use a new key for each distinct save",
            slug="idempotency-key-reused",
        )
    return StoredResponse(row.status, row.body, row.location)
