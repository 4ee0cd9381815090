"""The web app: MRI report explainer, clinician assessment, patients over time, condition library.

Served by the API's FastAPI app (`create_app` includes `router`). Pages are Jinja2 templates with
autoescaping; every asset comes from /static; no patient text is logged or stored unless a
signed-in clinician saves an assessment to a patient.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from spineguide.api.security import (
    Principal,
    authenticate,
    client_key,
    current_user,
    login_session,
    logout_session,
    verify_csrf,
)
from spineguide.errors import SpineGuideError
from spineguide.reasoning.assess import Assessment, CaseInput, assess
from spineguide.store import repository as repo
from spineguide.store.db import aware
from spineguide.store.models import utcnow
from spineguide.web import diagrams, forms, library, plain_language

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

router = APIRouter(include_in_schema=False)
MAX_TEXT = 100_000
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def _kb(request: Request) -> Any:
    return request.app.state.sg.kb


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    principal: Principal | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page with the shared context (user, csrf token, content) and safe headers."""
    ctx = {
        "user": principal,
        "csrf": principal.csrf_token if principal else None,
        "content": plain_language.content(),
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=dict(_HEADERS)
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in out:
            out[key] = value[:MAX_TEXT]
    return out


# -- static files ----------------------------------------------------------------------------


@router.get("/static/{path:path}")
async def static(path: str) -> Response:
    """Serve a file from the web app's static folder (no directory listing, no traversal)."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_file() or STATIC_DIR.resolve() not in target.parents:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        target,
        media_type=_STATIC_TYPES.get(target.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# -- 1. understand my MRI report --------------------------------------------------------------


@router.get("/")
async def home(request: Request, principal: Principal | None = Depends(current_user)) -> Response:
    """Home: paste an MRI report (patients) or go to the clinician tools."""
    return _render(request, "mri.html", {"report": "", "home": True}, principal)


@router.get("/mri")
async def mri_form(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The report explainer form."""
    return _render(request, "mri.html", {"report": ""}, principal)


@router.post("/mri/explain")
async def mri_explain(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Explain a pasted report in plain language (nothing is stored)."""
    data = await _form(request)
    report = (data.get("report") or "").strip()
    if not report:
        return _render(
            request,
            "mri.html",
            {"report": "", "error": "Paste the text of your MRI report first."},
            principal,
            400,
        )
    try:
        ex = plain_language.explain_report(report, _kb(request))
    except SpineGuideError as exc:
        return _render(request, "mri.html", {"report": report, "error": str(exc)}, principal, 400)
    parts = diagrams.spine_parts([(m.level, m.side, m.label) for m in ex.marks])
    return _render(
        request,
        "mri_result.html",
        {"ex": ex, "parts": parts, "report": report, "by_level": _by_level(ex.findings)},
        principal,
    )


def _by_level(findings: list[plain_language.PlainFinding]) -> list[tuple[str, list[Any]]]:
    order = {lvl: i for i, lvl in enumerate(("T12-L1", "L1", "L1-L2", "L2", "L2-L3", "L3",
                                              "L3-L4", "L4", "L4-L5", "L5", "L5-S1", "S1"))}  # fmt: skip
    groups: dict[str, list[Any]] = {}
    for f in findings:
        groups.setdefault(f.level or "Level not stated", []).append(f)
    return sorted(groups.items(), key=lambda kv: order.get(kv[0], 99))


# -- 2. clinician assessment ------------------------------------------------------------------


def _assess_form(
    request: Request,
    principal: Principal | None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    recognised: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "assess_form.html",
        {
            "spec": forms.form_spec(_kb(request)),
            "v": values or {},
            "error": error,
            "recognised": recognised,
            "forms": forms,
        },
        principal,
        status_code,
    )


@router.get("/assess")
async def assess_form(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The structured assessment form with a free-text box that pre-fills it."""
    return _assess_form(request, principal)


@router.post("/web/api/extract")
async def extract(request: Request) -> JSONResponse:
    """Run the clinical extractor on free text; return form values (JSON, nothing stored)."""
    try:
        body = await request.json()
        text = str(body.get("text", ""))[:MAX_TEXT] if isinstance(body, dict) else ""
    except ValueError:
        return JSONResponse({"error": 'send JSON: {"text": "..."}'}, status_code=400)
    if not text.strip():
        return JSONResponse({"error": "the text is empty"}, status_code=400)
    values, recognised = forms.form_values_from_text(text, _kb(request))
    return JSONResponse(
        {"fields": values, "recognised": recognised}, headers={"Cache-Control": "no-store"}
    )


def result_context(a: Assessment, kb: Any) -> dict[str, Any]:
    """Everything the result page needs besides the assessment itself."""
    highlight: dict[str, set[str]] = {}
    roots = [r for r in a.localization.roots if r.probability >= 0.25][:2]
    for r in roots:
        sides = {"left", "right"} if r.side in (None, "bilateral") else {r.side}
        highlight.setdefault(r.root, set()).update(sides)
    marks = [
        (f.level, f.side, f.finding.replace("_", " "))
        for f in a.imaging
        if not f.negated and f.level
    ]
    return {
        "a": a,
        "regions": diagrams.dermatome_regions(highlight),
        "legs": diagrams.legs_outline(),
        "highlight_roots": roots,
        "parts": diagrams.spine_parts(marks),
        "badge": plain_language.verdict_badge,
        "urgency": plain_language.content()["urgency"][a.triage.urgency.value],
        "kb": kb,
        "flabel": lambda fid: kb.findings[fid].name if fid in kb.findings else fid,
    }


@router.post("/assess")
async def assess_submit(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Assess the form (or pre-fill it from the free text when that button was used)."""
    kb = _kb(request)
    data = await _form(request)
    if data.get("action") == "prefill":
        note = data.get("note", "")
        if not note.strip():
            return _assess_form(request, principal, data, "Type or paste a note first.", None, 400)
        values, recognised = forms.form_values_from_text(note, kb)
        values["note"] = note
        return _assess_form(request, principal, values, None, recognised)
    try:
        case = forms.case_from_form(data, kb)
        a = assess(case, kb)
    except (forms.FormError, SpineGuideError) as exc:
        return _assess_form(request, principal, data, str(exc), None, 400)
    patients: list[Any] = []
    if principal is not None:
        patients = await run_in_threadpool(_patient_list, request, principal)
    ctx = result_context(a, kb)
    ctx.update({"case_json": case.model_dump_json(exclude_defaults=True), "patients": patients})
    return _render(request, "assess_result.html", ctx, principal)


def _patient_list(request: Request, principal: Principal) -> list[dict[str, Any]]:
    with request.app.state.sg.sessions() as s:
        return [
            {"id": p.id, "label": p.label, "birth_year": p.birth_year, "sex": p.sex}
            for p in repo.list_patients(s, principal.as_user(), limit=200)
        ]


def _save(request: Request, principal: Principal, data: dict[str, str]) -> str | None:
    """Assess again and store input, output and KB version for a patient (one transaction)."""
    kb = _kb(request)
    case = CaseInput.model_validate_json(data.get("case_json") or "{}")
    a = assess(case, kb)
    user = principal.as_user()
    client = client_key(request)
    with request.app.state.sg.sessions.begin() as s:
        patient_id = data.get("patient_id") or ""
        if patient_id == "new" or not patient_id:
            label = (data.get("new_label") or "").strip()[:200]
            if not label:
                raise forms.FormError("Give the new patient a label (e.g. initials and a number).")
            patient = repo.create_patient(s, user, label)
            repo.audit(s, user, "patient.create", "ok", patient_id=patient.id, client=client)
        else:
            patient = repo.visible_patient(s, user, patient_id)
            if patient is None:
                repo.audit(
                    s, user, "assessment.create", "denied", patient_id=patient_id, client=client
                )
                return None
        repo.save_assessment(
            s, user, patient, case.model_dump(mode="json"), json.loads(a.model_dump_json()), client
        )
        return patient.id


@router.post("/assess/save")
async def assess_save(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Save the assessment to a patient (signed-in clinicians only; CSRF-checked)."""
    data = await _form(request)
    if principal is None:
        return RedirectResponse("/login?next=/assess", status_code=303)
    verify_csrf(principal, data.get("csrf_token"))
    if principal.role not in ("clinician", "admin"):
        return _render(request, "error.html", {"message": "A clinician account is needed."},
                       principal, 403)  # fmt: skip
    try:
        patient_id = await run_in_threadpool(_save, request, principal, data)
    except (forms.FormError, SpineGuideError, ValueError) as exc:
        return _render(request, "error.html", {"message": str(exc)[:300]}, principal, 400)
    if patient_id is None:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    return RedirectResponse(f"/patients/{quote(patient_id)}?saved=1", status_code=303)


# -- sign in ------------------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/patients"


@router.get("/login")
async def login_form(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The sign-in page."""
    nxt = _safe_next(request.query_params.get("next"))
    return _render(request, "login.html", {"next": nxt}, principal)


def _login(request: Request, username: str, password: str) -> Any:
    sg = request.app.state.sg
    user = authenticate(sg.sessions, username, password)
    with sg.sessions.begin() as s:
        repo.audit(
            s, user, "auth.login", "ok" if user else "denied", client=client_key(request),
            detail=None if user else "bad credentials (web)",
        )  # fmt: skip
    return user


@router.post("/login")
async def login_submit(request: Request) -> Response:
    """Check the password, start a session (cookie) and go on to the next page."""
    data = await _form(request)
    nxt = _safe_next(data.get("next"))
    limiter = request.app.state.sg.limiters.get("login")
    if limiter is not None and limiter.hit(client_key(request)):
        return _render(request, "login.html",
                       {"next": nxt, "error": "Too many attempts. Wait a minute and try again."},
                       None, 429)  # fmt: skip
    username = (data.get("username") or "").strip()[:80]
    password = (data.get("password") or "")[:1024]
    user = await run_in_threadpool(_login, request, username, password) if username else None
    if user is None:
        return _render(request, "login.html",
                       {"next": nxt, "username": username,
                        "error": "Unknown username or wrong password."}, None, 401)  # fmt: skip
    response = RedirectResponse(nxt, status_code=303)
    await run_in_threadpool(login_session, request, response, user)
    return response


@router.post("/logout")
async def logout(request: Request, principal: Principal | None = Depends(current_user)) -> Response:
    """End the session."""
    data = await _form(request)
    if principal is not None:
        verify_csrf(principal, data.get("csrf_token"))
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(logout_session, request, response)
    return response


# -- patients -----------------------------------------------------------------------------------


def _need_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@router.get("/patients")
async def patients_page(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The clinician's patients."""
    if principal is None:
        return _need_login(request)
    rows = await run_in_threadpool(_patient_list, request, principal)
    return _render(request, "patients.html", {"patients": rows}, principal)


def _create_patient(request: Request, principal: Principal, data: dict[str, str]) -> str:
    label = (data.get("label") or "").strip()[:200]
    if not label:
        raise forms.FormError("Give the patient a label.")
    year_raw = (data.get("birth_year") or "").strip()
    birth_year = None
    if year_raw:
        if not year_raw.isdigit() or not 1900 <= int(year_raw) <= utcnow().year:
            raise forms.FormError("Birth year must be a year such as 1970.")
        birth_year = int(year_raw)
    sex = data.get("sex") or None
    if sex not in (None, "male", "female"):
        raise forms.FormError("Sex must be male or female.")
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        p = repo.create_patient(s, user, label, None, birth_year, sex)
        repo.audit(s, user, "patient.create", "ok", patient_id=p.id, client=client_key(request))
        return p.id


@router.post("/patients")
async def patients_create(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Create a patient."""
    if principal is None:
        return _need_login(request)
    data = await _form(request)
    verify_csrf(principal, data.get("csrf_token"))
    try:
        pid = await run_in_threadpool(_create_patient, request, principal, data)
    except forms.FormError as exc:
        rows = await run_in_threadpool(_patient_list, request, principal)
        return _render(request, "patients.html", {"patients": rows, "error": str(exc)},
                       principal, 400)  # fmt: skip
    return RedirectResponse(f"/patients/{quote(pid)}", status_code=303)


def _patient_detail(request: Request, principal: Principal, patient_id: str) -> Any:
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        p = repo.visible_patient(s, user, patient_id)
        repo.audit(s, user, "patient.read", "ok" if p else "not_found",
                   patient_id=patient_id, client=client_key(request))  # fmt: skip
        if p is None:
            return None
        kb = request.app.state.sg.kb
        assessments = []
        for rec in reversed(repo.assessments_for(s, p.id)):
            cond = kb.conditions.get(rec.leading_diagnosis or "")
            assessments.append(
                {
                    "id": rec.id,
                    "created": aware(rec.created),
                    "urgency": rec.urgency,
                    "leading": cond.name if cond else rec.leading_diagnosis,
                }
            )
        series: dict[str, list[tuple[datetime, float, str | None]]] = {}
        for sc in repo.scores_for(s, p.id):
            if sc.score is not None:
                series.setdefault(sc.instrument, []).append(
                    (aware(sc.recorded_at), float(sc.score), sc.band)
                )
        return {
            "patient": {"id": p.id, "label": p.label, "birth_year": p.birth_year, "sex": p.sex},
            "assessments": assessments,
            "odi": diagrams.trend_chart("ODI (disability, %)", series.get("odi", []), 100, "%"),
            "nrs": diagrams.trend_chart("Pain (NRS 0-10)", series.get("nrs", []), 10, ""),
        }


@router.get("/patients/{patient_id}")
async def patient_page(
    request: Request, patient_id: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """A patient: ODI and pain trend charts and the saved assessments."""
    if principal is None:
        return _need_login(request)
    detail = await run_in_threadpool(_patient_detail, request, principal, patient_id)
    if detail is None:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    from spineguide.reasoning.instruments import ODI_SECTION_LABELS, ODI_SECTIONS

    detail["odi_sections"] = [(k, ODI_SECTION_LABELS.get(k, k)) for k in ODI_SECTIONS]
    detail["saved"] = request.query_params.get("saved") == "1"
    return _render(request, "patient.html", detail, principal)


def _add_score(
    request: Request, principal: Principal, patient_id: str, data: dict[str, str]
) -> bool:
    from spineguide.api.routers.knowledge import score_instrument
    from spineguide.api.routers.patients import score_headline

    instrument = data.get("instrument")
    if instrument == "nrs":
        raw = (data.get("nrs") or "").strip()
        if not raw.isdigit():
            raise forms.FormError("Pain score must be a whole number from 0 to 10.")
        payload: Any = {"score": int(raw)}
    elif instrument == "odi":
        answers: dict[str, int | None] = {}
        from spineguide.reasoning.instruments import ODI_SECTIONS

        for key in ODI_SECTIONS:
            raw = data.get(f"odi__{key}", "")
            answers[key] = int(raw) if raw.isdigit() else None
        payload = {"answers": answers}
    else:
        raise forms.FormError("Unknown questionnaire.")
    when = utcnow()
    raw_date = (data.get("recorded_at") or "").strip()
    if raw_date:
        try:
            when = datetime.fromisoformat(raw_date).replace(tzinfo=when.tzinfo)
        except ValueError:
            raise forms.FormError("Date must look like 2026-03-01.") from None
    result = score_instrument(instrument, payload)
    value, band = score_headline(result)
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        p = repo.visible_patient(s, user, patient_id)
        if p is None:
            return False
        repo.add_score(s, user, p, instrument, payload, result, value, band, when,
                       client_key(request))  # fmt: skip
    return True


@router.post("/patients/{patient_id}/scores")
async def patient_score(
    request: Request, patient_id: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """Record an ODI questionnaire or a pain score for the patient."""
    if principal is None:
        return _need_login(request)
    data = await _form(request)
    verify_csrf(principal, data.get("csrf_token"))
    try:
        ok = await run_in_threadpool(_add_score, request, principal, patient_id, data)
    except (forms.FormError, SpineGuideError) as exc:
        return _render(request, "error.html", {"message": str(exc)[:300]}, principal, 400)
    except Exception as exc:  # the scorer's ProblemError (bad answers) -> readable page
        detail = getattr(exc, "detail", None) or "The answers could not be scored."
        return _render(request, "error.html", {"message": str(detail)[:300]}, principal, 400)
    if not ok:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    return RedirectResponse(f"/patients/{quote(patient_id)}", status_code=303)


def _saved(request: Request, principal: Principal, assessment_id: str) -> Any:
    user = principal.as_user()
    with request.app.state.sg.sessions.begin() as s:
        rec = repo.visible_assessment(s, user, assessment_id)
        repo.audit(s, user, "assessment.read", "ok" if rec else "not_found",
                   patient_id=rec.patient_id if rec else None, resource_id=assessment_id,
                   client=client_key(request))  # fmt: skip
        if rec is None:
            return None
        return rec.patient_id, rec.output_json


@router.get("/assessments/{assessment_id}")
async def saved_assessment(
    request: Request, assessment_id: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """A saved assessment, shown as it was produced."""
    if principal is None:
        return _need_login(request)
    found = await run_in_threadpool(_saved, request, principal, assessment_id)
    if found is None:
        return _render(request, "error.html", {"message": "No such assessment."}, principal, 404)
    patient_id, output = found
    a = Assessment.model_validate(output)
    ctx = result_context(a, _kb(request))
    ctx.update({"saved_patient": patient_id, "patients": []})
    return _render(request, "assess_result.html", ctx, principal)


# -- 3. condition library -----------------------------------------------------------------------


@router.get("/conditions")
async def conditions(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Every condition in the knowledge base, searchable."""
    kb = _kb(request)
    q = (request.query_params.get("q") or "").strip()[:200]
    hits = library.library(kb).search(q)
    groups: dict[str, list[Any]] = {}
    for cid, _score in hits:
        c = kb.conditions[cid]
        groups.setdefault(c.group, []).append(c)
    ordered = [
        (library.GROUP_LABELS.get(g, g), groups[g])
        for g in ("seed", "red_flag", "mimic", "topic")
        if g in groups
    ]
    return _render(
        request, "conditions.html", {"q": q, "groups": ordered, "count": len(hits)}, principal
    )


@router.get("/conditions/{condition_id}")
async def condition(
    request: Request, condition_id: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """One condition with every section, its tests and its treatments with guideline stances."""
    from spineguide.reasoning.plan import build_plan

    kb = _kb(request)
    c = kb.conditions.get(condition_id)
    if c is None:
        return _render(request, "error.html", {"message": "No such condition."}, principal, 404)
    plan = build_plan(c.id, kb)
    return _render(
        request,
        "condition.html",
        {
            "c": c,
            "plan": plan,
            "tests": library.condition_tests(c, kb),
            "badge": plain_language.verdict_badge,
            "stance_lines": library.stance_lines,
            "kb": kb,
        },
        principal,
    )
