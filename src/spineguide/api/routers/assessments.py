"""POST /assessments (assess; optionally save for a patient) and GET /assessments/{id}."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
from spineguide.api.schemas import Problem, SavedAssessment
from spineguide.api.security import (
    Principal,
    client_key,
    current_user,
    rate_limit,
    require_clinician,
)
from spineguide.reasoning.assess import Assessment, CaseInput, assess
from spineguide.store import repository as repo

router = APIRouter(tags=["assessments"])
log = logging.getLogger("spineguide.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "invalid input (e.g. unknown evidence id)"},
    401: {"model": Problem},
    404: {"model": Problem},
    413: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


def _not_found(kind: str, ident: str) -> ProblemError:
    return ProblemError(
        404,
        f"no {kind} with id {ident!r} is visible to you",
        f"check the id; list yours with GET /api/v1/{kind}s" if kind == "patient" else None,
        slug="unknown-id",
    )


_ALWAYS = {"id", "created", "kb_version", "disclaimer"}


def _included(fields: str | None) -> set[str] | None:
    """Validate a sparse-fieldset list against the Assessment model."""
    if not fields:
        return None
    wanted = set(fields.split(","))
    unknown = wanted - set(Assessment.model_fields)
    if unknown:
        raise ProblemError(
            400,
            f"unknown assessment field(s): {', '.join(sorted(unknown))}",
            f"choose from: {', '.join(Assessment.model_fields)}",
            slug="invalid-input",
        )
    return wanted | _ALWAYS


def _save(
    request: Request, principal: Principal, patient_id: str, case: CaseInput, output: str
) -> None:
    """Store input, output and KB version in one transaction (all or nothing)."""
    sf = request.app.state.sg.sessions
    user = principal.as_user()
    client = client_key(request)
    with sf.begin() as s:
        patient = repo.visible_patient(s, user, patient_id)
        if patient is not None:
            rec = repo.save_assessment(
                s, user, patient, case.model_dump(mode="json"), json.loads(output), client
            )
            log.info(
                "assessment saved id=%s patient=%s user=%s evidence=%d",
                rec.id,
                patient.id,
                user.id,
                len(case.evidence),
            )
            return
    with sf.begin() as s:
        repo.audit(s, user, "assessment.create", "denied", patient_id=patient_id, client=client)
    raise _not_found("patient", patient_id)


@router.post(
    "/assessments",
    response_model=Assessment,
    responses={**_ERRORS, 201: {"model": Assessment, "description": "assessed and saved"}},
    dependencies=[Depends(rate_limit("assess"))],
)
async def create_assessment(
    request: Request,
    case: CaseInput,
    save: bool = Query(False, description="store the assessment for `patient_id` (clinicians)"),
    patient_id: str | None = Query(None, max_length=64, description="patient to save it for"),
    fields: str | None = Query(
        None,
        max_length=300,
        pattern=r"^[a-z_]+(,[a-z_]+)*$",
        description="comma-separated top-level fields to return (e.g. triage,differential); "
        "default: everything. Saved assessments always keep the full output.",
    ),
    principal: Principal | None = Depends(current_user),
) -> Response:
    """Assess a presentation: triage, localisation, differential, work-up, plan, medication alerts.

    Anonymous callers may assess; nothing is stored. With `save=true&patient_id=…` and a
    clinician token the input, output and knowledge-base version are saved (201 + Location).
    """
    if save:
        if principal is None:
            raise ProblemError(
                401,
                "saving an assessment needs a signed-in clinician",
                "send 'Authorization: Bearer <token>' from POST /api/v1/auth/token, or drop save",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not patient_id:
            raise ProblemError(
                400,
                "save=true needs a patient_id",
                "create one with POST /api/v1/patients",
                slug="invalid-input",
            )
    include = _included(fields)
    result = assess(case, request.app.state.sg.kb)
    if not save:
        return Response(result.model_dump_json(include=include), media_type="application/json")
    body = result.model_dump_json()
    assert principal is not None and patient_id is not None
    await run_in_threadpool(_save, request, principal, patient_id, case, body)
    return Response(
        result.model_dump_json(include=include) if include else body,
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/v1/assessments/{result.id}"},
    )


def _read(request: Request, principal: Principal, assessment_id: str) -> SavedAssessment:
    sf = request.app.state.sg.sessions
    user = principal.as_user()
    with sf.begin() as s:
        rec = repo.visible_assessment(s, user, assessment_id)
        repo.audit(
            s,
            user,
            "assessment.read",
            "ok" if rec else "not_found",
            patient_id=rec.patient_id if rec else None,
            resource_id=assessment_id,
            client=client_key(request),
        )
        if rec is None:
            out = None
        else:
            out = SavedAssessment(
                id=rec.id,
                patient_id=rec.patient_id,
                clinician_id=rec.clinician_id,
                created=rec.created,
                kb_version=rec.kb_version,
                input=rec.input_json,
                assessment=rec.output_json,
            )
    if out is None:
        raise _not_found("assessment", assessment_id)
    return out


@router.get("/assessments/{assessment_id}", response_model=SavedAssessment, responses=_ERRORS)
async def get_assessment(
    request: Request, assessment_id: str, principal: Principal = Depends(require_clinician)
) -> SavedAssessment:
    """A saved assessment with its exact input, full output and knowledge-base version."""
    return await run_in_threadpool(_read, request, principal, assessment_id)
