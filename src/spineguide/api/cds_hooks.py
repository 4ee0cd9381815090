"""CDS Hooks 2.0 service: discovery, the `patient-view` lumbar-spine service, and feedback.

Trust (docs/SECURITY.md): every service call and feedback post must carry a JWT signed by a
trusted EHR (see cds_auth); the verified issuer is what the audit log records. Each EHR has its
own rate limit, shared by every worker.

Prefetch policy (docs/API.md): every resource must sit under its declared key and reference
context.patientId (else 400). Keys the EHR did not send are fetched from `fhirServer` with
`fhirAuthorization` (bounded timeouts; we call the FHIR server only when the EHR grants access
with fhirAuthorization); without that a missing `patient` is 412. Every
other key is optional: the plan card says which keys were not available ("not run") versus
supplied empty ("ran, empty"). Mapping and assessment run in the thread pool.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from spineguide.api.cds_auth import VerifiedEhr, verify_request_jwt
from spineguide.api.problems import ProblemError
from spineguide.api.ratelimit import retry_after_header
from spineguide.api.security import client_key
from spineguide.errors import SpineGuideError
from spineguide.reasoning.assess import Assessment, assess
from spineguide.store import repository as repo

router = APIRouter(prefix="/cds-services", tags=["CDS Hooks"])
log = logging.getLogger("spineguide.api")

SERVICE_ID = "spineguide-lumbar"
SOURCE_LABEL = "SpineGuide lumbar spine decision support"
TOPIC_SYSTEM = "urn:spineguide:cds-topic"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": (
        "Observation?patient={{context.patientId}}&code=http://loinc.org|1988-5,"
        "http://loinc.org|4537-7,http://loinc.org|6690-2,http://loinc.org|33914-3,"
        "http://loinc.org|62238-1,http://loinc.org|98979-8,http://loinc.org|4548-4,"
        "http://loinc.org|8310-5,http://loinc.org|8867-4,http://loinc.org|85354-9,"
        "http://loinc.org|72514-3&_sort=-date&_count=50"
    ),
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "imaging": "DiagnosticReport?patient={{context.patientId}}&category=RAD&_sort=-date&_count=3",
}
REQUIRED_PREFETCH = ("patient",)
SERVICE = {
    "hook": "patient-view",
    "title": "SpineGuide lumbar spine assessment",
    "description": (
        "Triage, nerve-root localisation, a ranked differential, work-up and a guideline-graded "
        "care plan for lumbar spine presentations, with medication safety alerts. Reads the "
        "patient, problem list, labs and vital signs, active medications and recent imaging "
        "reports."
    ),
    "id": SERVICE_ID,
    "prefetch": PREFETCH,
    "usageRequirements": (
        "Calls must carry a JWT signed by a registered EHR (CDS Hooks 2.0 security). Prefetch "
        "keys that are not sent are fetched from fhirServer; without a fhirServer the `patient` "
        "prefetch is required (412 otherwise)."
    ),
}
_CDS_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": desc,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }
    for code, desc in (
        (400, "invalid request or prefetch (OperationOutcome fields alongside problem fields)"),
        (401, "missing, invalid, expired, replayed or untrusted EHR JWT"),
        (404, "no such service"),
        (412, "required prefetch missing and no fhirServer to fetch it from"),
        (413, "request body too large"),
        (422, "the request does not match the CDS Hooks schema"),
        (429, "this EHR's rate limit was exceeded"),
        (502, "the FHIR server could not be read"),
    )
}


class CdsContext(BaseModel):
    """patient-view context: userId, patientId and optionally encounterId."""

    model_config = ConfigDict(extra="allow")

    userId: str = Field(min_length=1, max_length=500)
    patientId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-.]{1,64}$")
    encounterId: str | None = Field(None, max_length=500)


class FhirAuthorization(BaseModel):
    """OAuth 2.0 access to the FHIR server, used to fetch prefetch data the EHR did not send."""

    model_config = ConfigDict(extra="allow")

    access_token: str = Field(max_length=8000)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str = Field(max_length=4000)
    subject: str = Field(max_length=500)
    patient: str | None = Field(None, max_length=500)


class CdsRequest(BaseModel):
    """A CDS Hooks 2.0 service request."""

    model_config = ConfigDict(extra="allow")

    hook: str = Field(min_length=1, max_length=100)
    hookInstance: uuid.UUID
    fhirServer: str | None = Field(None, max_length=2000)
    fhirAuthorization: FhirAuthorization | None = None
    context: CdsContext
    prefetch: dict[str, Any] | None = None


class FeedbackItem(BaseModel):
    """One card outcome (accepted or overridden)."""

    model_config = ConfigDict(extra="allow")

    card: str = Field(min_length=1, max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = Field(None, max_length=20)
    overrideReason: dict[str, Any] | None = None
    outcomeTimestamp: str = Field(max_length=40)


class FeedbackRequest(BaseModel):
    """CDS Hooks feedback: a list of card outcomes (at most 64 kB in all)."""

    feedback: list[FeedbackItem] = Field(min_length=1, max_length=50)


def operation_outcome(status: int, code: str, text: str) -> JSONResponse:
    """A FHIR OperationOutcome body (spec: preferred on errors), with problem fields alongside."""
    return JSONResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
            "type": "urn:spineguide:problem:" + ("precondition-failed" if status == 412 else code),
            "title": "Precondition failed" if status == 412 else "Invalid request",
            "status": status,
            "detail": text,
        },
        status_code=status,
        media_type="application/problem+json",
    )


@router.get("")
async def discovery() -> dict[str, Any]:
    """CDS Hooks discovery: the services this server hosts."""
    return {"services": [SERVICE]}


def _summary(text: str) -> str:
    return text if len(text) <= 140 else text[:137].rstrip() + "..."


def _source(base: str, code: str, display: str) -> dict[str, Any]:
    return {
        "label": SOURCE_LABEL,
        "url": f"{base}/docs",
        "topic": {"system": TOPIC_SYSTEM, "code": code, "display": display},
    }


def _card(
    indicator: str, summary: str, detail: str, source: dict[str, Any], links: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "detail": detail,
        "indicator": indicator,
        "source": source,
        "links": links,
    }


def _condition_link(base: str, dx_id: str, name: str) -> dict[str, Any]:
    return {
        "label": f"Knowledge base: {name}"[:100],
        "url": f"{base}/api/v1/conditions/{dx_id}",
        "type": "absolute",
    }


def build_cards(a: Assessment, base: str, data_notes: list[str]) -> list[dict[str, Any]]:
    """Cards: critical for emergency triage, warning for urgent triage or medication alerts,
    info for the plan."""
    cards: list[dict[str, Any]] = []
    urgency = a.triage.urgency.value if hasattr(a.triage.urgency, "value") else a.triage.urgency
    flags = [r for r in a.triage.red_flags if getattr(r.urgency, "value", r.urgency) == urgency]
    if urgency in ("emergency", "urgent"):
        names = ", ".join(r.name for r in flags) or "red flags"
        lines = [f"**Triage: {urgency}.**", ""]
        for r in flags:
            lines.append(f"- **{r.name}**: {r.action or ''}".rstrip())
            for ev in r.evidence[:4]:
                lines.append(f"  - evidence: {ev.label}")
        lines += ["", *a.triage.reasons, "", f"Safety net: {a.triage.safety_net}"]
        links = [_condition_link(base, r.condition, r.name) for r in flags if r.condition][:3]
        if urgency == "emergency":
            summary = f"Emergency: same-day emergency assessment for {names}"
            cards.append(
                _card(
                    "critical", summary, "\n".join(lines), _source(base, "triage", "Triage"), links
                )
            )
        else:
            summary = f"Urgent review within 24-48 h: {names}"
            cards.append(
                _card(
                    "warning", summary, "\n".join(lines), _source(base, "triage", "Triage"), links
                )
            )
    alerts = a.medication_alerts
    if alerts:
        serious = [x for x in alerts if x.get("severity") in ("contraindicated", "major")]
        head = serious[0] if serious else alerts[0]
        lines = []
        for x in alerts[:8]:
            lines.append(
                f"- **{x.get('severity', '')}** {x.get('message') or x.get('title') or x.get('id')}"
            )
            if x.get("action"):
                lines.append(f"  - action: {x['action']}")
        summary = f"{len(alerts)} medication alert(s): {head.get('message') or head.get('id')}"
        cards.append(
            _card(
                "warning" if serious or alerts else "info",
                summary,
                "\n".join(lines),
                _source(base, "medication-safety", "Medication safety"),
                [],
            )
        )
    lines = []
    if a.differential:
        lines.append("**Differential**")
        for d in a.differential[:5]:
            where = " ".join(x for x in (d.level, d.side) if x)
            lines.append(f"1. {d.name} ({d.probability:.0%}){' - ' + where if where else ''}")
    if a.localization.roots:
        roots = ", ".join(
            f"{r.root} {r.side or ''} ({r.probability:.0%})".replace("  ", " ")
            for r in a.localization.roots[:3]
        )
        lines += ["", f"**Likely root(s):** {roots}"]
    steps = a.plan.steps[:5] if a.plan and a.plan.steps else []
    if steps:
        lines += ["", "**Plan (first steps)**"]
        for st in steps:
            lines.append(f"- {getattr(st, 'title', None) or getattr(st, 'name', None) or st}")
    if a.warnings or data_notes:
        lines += ["", "**Data notes**", *[f"- {w}" for w in [*data_notes, *a.warnings]]]
    lines += ["", a.disclaimer]
    lead = a.differential[0] if a.differential else None
    summary = (
        f"Lumbar assessment: {lead.name} most likely; triage {urgency}"
        if lead
        else f"Lumbar assessment: triage {urgency}"
    )
    links = [_condition_link(base, lead.id, lead.name)] if lead else []
    cards.append(
        _card("info", summary, "\n".join(lines), _source(base, "plan", "Care plan"), links)
    )
    return cards


def _base_url(request: Request) -> str:
    configured = request.app.state.sg.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def service_url(request: Request, service_id: str = SERVICE_ID) -> str:
    """This service's URL as EHRs address it (the JWT `aud`)."""
    return f"{_base_url(request)}/cds-services/{service_id}"


