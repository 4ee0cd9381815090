"""Repository functions over a SQLAlchemy session; callers own the transaction boundaries.

Visibility rule: a clinician sees only the patients they created; an admin sees every patient.
Functions that read patient data take the acting user and return None when the patient is not
visible, so callers answer 404 without revealing whether the id exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, load_only

from spineguide.store.db import aware
from spineguide.store.models import (
    ApiToken,
    AssessmentRecord,
    AuditEntry,
    CdsFeedback,
    IdempotencyKey,
    OutcomeScore,
    Patient,
    RateWindow,
    SeenJwt,
    TrustedEhr,
    User,
    WebSession,
    utcnow,
)

ROLES = ("clinician", "admin")


def _no_fault(stage: str) -> None:
    """Default fault hook: does nothing (tests replace it to inject crashes mid-transaction)."""


# Called between the inserts of a multi-row save; tests swap it to prove saves are atomic.
fault_hook: Callable[[str], None] = _no_fault


# -- users, tokens, sessions -----------------------------------------------------------------


def create_user(
    s: Session,
    username: str,
    password_hash: str,
    role: str = "clinician",
    display_name: str | None = None,
) -> User:
    """Insert a user (role clinician or admin)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user = User(
        username=username, password_hash=password_hash, role=role, display_name=display_name
    )
    s.add(user)
    s.flush()
    return user


def user_by_username(s: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return s.scalar(select(User).where(User.username == username))


def count_users(s: Session) -> int:
    """Number of user accounts."""
    return s.scalar(select(func.count()).select_from(User)) or 0


def add_token(s: Session, user: User, token_hash: str, expires: datetime) -> ApiToken:
    """Store a bearer token (hashed) for a user."""
    tok = ApiToken(user_id=user.id, token_hash=token_hash, expires=expires)
    s.add(tok)
    s.flush()
    return tok


def user_for_token(s: Session, token_hash: str) -> User | None:
    """The active user owning an unexpired, unrevoked token."""
    row = s.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked or not user.active or aware(tok.expires) <= utcnow():
        return None
    return user


def add_session(
    s: Session, user: User, session_hash: str, csrf_token: str, expires: datetime
) -> WebSession:
    """Store a browser session (hashed)."""
    sess = WebSession(
        user_id=user.id, session_hash=session_hash, csrf_token=csrf_token, expires=expires
    )
    s.add(sess)
    s.flush()
    return sess


def session_user(s: Session, session_hash: str) -> tuple[WebSession, User] | None:
    """The live session and its active user, if the session exists and has not expired."""
    row = s.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.session_hash == session_hash)
    ).first()
    if row is None:
        return None
    sess, user = row
    if not user.active or aware(sess.expires) <= utcnow():
        return None
    return sess, user


def delete_session(s: Session, session_hash: str) -> None:
    """Remove a browser session (logout)."""
    sess = s.scalar(select(WebSession).where(WebSession.session_hash == session_hash))
    if sess is not None:
        s.delete(sess)


def revoke_token(s: Session, token_hash: str) -> bool:
    """Revoke one bearer token (logout); True when a live token was revoked."""
    result = s.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )
    return bool(result.rowcount)


def revoke_user_credentials(s: Session, user_id: int) -> tuple[int, int]:
    """Revoke every bearer token and end every browser session of a user: (tokens, sessions)."""
    tokens = s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    ).rowcount
    sessions = s.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount
    return int(tokens or 0), int(sessions or 0)


def list_users(s: Session) -> list[User]:
    """Every account, by username."""
    return list(s.scalars(select(User).order_by(User.username)))


def live_token_counts(s: Session) -> dict[int, int]:
    """Per user id: how many unrevoked, unexpired bearer tokens exist."""
    rows = s.execute(
        select(ApiToken.user_id, func.count())
        .where(ApiToken.revoked.is_(False), ApiToken.expires > utcnow())
        .group_by(ApiToken.user_id)
    )
    return {uid: n for uid, n in rows}


# -- patients ----------------------------------------------------------------------------------


def create_patient(
    s: Session,
    clinician: User,
    label: str,
    external_ref: str | None = None,
    birth_year: int | None = None,
    sex: str | None = None,
) -> Patient:
    """Insert a patient owned by `clinician`."""
    p = Patient(
        clinician_id=clinician.id,
        label=label,
        external_ref=external_ref,
        birth_year=birth_year,
        sex=sex,
    )
    s.add(p)
    s.flush()
    return p


def visible_patient(s: Session, user: User, patient_id: str) -> Patient | None:
    """The patient if `user` may see it (owner or admin), else None."""
    p = s.get(Patient, patient_id)
    if p is None or (user.role != "admin" and p.clinician_id != user.id):
        return None
    return p


def list_patients(s: Session, user: User, limit: int = 100, offset: int = 0) -> list[Patient]:
    """Patients visible to `user`, newest first."""
    q = select(Patient).order_by(Patient.created.desc(), Patient.id).limit(limit).offset(offset)
    if user.role != "admin":
        q = q.where(Patient.clinician_id == user.id)
    return list(s.scalars(q))


