"""Patients: create, list, read (with assessments and outcome scores over time), add scores.

Every read or write here is audited; a patient is visible only to its clinician (and admins),
and anyone else gets the same 404 as for an id that does not exist. Reads run in a read-only
transaction and the audit row is written afterwards in its own short transaction, so a reader
never holds the write lock; saves accept an Idempotency-Key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from spineguide.api import idempotency
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
    403: {"model": Problem},
    404: {"model": Problem},
    409: {"model": Problem, "description": "Idempotency-Key reused for another request"},
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


def _audit(request: Request, principal: Principal, action: str, outcome: str, **kw: Any) -> None:
    """One audit row in its own short write transaction."""
    with request.app.state.sg.sessions.begin() as s:
        repo.audit(s, principal.as_user(), action, outcome, client=client_key(request), **kw)


def _idempotent_save(
    request: Request,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    work: Any,
) -> Response:
    """Run `work(session) -> (status, body_json, location)` once per Idempotency-Key."""
    sf = request.app.state.sg.sessions
    for attempt in range(2):
        try:
            with sf.begin() as s:
                if key:
                    stored = idempotency.lookup(s, principal.id, key, fingerprint)
                    if stored is not None:
                        return stored.to_response()
                status, body, location = work(s)
                if key:
                    repo.store_idempotent_response(
                        s, principal.id, key, fingerprint, status, body, location
                    )
        except IntegrityError:
            if not key or attempt:
                raise
            continue  # a concurrent request with the same key won: replay its response
        headers = {"Location": location} if location else None
        return Response(body, status_code=status, media_type="application/json", headers=headers)
    raise AssertionError("unreachable")


async def _fingerprint(request: Request) -> str:
    return idempotency.request_fingerprint(
        request.method, request.url.path, request.url.query, await request.body()
    )


def _create(
    request: Request, principal: Principal, body: PatientCreate, key: str | None, fp: str
) -> Response:
    user = principal.as_user()

    def work(s: Any) -> tuple[int, str, str | None]:
        p = repo.create_patient(s, user, body.label, body.external_ref, body.birth_year, body.sex)
        repo.audit(s, user, "patient.create", "ok", patient_id=p.id, client=client_key(request))
        return 201, _out(p).model_dump_json(), f"/api/v1/patients/{p.id}"

    return _idempotent_save(request, principal, key, fp, work)


@router.post("", response_model=PatientOut, status_code=201, responses=_ERR)
async def create_patient(
    request: Request,
    body: PatientCreate,
    principal: Principal = Depends(require_clinician),
    idempotency_key: str | None = idempotency.IdempotencyHeader,
) -> Response:
    """Create a patient record owned by the signed-in clinician."""
    fp = await _fingerprint(request)
    return await run_in_threadpool(_create, request, principal, body, idempotency_key, fp)


def _list(request: Request, principal: Principal, limit: int, offset: int) -> list[PatientOut]:
    user = principal.as_user()
    with request.app.state.sg.read_sessions() as s:
        rows = [_out(p) for p in repo.list_patients(s, user, limit, offset)]
    _audit(request, principal, "patient.list", "ok", detail=f"count={len(rows)}")
    return rows


@router.get("", response_model=list[PatientOut], responses=_ERR)
async def list_patients(
    request: Request,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    principal: Principal = Depends(require_clinician),
) -> list[PatientOut]:
    """Your patients, newest first."""
    return await run_in_threadpool(_list, request, principal, limit, offset)


def _detail(
    request: Request,
    principal: Principal,
    patient_id: str,
    page: tuple[int, int, int, int],
) -> PatientDetail:
    a_limit, a_offset, s_limit, s_offset = page
    user = principal.as_user()
    detail = None
    with request.app.state.sg.read_sessions() as s:
        p = repo.visible_patient(s, user, patient_id)
        if p is not None:
            scores = [_score_out(r) for r in repo.scores_for(s, p.id, s_limit, s_offset)]
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
                    for a in repo.assessments_for(s, p.id, a_limit, a_offset, newest_first=True)
                ],
                assessments_total=repo.count_assessments(s, p.id),
                assessments_limit=a_limit,
                assessments_offset=a_offset,
                scores=scores,
                scores_total=repo.count_scores(s, p.id),
                series=series,
            )
    _audit(
        request,
        principal,
        "patient.read",
        "ok" if detail else "not_found",
        patient_id=patient_id[:200],
    )
    if detail is None:
        raise _missing(patient_id)
    return detail


@router.get("/{patient_id}", response_model=PatientDetail, responses=_ERR)
async def get_patient(
    request: Request,
    patient_id: str,
    assessments_limit: int = Query(50, ge=1, le=200, description="assessment summaries per page"),
    assessments_offset: int = Query(0, ge=0, le=1_000_000),
    scores_limit: int = Query(500, ge=1, le=2000, description="outcome scores per page"),
    scores_offset: int = Query(0, ge=0, le=1_000_000),
    principal: Principal = Depends(require_clinician),
) -> PatientDetail:
    """A patient with a page of assessment summaries (newest first) and outcome scores."""
    page = (assessments_limit, assessments_offset, scores_limit, scores_offset)
    return await run_in_threadpool(_detail, request, principal, patient_id, page)


def _add_score(
    request: Request,
    principal: Principal,
    patient_id: str,
    body: ScoreCreate,
    key: str | None,
    fp: str,
) -> Response:
    user = principal.as_user()
    # Scoring is pure computation: do it before the write transaction.
    result = score_instrument(body.instrument, body.payload)
    value, band = score_headline(result)
    missing = False

    def work(s: Any) -> tuple[int, str, str | None]:
        nonlocal missing
        p = repo.visible_patient(s, user, patient_id)
        if p is None:
            missing = True
            raise _missing(patient_id)
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
        return 201, _score_out(row).model_dump_json(), None

    try:
        return _idempotent_save(request, principal, key, fp, work)
    except ProblemError:
        if missing:  # the failed transaction rolled back its audit row: write it on its own
            _audit(request, principal, "score.create", "not_found", patient_id=patient_id[:200])
        raise


@router.post("/{patient_id}/scores", response_model=ScoreOut, status_code=201, responses=_ERR)
async def add_score(
    request: Request,
    patient_id: str,
    body: ScoreCreate,
    principal: Principal = Depends(require_clinician),
    idempotency_key: str | None = idempotency.IdempotencyHeader,
) -> Response:
    """Score an outcome instrument and store it in the patient's time series."""
    fp = await _fingerprint(request)
    return await run_in_threadpool(
        _add_score, request, principal, patient_id, body, idempotency_key, fp
    )