async def authenticate_ehr(request: Request, audiences: list[str]) -> VerifiedEhr | None:
    """Verify the EHR's JWT and charge its rate limit; None only in anonymous sandbox mode."""
    sg = request.app.state.sg
    header = request.headers.get("authorization")
    if header is None and sg.settings.cds_allow_anonymous:
        return None
    ehr: VerifiedEhr = await run_in_threadpool(
        verify_request_jwt, header, sg, audiences, sg.jwks_cache
    )
    limiter = sg.limiters["cds"]
    wait = await run_in_threadpool(limiter.hit, ehr.issuer, 1.0, None, ehr.rate_per_minute)
    if wait:
        raise ProblemError(
            429,
            "too many CDS calls from this EHR",
            f"wait {retry_after_header(wait)} s before retrying",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return ehr


async def cds_caller(request: Request) -> VerifiedEhr | None:
    """Dependency: the verified EHR calling this service (before the body is even looked at)."""
    service_id = str(request.path_params.get("service_id", SERVICE_ID))[:100]
    if service_id != SERVICE_ID:
        raise ProblemError(
            404, f"no CDS service {service_id!r}", "see GET /cds-services", slug="unknown-service"
        )
    audiences = [service_url(request, service_id)]
    if request.url.path.endswith("/feedback"):
        audiences.append(audiences[0] + "/feedback")
    return await authenticate_ehr(request, audiences)


def _audit_call(
    request: Request,
    body: CdsRequest,
    ehr: VerifiedEhr | None,
    outcome: str,
    detail: str | None,
) -> None:
    with request.app.state.sg.sessions.begin() as s:
        repo.audit(
            s,
            None,
            "cds.patient-view",
            outcome,
            patient_id=body.context.patientId,
            resource_id=str(body.hookInstance),
            client=client_key(request),
            detail=detail,
            issuer=ehr.issuer if ehr else "anonymous (sandbox mode)",
        )


def _bad_prefetch(problems: list[str]) -> JSONResponse:
    text = "; ".join(problems[:5]) + (
        f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    )
    return operation_outcome(400, "invalid", f"prefetch refused: {text}")


def _run(
    prefetch: dict[str, Any], kb: Any, base: str, extra_notes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Map the prefetch and assess (CPU-bound: runs in the thread pool)."""
    from spineguide.fhir.mapping import case_from_prefetch

    fc = case_from_prefetch(prefetch, kb)
    notes = [*(extra_notes or []), *fc.notes]
    not_run = [k for k in PREFETCH if k not in prefetch or prefetch.get(k) is None]
    if not_run:
        notes.append("prefetch not supplied (not run): " + ", ".join(not_run))
    if fc.empty:
        notes.append("prefetch supplied but empty: " + ", ".join(fc.empty))
    if fc.case is None:
        return [
            _card(
                "info",
                "SpineGuide: not enough data for a lumbar assessment",
                "\n".join(
                    [
                        "No presentation, findings, labs or imaging were found.",
                        "",
                        *[f"- {n}" for n in notes],
                    ]
                ),
                _source(base, "plan", "Care plan"),
                [],
            )
        ]
    try:
        a = assess(fc.case, kb)
    except SpineGuideError as exc:
        raise ProblemError(
            400,
            f"the FHIR data could not be assessed: {exc.message}",
            exc.hint,
            slug="invalid-input",
        ) from None
    return build_cards(a, base, notes)


# Prefetch bodies above this size are mapped and assessed in a separate process: pure-Python
# work in a thread still competes with the event loop for the interpreter lock (a 1 MB bundle
# held other requests up to ~0.7 s that way).
PROCESS_THRESHOLD_BYTES = 200_000
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _process_pool() -> ProcessPoolExecutor:
    """The shared worker process for large bundles (spawned on first use, one per server)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            atexit.register(_POOL.shutdown, wait=False, cancel_futures=True)
        return _POOL


def _run_isolated(
    prefetch: dict[str, Any], base: str, notes: list[str]
) -> tuple[str, Any, Any, Any]:
    """`_run` in the worker process; errors come back as plain values (picklable)."""
    from spineguide.knowledge.loader import get_kb

    try:
        return ("ok", _run(prefetch, get_kb(), base, notes), None, None)
    except ProblemError as exc:
        return ("problem", exc.status, exc.detail, exc.hint)
    except SpineGuideError as exc:
        return ("problem", getattr(exc, "status_code", 400), exc.message, exc.hint)


async def _run_cards(
    request: Request, prefetch: dict[str, Any], notes: list[str]
) -> list[dict[str, Any]]:
    """Cards for the prefetch: large bundles in the worker process, small ones in a thread."""
    global _POOL
    sg = request.app.state.sg
    base = _base_url(request)
    if len(await request.body()) < PROCESS_THRESHOLD_BYTES:
        return await run_in_threadpool(_run, prefetch, sg.kb, base, notes)
    loop = asyncio.get_running_loop()
    try:
        tag, a, b, c = await loop.run_in_executor(
            _process_pool(), _run_isolated, prefetch, base, notes
        )
    except BrokenProcessPool:
        with _POOL_LOCK:
            _POOL = None
        return await run_in_threadpool(_run, prefetch, sg.kb, base, notes)
    if tag == "ok":
        return a
    raise ProblemError(a, b, c, slug="invalid-input", title="Invalid input")


@router.post("/{service_id}", responses=_CDS_ERRORS)
async def call_service(
    request: Request,
    body: CdsRequest,
    service_id: str = Path(max_length=100),
    ehr: VerifiedEhr | None = Depends(cds_caller),
) -> JSONResponse:
    """Run the service on the hook's prefetch and answer cards (needs a trusted EHR's JWT)."""
    from spineguide.fhir.prefetch import FhirFetchError, fetch_prefetch, prefetch_problems

    if service_id != SERVICE_ID:
        raise ProblemError(
            404, f"no CDS service {service_id!r}", "see GET /cds-services", slug="unknown-service"
        )
    if body.hook != "patient-view":
        raise ProblemError(
            400,
            f"service {SERVICE_ID} answers the patient-view hook, not {body.hook!r}",
            "call it with hook 'patient-view'",
            slug="wrong-hook",
        )
    sg = request.app.state.sg
    patient_id = body.context.patientId
    prefetch = dict(body.prefetch or {})
    problems = prefetch_problems(prefetch, patient_id)
    if problems:
        await run_in_threadpool(_audit_call, request, body, ehr, "refused", "prefetch mismatch")
        return _bad_prefetch(problems)
    missing = [k for k in PREFETCH if k not in prefetch]
    fetch_notes: list[str] = []
    if missing and body.fhirServer and body.fhirAuthorization:
        try:
            fetched, failed = await run_in_threadpool(
                fetch_prefetch,
                body.fhirServer,
                body.fhirAuthorization.access_token,
                patient_id,
                PREFETCH,
                missing,
                sg.settings.cds_fhir_connect_timeout_s,
                sg.settings.cds_fhir_read_timeout_s,
                sg.settings.cds_fhir_max_bytes,
                REQUIRED_PREFETCH,
            )
        except FhirFetchError as exc:
            await run_in_threadpool(_audit_call, request, body, ehr, "fhir_error", None)
            return operation_outcome(502, "transient", f"prefetch could not be fetched: {exc}")
        problems = prefetch_problems(fetched, patient_id)
        if problems:
            await run_in_threadpool(_audit_call, request, body, ehr, "refused", "fetched mismatch")
            return _bad_prefetch(problems)
        prefetch.update(fetched)
        fetch_notes = [f"{k} fetched from the FHIR server" for k in fetched]
        fetch_notes += [f"{k} could not be fetched ({why})" for k, why in failed.items()]
    absent = [k for k in REQUIRED_PREFETCH if prefetch.get(k) is None]
    if absent:
        await run_in_threadpool(_audit_call, request, body, ehr, "precondition_failed", None)
        return operation_outcome(
            412,
            "required",
            f"required prefetch {', '.join(absent)!s} was not supplied and there is no "
            "fhirServer with fhirAuthorization to fetch it from; send the prefetch declared at "
            "GET /cds-services",
        )
    cards = await _run_cards(request, prefetch, fetch_notes)
    log.info("cds call hook=%s cards=%d", body.hook, len(cards))
    await run_in_threadpool(_audit_call, request, body, ehr, "ok", f"cards={len(cards)}")
    return JSONResponse({"cards": cards})


def _store_feedback(
    request: Request, service_id: str, body: FeedbackRequest, ehr: VerifiedEhr | None
) -> None:
    issuer = ehr.issuer if ehr else None
    with request.app.state.sg.sessions.begin() as s:
        for item in body.feedback:
            repo.add_feedback(
                s,
                service_id,
                item.card,
                item.outcome,
                item.model_dump(mode="json"),
                item.outcomeTimestamp,
                issuer=issuer,
            )
        repo.audit(
            s,
            None,
            "cds.feedback",
            "ok",
            resource_id=service_id,
            client=client_key(request),
            detail=f"items={len(body.feedback)}",
            issuer=issuer or "anonymous (sandbox mode)",
        )


@router.post("/{service_id}/feedback", responses=_CDS_ERRORS)
async def feedback(
    request: Request,
    body: FeedbackRequest,
    service_id: str = Path(max_length=100),
    ehr: VerifiedEhr | None = Depends(cds_caller),
) -> JSONResponse:
    """Record what the clinician did with the cards (needs a trusted EHR's JWT; 64 kB max)."""
    if service_id != SERVICE_ID:
        raise ProblemError(
            404, f"no CDS service {service_id!r}", "see GET /cds-services", slug="unknown-service"
        )
    sg = request.app.state.sg
    size = len(await request.body())
    if size > sg.settings.cds_feedback_max_bytes:
        raise ProblemError(
            413,
            f"feedback is limited to {sg.settings.cds_feedback_max_bytes} bytes",
            "send card outcomes without large free text",
            slug="payload-too-large",
        )
    await run_in_threadpool(_store_feedback, request, service_id, body, ehr)
    return JSONResponse({})
