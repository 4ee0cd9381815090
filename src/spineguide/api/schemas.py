"""Request and response models of the REST API (the core's models are reused as they are)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details (with a `hint` saying what to do)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    hint: str | None = None


class DbStatus(BaseModel):
    """Database reachability and schema revision."""

    status: Literal["ok", "unavailable"]
    dialect: str
    revision: str | None = None


class Health(BaseModel):
    """Service health: versions and database status."""

    status: Literal["ok", "degraded"]
    version: str
    kb_version: str
    db: DbStatus


class TokenRequest(_Strict):
    """Username and password in exchange for a bearer token."""

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    """An OAuth2-style bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    expires_in: int


class SessionResponse(BaseModel):
    """A started browser session (the cookie is set on the response)."""

    username: str
    role: str
    csrf_token: str


class Me(BaseModel):
    """The signed-in account."""

    id: int
    username: str
    role: str
    via: str


class ImagingParseRequest(_Strict):
    """A free-text imaging report."""

    text: str = Field(min_length=1, max_length=200_000)


class ConditionSummary(BaseModel):
    """One diagnosis in the knowledge base, as listed."""

    id: str
    name: str
    group: str
    default_urgency: str
    icd10cm: list[str]


class PatientCreate(_Strict):
    """A new patient record (keep it minimal: a label or pseudonym, not a full identity)."""

    label: str = Field(min_length=1, max_length=200)
    external_ref: str | None = Field(None, max_length=200)
    birth_year: int | None = Field(None, ge=1880, le=2100)
    sex: Literal["male", "female"] | None = None


class PatientOut(BaseModel):
    """A patient record."""

    id: str
    label: str
    external_ref: str | None
    birth_year: int | None
    sex: str | None
    created: datetime


class AssessmentSummary(BaseModel):
    """A saved assessment in a patient's history."""

    id: str
    created: datetime
    kb_version: str
    urgency: str
    leading_diagnosis: str | None


class ScoreOut(BaseModel):
    """One outcome score in a patient's time series."""

    id: str
    instrument: str
    score: float | None
    band: str | None
    recorded_at: datetime
    result: dict[str, Any]


class PatientDetail(PatientOut):
    """A patient with a page of assessment summaries (newest first) and outcome scores over time.

    Full assessments are read one at a time from GET /api/v1/assessments/{id}.
    """

    assessments: list[AssessmentSummary]
    assessments_total: int = Field(description="how many assessments the patient has in all")
    assessments_limit: int
    assessments_offset: int
    scores: list[ScoreOut]
    scores_total: int = Field(description="how many outcome scores the patient has in all")
    series: dict[str, list[dict[str, Any]]] = Field(
        description="per instrument: [{recorded_at, score, band}] in time order"
    )


class ScoreCreate(_Strict):
    """An outcome instrument to score and store for a patient."""

    instrument: Literal["odi", "startback", "rmdq", "nrs"]
    payload: dict[str, Any] | list[Any] | int = Field(
        description="the instrument's JSON payload, as POST /instruments/{instrument}/score takes"
    )
    recorded_at: AwareDatetime | None = Field(
        None, description="when it was measured, with a time zone (default now)"
    )


class SavedAssessment(BaseModel):
    """A stored assessment: its input, its full output and the KB version that produced it."""

    id: str
    patient_id: str
    clinician_id: int
    created: datetime
    kb_version: str
    input: dict[str, Any]
    assessment: dict[str, Any]
