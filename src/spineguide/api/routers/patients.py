"""Patients: create, list, read (with assessments and outcome scores over time), add scores.

Every read or write here is audited; a patient is visible only to its clinician (and admins),
and anyone else gets the same 404 as for an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
from spineguide.api.routers.knowledge import score_instrument
from spineguide.api.schemas import (
    AssessmentSummary,
    PatientCreate,
    PatientDetail,
    PatientOut,
    Problem,
    ScoreCreate,
    ScoreOut,
)
from spineguide.api.security import Principal, client_key, require_clinician
from spineguide.store import repository as repo
from spineguide.store.db import aware
from spineguide.store.models import OutcomeScore, Patient, utcnow

router = APIRouter(prefix="/patients", tags=["patients"])
_ERR: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    404: {"model": Problem},
    422: {"model": Problem},
}


def _out(p: Patient) -> PatientOut:
    return PatientOut(
        id=p.id,
        label=p.label,
        external_ref=p.external_ref,
        birth_year=p.birth_year,
        sex=p.sex,
        created=aware(p.created),
    )


def _score_out(row: OutcomeScore) -> ScoreOut:
    return ScoreOut(
        id=row.id,
        instrument=row.instrument,
        score=row.score,
        band=row.band,
        recorded_at=aware(row.recorded_at),
        result=row.result_json,
    )


def score_headline(result: dict[str, Any]) -> tuple[float | None, str | None]:
    """The number and band to plot for each instrument."""
    inst = result.get("instrument")
    if inst == "odi":
        return result.get("index_percent"), result.get("band")
    if inst == "startback":
        return result.get("total"), result.get("risk")
    if inst == "nrs":
        return result.get("score"), result.get("severity")
    return result.get("score"), None


def _missing(patient_id: str) -> ProblemError:
    return ProblemError(
        404,
        f"no patient with id {patient_id!r} is visible to you",
        "list your patients with GET /api/v1/patients",
        slug="unknown-id",
    )


def _create(request: Request, principal: Principal, body: PatientCreate) -> PatientOut:
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        p = repo.create_patient(s, user, body.label, body.external_ref, body.birth_year, body.sex)
        repo.audit(s, user, "patient.create", "ok", patient_id=p.id, client=client_key(request))
        return _out(p)


@router.post("", response_model=PatientOut, status_code=201, responses=_ERR)
async def create_patient(
    request: Request, body: PatientCreate, principal: Principal = Depends(require_clinician)
) -> PatientOut:
    """Create a patient record owned by the signed-in clinician."""
    return await run_in_threadpool(_create, request, principal, body)


def _list(request: Request, principal: Principal, limit: int, offset: int) -> list[PatientOut]:
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        rows = repo.list_patients(s, user, limit, offset)
        repo.audit(
            s, user, "patient.list", "ok", client=client_key(request), detail=f"count={len(rows)}"
        )
        return [_out(p) for p in rows]


@router.get("", response_model=list[PatientOut], responses=_ERR)
async def list_patients(
    request: Request,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    principal: Principal = Depends(require_clinician),
) -> list[PatientOut]:
    """Your patients, newest first."""
    return await run_in_threadpool(_list, request, principal, limit, offset)


def _detail(request: Request, principal: Principal, patient_id: str) -> PatientDetail:
    user = principal.as_user()
    sf = request.app.state.sg.sessions
    with sf.begin() as s:
        p = repo.visible_patient(s, user, patient_id)
        repo.audit(
            s,
            user,
            "patient.read",
            "ok" if p else "not_found",
            patient_id=patient_id,
            client=client_key(request),
        )
        if p is None:
            detail = None
        else:
            scores = [_score_out(r) for r in repo.scores_for(s, p.id)]
            series: dict[str, list[dict[str, Any]]] = {}
            for sc in scores:
                series.setdefault(sc.instrument, []).append(
                    {"recorded_at": sc.recorded_at, "score": sc.score, "band": sc.band}
                )
            detail = PatientDetail(
                **_out(p).model_dump(),
                assessments=[
                    AssessmentSummary(
                        id=a.id,
                        created=aware(a.created),
                        kb_version=a.kb_version,
                        urgency=a.urgency,
                        leading_diagnosis=a.leading_diagnosis,
                    )
                    for a in repo.assessments_for(s, p.id)
                ],
                scores=scores,
                series=series,
            )
    if detail is None:
        raise _missing(patient_id)
    return detail


@router.get("/{patient_id}", response_model=PatientDetail, responses=_ERR)
async def get_patient(
    request: Request, patient_id: str, principal: Principal = Depends(require_clinician)
) -> PatientDetail:
    """A patient with saved assessments and outcome scores over time."""
    return await run_in_threadpool(_detail, request, principal, patient_id)


def _add_score(
    request: Request, principal: Principal, patient_id: str, body: ScoreCreate
) -> ScoreOut:
    user = principal.as_user()
    sf = request.app.state.sg.sessions
    with sf.begin() as s:
        p = repo.visible_patient(s, user, patient_id)
        if p is not None:
            result = score_instrument(body.instrument, body.payload)
            value, band = score_headline(result)
            row = repo.add_score(
                s,
                user,
                p,
                body.instrument,
                body.payload,
                result,
                value,
                band,
                body.recorded_at or utcnow(),
                client_key(request),
            )
            return _score_out(row)
    with sf.begin() as s:
        repo.audit(
            s, user, "score.create", "not_found", patient_id=patient_id, client=client_key(request)
        )
    raise _missing(patient_id)


@router.post("/{patient_id}/scores", response_model=ScoreOut, status_code=201, responses=_ERR)
async def add_score(
    request: Request,
    patient_id: str,
    body: ScoreCreate,
    principal: Principal = Depends(require_clinician),
) -> ScoreOut:
    """Score an outcome instrument and store it in the patient's time series."""
    return await run_in_threadpool(_add_score, request, principal, patient_id, body)