# -- assessments and scores --------------------------------------------------------------------


def save_assessment(
    s: Session,
    user: User,
    patient: Patient,
    input_json: dict[str, Any],
    output_json: dict[str, Any],
    client: str | None = None,
) -> AssessmentRecord:
    """Insert an assessment and its audit row (the caller commits both or neither)."""
    triage = output_json.get("triage") or {}
    differential = output_json.get("differential") or []
    rec = AssessmentRecord(
        id=output_json["id"],
        patient_id=patient.id,
        clinician_id=user.id,
        input_json=input_json,
        output_json=output_json,
        kb_version=output_json["kb_version"],
        urgency=triage.get("urgency", "unknown"),
        leading_diagnosis=differential[0]["id"] if differential else None,
        created=utcnow(),
    )
    s.add(rec)
    s.flush()
    fault_hook("assessment-inserted")
    audit(
        s, user, "assessment.create", "ok", patient_id=patient.id, resource_id=rec.id, client=client
    )
    s.flush()
    fault_hook("audit-inserted")
    return rec


def visible_assessment(s: Session, user: User, assessment_id: str) -> AssessmentRecord | None:
    """The assessment if `user` may see its patient, else None."""
    rec = s.get(AssessmentRecord, assessment_id)
    if rec is None or visible_patient(s, user, rec.patient_id) is None:
        return None
    return rec


_SUMMARY_COLUMNS = (
    AssessmentRecord.id,
    AssessmentRecord.patient_id,
    AssessmentRecord.clinician_id,
    AssessmentRecord.kb_version,
    AssessmentRecord.urgency,
    AssessmentRecord.leading_diagnosis,
    AssessmentRecord.created,
)


