"""POST /assessments (assess; optionally save for a patient) and GET /assessments/{id}.

A save is one short write transaction (patient check, insert, audit) and accepts an
Idempotency-Key. Small assessments (a few hundred characters take about a millisecond) run on
the event loop: under the GIL a worker thread would not run in parallel anyway, and the hop costs
more CPU than it saves; large ones run in the thread pool so they never stall the loop.

The common request (anonymous, JSON, no save) is answered by a fast path that does the same
checks in the same order as the declared endpoint but without FastAPI's per-request parameter
machinery; anything else, and any request it would refuse, goes to the declared endpoint, which
produces every error response.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from spineguide.api import idempotency
from spineguide.api.problems import ProblemError
from spineguide.api.ratelimit import TokenBucketLimiter
from spineguide.api.routers.patients import _audit, _fingerprint, _idempotent_save
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
from spineguide.store.db import aware

router = APIRouter(tags=["assessments"])
log = logging.getLogger("spineguide.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "invalid input (e.g. unknown evidence id)"},
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
    409: {"model": Problem, "description": "Idempotency-Key reused for another request"},
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
    request: Request,
    principal: Principal,
    patient_id: str,
    case: CaseInput,
    output: str,
    include: set[str] | None,
    key: str | None,
    fp: str,
) -> Response:
    """Store input, output and KB version in one short transaction (all or nothing)."""
    user = principal.as_user()
    client = client_key(request)
    missing = False
    output_json = json.loads(output)
    input_json = case.model_dump(mode="json")

    def work(s: Any) -> tuple[int, str, str | None]:
        nonlocal missing
        patient = repo.visible_patient(s, user, patient_id)
        if patient is None:
            missing = True
            raise _not_found("patient", patient_id)
        rec = repo.save_assessment(s, user, patient, input_json, output_json, client)
        log.info("assessment saved id=%s user=%s evidence=%d", rec.id, user.id, len(case.evidence))
        body = output
        if include:
            body = json.dumps({k: v for k, v in output_json.items() if k in include})
        return 201, body, f"/api/v1/assessments/{rec.id}"

    try:
        return _idempotent_save(request, principal, key, fp, work)
    except ProblemError:
        if missing:
            _audit(request, principal, "assessment.create", "denied", patient_id=patient_id[:200])
        raise


_FIELDS_PATTERN = r"^[a-z_]+(,[a-z_]+)*$"
_FIELDS_RE = re.compile(_FIELDS_PATTERN)
_FIELDS_MAX = 300
# Inputs up to this size are assessed on the event loop (about 1 ms + 5 us per character).
_INLINE_CHARS = 2_000
_INLINE_ITEMS = 40


def _small(case: CaseInput) -> bool:
    """True when assessing `case` takes a few milliseconds at most (no thread hop needed)."""
    chars = len(case.text or "") + len(case.imaging_report or "")
    return chars <= _INLINE_CHARS and len(case.evidence) + len(case.medications) <= _INLINE_ITEMS


async def _assess_response(
    case: CaseInput, kb: Any, include: set[str] | None, detail: Literal["summary", "full"]
) -> Response:
    """Assess and serialise: on the event loop when small, else in the thread pool."""
    if _small(case):
        return _assess_json(case, kb, include, detail)
    return await run_in_threadpool(_assess_json, case, kb, include, detail)


async def create_assessment(
    request: Request,
    case: CaseInput,
    save: bool = Query(False, description="store the assessment for `patient_id` (clinicians)"),
    patient_id: str | None = Query(None, max_length=64, description="patient to save it for"),
    fields: str | None = Query(
        None,
        max_length=_FIELDS_MAX,
        pattern=_FIELDS_PATTERN,
        description="comma-separated top-level fields to return (e.g. triage,differential); "
        "default: everything. Saved assessments always keep the full output.",
    ),
    detail: Literal["summary", "full"] = Query(
        "summary",
        description="summary: every diagnosis is ranked, but evidence for and against is given "
        "for the leading 8 and the must-not-miss ones (the rest carry explained=false); "
        "full: evidence for every diagnosis. Saved assessments are always full.",
    ),
    principal: Principal | None = Depends(current_user),
    idempotency_key: str | None = idempotency.IdempotencyHeader,
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
    if not save:
        return await _assess_response(case, request.app.state.sg.kb, include, detail)
    assert principal is not None and patient_id is not None
    fp = await _fingerprint(request)
    if idempotency_key:  # a retry: answer from the stored response without assessing again
        replay = await run_in_threadpool(_replay, request, principal, idempotency_key, fp)
        if replay is not None:
            return replay
    result = await run_in_threadpool(assess, case, request.app.state.sg.kb, "full")
    return await run_in_threadpool(
        _save,
        request,
        principal,
        patient_id,
        case,
        result.model_dump_json(),
        include,
        idempotency_key,
        fp,
    )


def _assess_json(
    case: CaseInput, kb: Any, include: set[str] | None, detail: Literal["summary", "full"]
) -> Response:
    """Assess and serialise (CPU-bound)."""
    result = assess(case, kb, detail)
    # The bytes model_dump_json() would decode to str (and Response encode again): same JSON.
    body = Assessment.__pydantic_serializer__.to_json(result, include=include)
    return Response(body, media_type="application/json")


# Headers that bring in authentication or an idempotency key: the declared endpoint handles them.
_GENERAL_PATH_HEADERS = frozenset({b"authorization", b"cookie", b"idempotency-key"})


def _simple_query(query_string: bytes) -> tuple[str | None, Literal["summary", "full"]] | None:
    """`fields` and `detail` when the query holds nothing else and both are valid, else None."""
    if not query_string:
        return None, "summary"
    fields: str | None = None
    detail: Literal["summary", "full"] = "summary"
    seen: set[str] = set()
    # parsed as Starlette parses it (Request.query_params)
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return None
        seen.add(name)
        if name == "fields" and len(value) <= _FIELDS_MAX and _FIELDS_RE.fullmatch(value):
            fields = value
        elif name == "detail" and value in ("summary", "full"):
            detail = "full" if value == "full" else "summary"
        else:
            return None
    return fields, detail


async def _anonymous_fast(request: Request) -> Response | None:
    """Answer an anonymous JSON assessment without saving; None sends it to the declared endpoint.

    Same steps as `create_assessment` for such a request: the rate limit is charged only once
    the input is known to be valid (the endpoint charges first, then validates; both orders leave
    the same state), and a request that would be refused is passed on uncharged.
    """
    if request.app.dependency_overrides:  # overridden dependencies apply only on the endpoint
        return None
    content_type = None
    for name, value in request.scope["headers"]:
        if name in _GENERAL_PATH_HEADERS:
            return None
        if name == b"content-type" and content_type is None:
            content_type = value
    if content_type is None or content_type.lower() != b"application/json":
        return None
    query = _simple_query(request.scope["query_string"])
    if query is None:
        return None
    fields, detail = query
    try:
        data = await request.json()  # cached on the request for the endpoint
        case = CaseInput.model_validate(data)  # as FastAPI validates the body
    except Exception:  # unreadable body, malformed JSON, invalid input: the endpoint reports it
        return None
    sg = request.app.state.sg
    limiter = sg.limiters["assess"]
    if not isinstance(limiter, TokenBucketLimiter) or limiter.hit(client_key(request)):
        return None  # refused: the endpoint's dependency answers 429 (a refusal takes nothing)
    return await _assess_response(case, sg.kb, _included(fields), detail)


class AssessmentRoute(APIRoute):
    """The POST /assessments route: the anonymous fast path first, then the declared endpoint."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler for the endpoint (errors go through the same handlers)."""
        declared = super().get_route_handler()

        async def handler(request: Request) -> Response:
            fast = await _anonymous_fast(request)
            return fast if fast is not None else await declared(request)

        return handler


router.add_api_route(
    "/assessments",
    create_assessment,
    methods=["POST"],
    response_model=Assessment,
    responses={**_ERRORS, 201: {"model": Assessment, "description": "assessed and saved"}},
    dependencies=[Depends(rate_limit("assess"))],
    route_class_override=AssessmentRoute,
)


def _replay(request: Request, principal: Principal, key: str, fp: str) -> Response | None:
    with request.app.state.sg.read_sessions() as s:
        stored = idempotency.lookup(s, principal.id, key, fp)
    return stored.to_response() if stored else None


def _read(request: Request, principal: Principal, assessment_id: str) -> SavedAssessment:
    user = principal.as_user()
    out = None
    with request.app.state.sg.read_sessions() as s:
        rec = repo.visible_assessment(s, user, assessment_id)
        if rec is not None:
            out = SavedAssessment(
                id=rec.id,
                patient_id=rec.patient_id,
                clinician_id=rec.clinician_id,
                created=aware(rec.created),
                kb_version=rec.kb_version,
                input=rec.input_json,
                assessment=rec.output_json,
            )
    _audit(
        request,
        principal,
        "assessment.read",
        "ok" if out else "not_found",
        patient_id=out.patient_id if out else None,
        resource_id=assessment_id[:200],
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
