"""ORM tables: users, tokens, sessions, patients, assessments, outcome scores, audit, feedback,
trusted EHRs, the CDS JWT replay cache, shared rate-limit windows, idempotency keys and the web
app's kept input (encrypted)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random UUID4 string (primary keys that are safe to expose)."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base for every SpineGuide table."""


class User(Base):
    """A clinician or admin account (password stored as an argon2id hash)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="clinician")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for the API: only the SHA-256 of the random token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class WebSession(Base):
    """A browser session (cookie value hashed with SHA-256, like tokens)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Patient(Base):
    """A patient record, owned by the clinician who created it."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(10))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssessmentRecord(Base):
    """A saved assessment: the exact input, the full output and the KB version that produced it."""

    __tablename__ = "assessments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=False
    )
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    input_json: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    output_json: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    kb_version: Mapped[str] = mapped_column(String(80), nullable=False)
    urgency: Mapped[str] = mapped_column(String(20), nullable=False)
    leading_diagnosis: Mapped[str | None] = mapped_column(String(80))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_assessments_patient_created", "patient_id", "created"),)


class OutcomeScore(Base):
    """One scored outcome instrument (ODI, STarT Back, RMDQ, NRS) for a patient at a time."""

    __tablename__ = "outcome_scores"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=False
    )
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    instrument: Mapped[str] = mapped_column(String(20), nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(80))
    input_json: Mapped[Any] = mapped_column(JsonType, nullable=False)
    result_json: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_outcome_scores_patient_recorded", "patient_id", "recorded_at"),)


class AuditEntry(Base):
    """Who did what to which patient's data, when, and with what outcome."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    patient_id: Mapped[str | None] = mapped_column(String(200), index=True)
    resource_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    client: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(String(300))  # verified EHR `iss` (CDS Hooks)


class CdsFeedback(Base):
    """One CDS Hooks feedback item (card accepted or overridden)."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(100), nullable=False)
    card_uuid: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    outcome_timestamp: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    received: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issuer: Mapped[str | None] = mapped_column(String(300))  # the EHR that sent it (verified)


class TrustedEhr(Base):
    """An EHR allowed to call the CDS service: its JWT issuer, JWKS URL and/or public keys."""

    __tablename__ = "trusted_ehrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(300), unique=True, nullable=False)
    jku: Mapped[str | None] = mapped_column(String(1000))  # allow-listed JWKS URL
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JsonType)  # configured public keys
    label: Mapped[str | None] = mapped_column(String(200))
    rate_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=120)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SeenJwt(Base):
    """A CDS Hooks JWT id already used (replay cache shared by every worker)."""

    __tablename__ = "cds_seen_jti"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    jti: Mapped[str] = mapped_column(String(300), nullable=False)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)

    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_cds_seen_jti"),)


class RateWindow(Base):
    """A fixed-window request counter keyed by bucket and caller (shared across workers)."""

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class IdempotencyKey(Base):
    """A client-chosen Idempotency-Key of a save and the response it produced."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    location: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)


class WebEntry(Base):
    """Web form input kept for one browser between a post and its result page (encrypted).

    The payload is AES-GCM ciphertext under a key derived from the browser's cookie, which is not
    stored: the row alone cannot be read. Rows expire after a clinic day.
    """

    __tablename__ = "web_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    browser: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256 of the cookie
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