def assessments_for(
    s: Session,
    patient_id: str,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[AssessmentRecord]:
    """A patient's saved assessments (summary columns only; the JSON loads lazily if touched)."""
    order = (
        (AssessmentRecord.created.desc(), AssessmentRecord.id.desc())
        if newest_first
        else (AssessmentRecord.created, AssessmentRecord.id)
    )
    q = (
        select(AssessmentRecord)
        .options(load_only(*_SUMMARY_COLUMNS))
        .where(AssessmentRecord.patient_id == patient_id)
        .order_by(*order)
        .offset(offset)
    )
    if limit is not None:
        q = q.limit(limit)
    with s.no_autoflush:
        return list(s.scalars(q))


def count_assessments(s: Session, patient_id: str) -> int:
    """How many assessments a patient has."""
    q = select(func.count()).select_from(AssessmentRecord)
    with s.no_autoflush:
        return s.scalar(q.where(AssessmentRecord.patient_id == patient_id)) or 0


def add_score(
    s: Session,
    user: User,
    patient: Patient,
    instrument: str,
    input_json: Any,
    result_json: dict[str, Any],
    score: float | None,
    band: str | None,
    recorded_at: datetime,
    client: str | None = None,
) -> OutcomeScore:
    """Insert an outcome score and its audit row (the caller commits)."""
    row = OutcomeScore(
        patient_id=patient.id,
        clinician_id=user.id,
        instrument=instrument,
        score=score,
        band=band,
        input_json=input_json,
        result_json=result_json,
        recorded_at=recorded_at,
    )
    s.add(row)
    s.flush()
    fault_hook("score-inserted")
    audit(s, user, "score.create", "ok", patient_id=patient.id, resource_id=row.id, client=client)
    return row


def scores_for(
    s: Session, patient_id: str, limit: int | None = None, offset: int = 0
) -> list[OutcomeScore]:
    """A patient's outcome scores in time order."""
    q = (
        select(OutcomeScore)
        .where(OutcomeScore.patient_id == patient_id)
        .order_by(OutcomeScore.recorded_at, OutcomeScore.created, OutcomeScore.id)
        .offset(offset)
    )
    if limit is not None:
        q = q.limit(limit)
    with s.no_autoflush:
        return list(s.scalars(q))


def count_scores(s: Session, patient_id: str) -> int:
    """How many outcome scores a patient has."""
    q = select(func.count()).select_from(OutcomeScore)
    with s.no_autoflush:
        return s.scalar(q.where(OutcomeScore.patient_id == patient_id)) or 0


# -- audit and feedback ------------------------------------------------------------------------


def audit(
    s: Session,
    user: User | None,
    action: str,
    outcome: str,
    patient_id: str | None = None,
    resource_id: str | None = None,
    client: str | None = None,
    detail: str | None = None,
    issuer: str | None = None,
) -> AuditEntry:
    """Add one audit row (ids and outcomes only; never clinical text)."""
    row = AuditEntry(
        issuer=issuer[:300] if issuer else None,
        user_id=user.id if user else None,
        username=user.username if user else None,
        action=action,
        outcome=outcome,
        patient_id=patient_id,
        resource_id=resource_id,
        client=client[:100] if client else None,
        detail=detail,
        at=utcnow(),
    )
    s.add(row)
    return row


def audit_rows(s: Session, patient_id: str | None = None) -> list[AuditEntry]:
    """Audit rows, oldest first (optionally for one patient)."""
    q = select(AuditEntry).order_by(AuditEntry.id)
    if patient_id is not None:
        q = q.where(AuditEntry.patient_id == patient_id)
    return list(s.scalars(q))


def add_feedback(
    s: Session,
    service_id: str,
    card_uuid: str,
    outcome: str,
    payload: dict[str, Any],
    outcome_timestamp: str | None = None,
    issuer: str | None = None,
) -> CdsFeedback:
    """Store one CDS Hooks feedback item."""
    row = CdsFeedback(
        issuer=issuer,
        service_id=service_id,
        card_uuid=card_uuid,
        outcome=outcome,
        payload=payload,
        outcome_timestamp=outcome_timestamp,
    )
    s.add(row)
    return row


# -- trusted EHRs and the JWT replay cache -----------------------------------------------------


def list_ehrs(s: Session, active_only: bool = False) -> list[TrustedEhr]:
    """Trusted EHRs, by issuer."""
    q = select(TrustedEhr).order_by(TrustedEhr.issuer)
    if active_only:
        q = q.where(TrustedEhr.active.is_(True))
    return list(s.scalars(q))


def ehr_by_issuer(s: Session, issuer: str) -> TrustedEhr | None:
    """The trusted EHR with this issuer, if any."""
    return s.scalar(select(TrustedEhr).where(TrustedEhr.issuer == issuer))


def upsert_ehr(
    s: Session,
    issuer: str,
    jku: str | None = None,
    jwks: dict[str, Any] | None = None,
    label: str | None = None,
    rate_per_minute: int = 120,
) -> TrustedEhr:
    """Add a trusted EHR or replace the keys and settings of an existing one."""
    row = ehr_by_issuer(s, issuer)
    if row is None:
        row = TrustedEhr(issuer=issuer)
        s.add(row)
    row.jku, row.jwks, row.label = jku, jwks, label
    row.rate_per_minute, row.active = rate_per_minute, True
    s.flush()
    return row


def remove_ehr(s: Session, issuer: str) -> bool:
    """Delete a trusted EHR; True when it existed."""
    return bool(s.execute(delete(TrustedEhr).where(TrustedEhr.issuer == issuer)).rowcount)


def remember_jti(s: Session, issuer: str, jti: str, expires: datetime) -> None:
    """Record a JWT id as used (the unique constraint makes a replay fail with IntegrityError)."""
    s.add(SeenJwt(issuer=issuer, jti=jti, expires=expires))
    s.flush()


IDEMPOTENCY_KEEP = timedelta(hours=24)


def purge_expired(s: Session, now: datetime | None = None) -> None:
    """Delete replay-cache entries, rate windows and idempotency keys that no longer matter."""
    now = now or utcnow()
    s.execute(delete(SeenJwt).where(SeenJwt.expires < now))
    s.execute(delete(RateWindow).where(RateWindow.expires < now))
    s.execute(delete(IdempotencyKey).where(IdempotencyKey.created < now - IDEMPOTENCY_KEEP))


# -- shared rate-limit windows -------------------------------------------------------------------


def rate_hit(s: Session, key: str, window: int, expires: datetime, cost: int = 1) -> int:
    """Add `cost` to the (key, window) counter atomically; return the new count."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(RateWindow).values(key=key, window=window, count=cost, expires=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=[RateWindow.key, RateWindow.window],
        set_={"count": RateWindow.count + cost},
    ).returning(RateWindow.count)
    return int(s.execute(stmt).scalar_one())


def rate_count(s: Session, key: str, window: int) -> int:
    """The current count of a (key, window) counter (0 when absent)."""
    row = s.get(RateWindow, (key, window))
    return row.count if row else 0


def rate_clear_expired(s: Session, key: str) -> None:
    """Forget the windows of a key that have expired."""
    s.execute(delete(RateWindow).where(RateWindow.key == key, RateWindow.expires < utcnow()))


def rate_clear(s: Session, key: str) -> None:
    """Forget every window of a key (e.g. failed logins after a success)."""
    s.execute(delete(RateWindow).where(RateWindow.key == key))


# -- idempotency keys ----------------------------------------------------------------------------


def idempotent_response(s: Session, user_id: int, key: str) -> IdempotencyKey | None:
    """The stored response of an earlier save with this key, if any."""
    return s.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )


def store_idempotent_response(
    s: Session,
    user_id: int,
    key: str,
    request_hash: str,
    status: int,
    body: str,
    location: str | None = None,
) -> None:
    """Remember a save's response under its key (unique per user: a race loses with an error)."""
    s.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status=status,
            body=body,
            location=location,
            created=utcnow(),
        )
    )
    s.flush()
