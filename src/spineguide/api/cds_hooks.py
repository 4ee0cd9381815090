"""CDS Hooks 2.0 service: discovery, the `patient-view` lumbar-spine service, and feedback.

Prefetch policy (documented in docs/API.md): `patient` is required; when it is absent and the
request carries no fhirServer we answer 412 with an OperationOutcome. We never call back to the
FHIR server in this version, so with a fhirServer but no `patient` prefetch we also answer 412.
Every other key is optional: the service runs on what is available and says in the plan card
which keys were not supplied ("not run") versus supplied empty ("ran, empty").
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
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
        "The `patient` prefetch is required (412 otherwise); the others are used when present."
    ),
}


class CdsContext(BaseModel):
    """patient-view context: userId, patientId and optionally encounterId."""

    model_config = ConfigDict(extra="allow")

    userId: str = Field(min_length=1, max_length=500)
    patientId: str = Field(min_length=1, max_length=500)
    encounterId: str | None = Field(None, max_length=500)


class FhirAuthorization(BaseModel):
    """OAuth 2.0 access to the FHIR server (accepted; not used: we do not call back)."""

    model_config = ConfigDict(extra="allow")

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


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
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: dict[str, Any] | None = None
    outcomeTimestamp: str = Field(max_length=40)


class FeedbackRequest(BaseModel):
    """CDS Hooks feedback: a list of card outcomes."""

    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


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


def _audit_call(request: Request, body: CdsRequest, outcome: str, detail: str | None) -> None:
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
        )


@router.post("/{service_id}")
async def call_service(
    request: Request, body: CdsRequest, service_id: str = Path(max_length=100)
) -> JSONResponse:
    """Run the service on the hook's prefetch and answer cards."""
    from spineguide.fhir.mapping import case_from_prefetch

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
    prefetch = body.prefetch or {}
    absent = [k for k in REQUIRED_PREFETCH if prefetch.get(k) is None]
    if absent:
        await run_in_threadpool(_audit_call, request, body, "precondition_failed", None)
        return operation_outcome(
            412,
            "required",
            f"required prefetch {', '.join(absent)!s} was not supplied and this service does not "
            "query the FHIR server; send the prefetch declared at GET /cds-services",
        )
    kb = request.app.state.sg.kb
    fc = case_from_prefetch({k: prefetch.get(k) for k in prefetch}, kb)
    notes = list(fc.notes)
    not_run = [k for k in PREFETCH if k not in prefetch or prefetch.get(k) is None]
    if not_run:
        notes.append("prefetch not supplied (not run): " + ", ".join(not_run))
    if fc.empty:
        notes.append("prefetch supplied but empty: " + ", ".join(fc.empty))
    base = _base_url(request)
    if fc.case is None:
        cards = [
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
    else:
        try:
            a = assess(fc.case, kb)
        except SpineGuideError as exc:
            raise ProblemError(
                400,
                f"the FHIR data could not be assessed: {exc.message}",
                exc.hint,
                slug="invalid-input",
            ) from None
        cards = build_cards(a, base, notes)
    log.info("cds call hook=%s cards=%d resources=%s", body.hook, len(cards), fc.counts)
    await run_in_threadpool(_audit_call, request, body, "ok", f"cards={len(cards)}")
    return JSONResponse({"cards": cards})


def _store_feedback(request: Request, service_id: str, body: FeedbackRequest) -> None:
    with request.app.state.sg.sessions.begin() as s:
        for item in body.feedback:
            repo.add_feedback(
                s,
                service_id,
                item.card,
                item.outcome,
                item.model_dump(mode="json"),
                item.outcomeTimestamp,
            )
        repo.audit(
            s,
            None,
            "cds.feedback",
            "ok",
            resource_id=service_id,
            client=client_key(request),
            detail=f"items={len(body.feedback)}",
        )


@router.post("/{service_id}/feedback")
async def feedback(
    request: Request, body: FeedbackRequest, service_id: str = Path(max_length=100)
) -> JSONResponse:
    """Record what the clinician did with the cards (accepted or overridden)."""
    if service_id != SERVICE_ID:
        raise ProblemError(
            404, f"no CDS service {service_id!r}", "see GET /cds-services", slug="unknown-service"
        )
    await run_in_threadpool(_store_feedback, request, service_id, body)
    return JSONResponse({})
