"""The web app: MRI report explainer, clinician assessment, patients over time, condition library.

Served by the API's FastAPI app (`create_app` includes `router`). Pages are Jinja2 templates with
autoescaping; every asset comes from /static; no patient text is logged or stored unless a
signed-in clinician saves an assessment to a patient.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import problem_response
from spineguide.api.security import (
    Principal,
    authenticate,
    client_key,
    current_user,
    login_session,
    logout_session,
)
from spineguide.errors import SpineGuideError
from spineguide.reasoning.assess import Assessment, CaseInput, assess
from spineguide.store import repository as repo
from spineguide.store.db import aware
from spineguide.store.models import utcnow
from spineguide.web import diagrams, forms, library, plain_language, results
from spineguide.web.state import (
    BROWSER_COOKIE,
    Entry,
    ResultStore,
    login_token,
    make_store,
    new_browser_id,
)

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
    browser = request.cookies.get(BROWSER_COOKIE)
    fresh = browser is None
    browser = browser or new_browser_id()
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx = {
        "user": principal,
        "csrf": principal.csrf_token if principal else None,
        "content": plain_language.content(),
        "path": request.url.path,
        "here": here if request.method == "GET" else request.url.path,
        "login_csrf": login_token(browser),
        **context,
    }
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=dict(_HEADERS)
    )
    if fresh:
        _set_browser_cookie(request, response, browser)
    return response


def _set_browser_cookie(request: Request, response: Response, browser: str) -> None:
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        httponly=True,
        secure=request.app.state.sg.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def _state(request: Request) -> ResultStore:
    """The app's per-browser result store (created on first use, as the settings say)."""
    st = getattr(request.app.state, "web_state", None)
    if st is None:
        sg = request.app.state.sg
        st = make_store(sg.settings.web_state, sg.sessions)
        request.app.state.web_state = st
    return st


def _keep(request: Request, entry: Entry) -> None:
    """Store a change to an entry's input (shared with the other worker processes)."""
    _state(request).save(entry)


def _remember(
    request: Request, kind: str, data: dict[str, Any], cache: dict[str, Any] | None = None
) -> tuple[str, str | None]:
    """Store input for this browser; returns (id, new browser id when the cookie was missing)."""
    browser = request.cookies.get(BROWSER_COOKIE)
    fresh = None
    if not browser:
        browser = fresh = new_browser_id()
    return _state(request).put(browser, kind, data, cache), fresh


def _recall(request: Request, rid: str | None, kind: str) -> Any:
    """The stored entry of this kind for this browser, or None."""
    if not rid:
        return None
    return _state(request).get(request.cookies.get(BROWSER_COOKIE), rid, kind)


def _see_other(request: Request, url: str, fresh_browser: str | None = None) -> Response:
    """A 303 redirect (post/redirect/get), setting the browser cookie when it is new."""
    response = RedirectResponse(url, status_code=303)
    if fresh_browser:
        _set_browser_cookie(request, response, fresh_browser)
    return response


def _csrf_ok(principal: Principal | None, token: str | None) -> bool:
    """True when a cookie session's form carries its CSRF token (bearer callers pass)."""
    if principal is None or principal.via != "session":
        return True
    return bool(token and principal.csrf_token and hmac.compare_digest(token, principal.csrf_token))


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
    """The report explainer form (``?edit=<id>`` brings back a report explained earlier)."""
    entry = _recall(request, request.query_params.get("edit"), "mri")
    report = entry.data["report"] if entry else ""
    return _render(request, "mri.html", {"report": report}, principal)


@router.post("/mri/explain")
async def mri_explain(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Keep the pasted report for this browser and redirect to its explanation (PRG)."""
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
    rid, fresh = _remember(request, "mri", {"report": report}, {"ex": ex})
    return _see_other(request, f"/mri/result/{rid}", fresh)


@router.get("/mri/explain")
async def mri_explain_get() -> Response:
    """A bookmarked or reloaded form address: go to the form."""
    return RedirectResponse("/mri", status_code=303)


@router.get("/mri/result/{rid}")
async def mri_result(
    request: Request, rid: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """The explanation of a report this browser pasted (kept for the session)."""
    entry = _recall(request, rid, "mri")
    if entry is None:
        return _render(
            request,
            "mri.html",
            {"report": "", "error": _GONE.format(what="explanation", again="paste the report")},
            principal,
            404,
        )
    ex = entry.cache.get("ex")
    if ex is None:
        ex = entry.cache["ex"] = plain_language.explain_report(entry.data["report"], _kb(request))
    parts = diagrams.spine_parts(
        [(m.level, m.side, m.label) for m in ex.marks],
        {lvl: sev for lvl, sev in ex.level_severity.items()},
    )
    return _render(
        request,
        "mri_result.html",
        {"ex": ex, "parts": parts, "rid": rid, "levels": ex.levels},
        principal,
    )


_GONE = (
    "This {what} is no longer kept: results stay for 12 hours in the browser that made them, "
    "and are forgotten when the service restarts. Please {again} again."
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
    error_field: str | None = None,
    notice: str | None = None,
) -> Response:
    return _render(
        request,
        "assess_form.html",
        {
            "spec": forms.form_spec(_kb(request)),
            "v": values or {},
            "error": error,
            "error_field": error_field,
            "recognised": recognised,
            "forms": forms,
            "notice": notice,
        },
        principal,
        status_code,
    )


@router.get("/assess")
async def assess_form(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The assessment form; ``?edit=<id>`` or ``?filled=<id>`` bring back kept input."""
    q = request.query_params
    filled = _recall(request, q.get("filled"), "prefill")
    if filled is not None:
        return _assess_form(
            request, principal, filled.data["values"], None, filled.data["recognised"]
        )
    edit = _recall(request, q.get("edit"), "assess")
    if edit is not None:
        return _assess_form(request, principal, edit.data["form"])
    notice = None
    if q.get("edit") or q.get("filled"):
        notice = _GONE.format(what="form", again="enter the case")
    return _assess_form(request, principal, notice=notice)


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


def result_context(a: Assessment, kb: Any, case: CaseInput | None = None) -> dict[str, Any]:
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
    meds = results.medicines_taken(a, kb)
    plan = results.plan_view(a, kb, meds)
    return {
        "a": a,
        "regions": diagrams.dermatome_regions(highlight),
        "legs": diagrams.legs_outline(),
        "highlight_roots": roots,
        "root_sides": results.root_sides(a),
        "parts": diagrams.spine_parts(marks),
        "badge": plain_language.verdict_badge,
        "urgency": plain_language.content()["urgency"][a.triage.urgency.value],
        "kb": kb,
        "flabel": lambda fid: kb.findings[fid].name if fid in kb.findings else fid,
        "meds_taken": meds,
        "plan_view": plan,
        "stances": results.stance_chips,
        "workup": results.workup_view(a, case),
        "show_red_flags": results.red_flags_fired(a),
        "next_questions": list(getattr(a, "next_questions", None) or [])[:5],
        "must_not_miss": [d for d in a.differential[:8] if getattr(d, "must_not_miss", False)],
        "dx_side": results.diagnosis_side,
    }


def _has_structured(data: dict[str, str]) -> bool:
    skip = {"note", "action", "csrf_token", "setting"}
    return any(v.strip() for k, v in data.items() if k not in skip and isinstance(v, str))


@router.post("/assess")
async def assess_submit(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """Assess the form (or pre-fill it from the note) and redirect to the kept result (PRG)."""
    kb = _kb(request)
    data = await _form(request)
    note = data.get("note", "")
    if data.get("action") == "prefill" and (note.strip() or not _has_structured(data)):
        if not note.strip():
            return _assess_form(
                request, principal, data, "Type or paste a note first.", None, 400, "note"
            )
        values, recognised = forms.form_values_from_text(note, kb)
        values["note"] = note
        values.setdefault("setting", data.get("setting") or "primary")
        rid, fresh = _remember(request, "prefill", {"values": values, "recognised": recognised})
        return _see_other(request, f"/assess?filled={rid}", fresh)
    try:
        case = forms.case_from_form(data, kb)
        a = assess(case, kb)
    except forms.FormError as exc:
        return _assess_form(request, principal, data, str(exc), None, 400, exc.field)
    except SpineGuideError as exc:
        return _assess_form(request, principal, data, str(exc), None, 400)
    form = {k: v for k, v in data.items() if k not in ("csrf_token", "action")}
    rid, fresh = _remember(request, "assess", {"form": form}, {"a": a, "case": case})
    return _see_other(request, f"/assess/result/{rid}", fresh)


def _assessed(request: Request, entry: Any) -> tuple[Assessment, CaseInput]:
    """The kept assessment of an entry (computed again when not cached)."""
    if "a" not in entry.cache:  # another worker stored it, or this one's cache let it go
        kb = _kb(request)
        if entry.data.get("case_json"):
            case = CaseInput.model_validate_json(entry.data["case_json"])
        else:
            case = forms.case_from_form(entry.data["form"], kb)
        entry.cache.update({"a": assess(case, kb), "case": case})
    return entry.cache["a"], entry.cache["case"]


async def _result_page(
    request: Request,
    principal: Principal | None,
    rid: str,
    entry: Any,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    a, case = _assessed(request, entry)
    patients: list[Any] = []
    if principal is not None:
        patients = await run_in_threadpool(_patient_list, request, principal)
    ctx = result_context(a, _kb(request), case)
    pending = entry.data.get("save") or {}
    notice = None
    if request.query_params.get("resume") and pending:
        notice = (
            "Your sign-in had expired. The assessment is kept: check the patient and press Save."
        )
    ctx.update(
        {
            "case_json": case.model_dump_json(exclude_defaults=True),
            "patients": patients,
            "rid": rid,
            "pending": pending,
            "notice": notice,
            "save_error": error,
        }
    )
    return _render(request, "assess_result.html", ctx, principal, status_code)


@router.get("/assess/result/{rid}")
async def assess_result(
    request: Request, rid: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """An assessment this browser made (kept for the session; Back and links keep it)."""
    entry = _recall(request, rid, "assess")
    if entry is None:
        return _assess_form(
            request,
            principal,
            error=_GONE.format(what="assessment", again="enter the case"),
            status_code=404,
        )
    return await _result_page(request, principal, rid, entry)


def _patient_list(request: Request, principal: Principal) -> list[dict[str, Any]]:
    with request.app.state.sg.sessions() as s:
        return [
            {"id": p.id, "label": p.label, "birth_year": p.birth_year, "sex": p.sex}
            for p in repo.list_patients(s, principal.as_user(), limit=200)
        ]


def _save(
    request: Request, principal: Principal, data: dict[str, str], case: CaseInput | None = None
) -> str | None:
    """Assess again and store input, output and KB version for a patient (one transaction)."""
    kb = _kb(request)
    if case is None:
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
    """Save the assessment to a patient (signed-in clinicians only; CSRF-checked).

    When the sign-in has expired the assessment and the chosen patient are kept for this browser
    and the clinician is sent to sign in, then back to the result to press Save again.
    """
    data = await _form(request)
    save = {k: data.get(k, "") for k in ("patient_id", "new_label")}
    rid = data.get("rid") or ""
    entry = _recall(request, rid, "assess")
    fresh: str | None = None
    if entry is None and data.get("case_json"):
        try:
            case = CaseInput.model_validate_json(data["case_json"])
            kept = {"case": case, "a": assess(case, _kb(request))}
        except (ValueError, SpineGuideError):
            kept = None
        if kept is not None:
            kept_input = {"form": {}, "case_json": data["case_json"]}
            rid, fresh = _remember(request, "assess", kept_input, kept)
            browser = fresh or request.cookies.get(BROWSER_COOKIE)
            entry = _state(request).get(browser, rid, "assess")
    if principal is None or not _csrf_ok(principal, data.get("csrf_token")):
        if entry is None and principal is None:
            return RedirectResponse("/login?next=/assess", status_code=303)
        if entry is None:
            return _render(request, "error.html", {"message": _GONE.format(
                what="assessment", again="enter the case")}, principal, 404)  # fmt: skip
        entry.data["save"] = save
        _keep(request, entry)
        nxt = f"/assess/result/{rid}?resume=1"
        if principal is None:
            return _see_other(request, f"/login?expired=1&next={quote(nxt)}", fresh)
        return _see_other(request, nxt, fresh)
    if principal.role not in ("clinician", "admin"):
        return _render(request, "error.html", {"message": "A clinician account is needed."},
                       principal, 403)  # fmt: skip
    try:
        kept_case = _assessed(request, entry)[1] if entry is not None else None
        patient_id = await run_in_threadpool(_save, request, principal, data, kept_case)
    except (forms.FormError, SpineGuideError, ValueError) as exc:
        if entry is not None:
            entry.data["save"] = save
            _keep(request, entry)
            return await _result_page(request, principal, rid, entry, str(exc)[:300], 400)
        return _render(request, "error.html", {"message": str(exc)[:300]}, principal, 400)
    if patient_id is None:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    if entry is not None and entry.data.pop("save", None) is not None:
        _keep(request, entry)
    return RedirectResponse(f"/patients/{quote(patient_id)}?saved=1", status_code=303)


@router.get("/assess/save")
async def assess_save_get() -> Response:
    """A reloaded save address: go to the form."""
    return RedirectResponse("/assess", status_code=303)


# -- sign in ------------------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/patients"


@router.get("/login")
async def login_form(
    request: Request, principal: Principal | None = Depends(current_user)
) -> Response:
    """The sign-in page (says so when a sign-in expired and the work was kept)."""
    nxt = _safe_next(request.query_params.get("next"))
    notice = None
    if request.query_params.get("expired"):
        notice = "Your sign-in has expired. Sign in again: what you entered is kept."
    return _render(request, "login.html", {"next": nxt, "notice": notice}, principal)


def _same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site (Origin, else Referer)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return claimed is None
    parts = urlsplit(claimed)
    host = request.headers.get("host", "")
    return parts.netloc == host and parts.scheme in ("http", "https")


def _login(request: Request, username: str, password: str) -> tuple[Any, str | None, int]:
    """(user, error message, status): the service's login policy when it has one (lockout)."""
    from spineguide.api import security
    from spineguide.api.problems import ProblemError

    policy = getattr(security, "check_login", None)
    if policy is not None:
        try:
            return policy(request, username, password), None, 200
        except ProblemError as exc:
            if exc.status == 429:
                return None, "Too many failed sign-ins for this account. Wait and try again.", 429
            return None, "Unknown username or wrong password.", 401
    sg = request.app.state.sg
    user = authenticate(sg.sessions, username, password)
    with sg.sessions.begin() as s:
        repo.audit(
            s, user, "auth.login", "ok" if user else "denied", client=client_key(request),
            detail=None if user else "bad credentials (web)",
        )  # fmt: skip
    return user, None if user else "Unknown username or wrong password.", 200 if user else 401


@router.post("/login")
async def login_submit(request: Request) -> Response:
    """Check origin, form token and password, start a session (cookie) and go on to `next`."""
    data = await _form(request)
    nxt = _safe_next(data.get("next"))
    browser = request.cookies.get(BROWSER_COOKIE)
    token = data.get("login_csrf") or ""
    if (
        not _same_origin(request)
        or not browser
        or not hmac.compare_digest(token, login_token(browser))
    ):
        return _render(request, "login.html",
                       {"next": nxt, "username": (data.get("username") or "")[:80],
                        "error": "The sign-in form had expired or came from another site. "
                                 "Please sign in again."}, None, 403)  # fmt: skip
    limiter = request.app.state.sg.limiters.get("login")
    # The login limiter is shared across workers through the database: keep it off the loop.
    if limiter is not None and await run_in_threadpool(limiter.hit, client_key(request)):
        return _render(request, "login.html",
                       {"next": nxt, "error": "Too many attempts. Wait a minute and try again."},
                       None, 429)  # fmt: skip
    username = (data.get("username") or "").strip()[:80]
    password = (data.get("password") or "")[:1024]
    user, message, status = (
        await run_in_threadpool(_login, request, username, password)
        if username
        else (None, "Enter your username and password.", 401)
    )
    if user is None:
        return _render(request, "login.html",
                       {"next": nxt, "username": username, "error": message}, None, status)  # fmt: skip
    response = RedirectResponse(nxt, status_code=303)
    await run_in_threadpool(login_session, request, response, user)
    return response


@router.post("/logout")
async def logout(request: Request, principal: Principal | None = Depends(current_user)) -> Response:
    """End the session."""
    data = await _form(request)
    if principal is not None and not _csrf_ok(principal, data.get("csrf_token")):
        return RedirectResponse("/", status_code=303)
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(logout_session, request, response)
    return response


@router.get("/logout")
async def logout_get() -> Response:
    """Signing out needs the form (POST); a typed address goes home."""
    return RedirectResponse("/", status_code=303)


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
    if not _csrf_ok(principal, data.get("csrf_token")):
        rows = await run_in_threadpool(_patient_list, request, principal)
        return _render(request, "patients.html", {"patients": rows, "v": data,
                       "error": "The form had expired. Check it and press Create again."},
                       principal, 403)  # fmt: skip
    try:
        pid = await run_in_threadpool(_create_patient, request, principal, data)
    except forms.FormError as exc:
        rows = await run_in_threadpool(_patient_list, request, principal)
        return _render(request, "patients.html", {"patients": rows, "error": str(exc), "v": data},
                       principal, 400)  # fmt: skip
    return RedirectResponse(f"/patients/{quote(pid)}", status_code=303)


def _mic(instrument: str) -> float | None:
    """The minimal important change of an outcome instrument (Ostelo 2008), from the scorer."""
    from spineguide.reasoning.instruments import MIC_POINTS

    t = MIC_POINTS.get(instrument)
    return float(t.value) if t is not None else None


def _patient_detail(request: Request, principal: Principal, patient_id: str) -> Any:
    user = principal.as_user()
    sg = request.app.state.sg
    detail = _patient_detail_read(request, user, patient_id)
    # Reads first in a read-only session; the audit row afterwards in a short write of its own,
    # so a page view never holds the write lock while it loads the record.
    with sg.sessions.begin() as s:
        repo.audit(s, user, "patient.read", "ok" if detail else "not_found",
                   patient_id=patient_id, client=client_key(request))  # fmt: skip
    return detail


def _patient_detail_read(request: Request, user: Any, patient_id: str) -> Any:
    with request.app.state.sg.read_sessions() as s:
        p = repo.visible_patient(s, user, patient_id)
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
            "odi": diagrams.trend_chart(
                "ODI (disability, %)", series.get("odi", []), 100, "%", mic=_mic("odi")
            ),
            "nrs": diagrams.trend_chart(
                "Pain (NRS 0-10)", series.get("nrs", []), 10, "", mic=_mic("nrs")
            ),
        }


@router.get("/patients/{patient_id}")
async def patient_page(
    request: Request, patient_id: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """A patient: ODI and pain trend charts and the saved assessments."""
    if principal is None:
        return _need_login(request)
    return await _patient_view(request, principal, patient_id)


async def _patient_view(
    request: Request,
    principal: Principal,
    patient_id: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    detail = await run_in_threadpool(_patient_detail, request, principal, patient_id)
    if detail is None:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    detail["notice"] = None
    from spineguide.reasoning.instruments import ODI_SECTION_LABELS, ODI_SECTIONS

    detail["odi_sections"] = [(k, ODI_SECTION_LABELS.get(k, k)) for k in ODI_SECTIONS]
    detail["saved"] = request.query_params.get("saved") == "1"
    detail["sv"] = {}
    pending = _recall(request, request.query_params.get("pending"), "score")
    if pending is not None and pending.data.get("patient_id") == patient_id:
        detail["sv"] = pending.data["form"]
        detail["notice"] = (
            "Your sign-in had expired. Your answers are kept below: check them and press Save."
        )
    detail.update(extra or {})
    return _render(request, "patient.html", detail, principal, status_code)


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
    """Record an ODI questionnaire or a pain score (answers are kept if the sign-in expired)."""
    data = await _form(request)
    form = {k: v for k, v in data.items() if k != "csrf_token"}
    if principal is None or not _csrf_ok(principal, data.get("csrf_token")):
        rid, fresh = _remember(request, "score", {"patient_id": patient_id, "form": form})
        back = f"/patients/{quote(patient_id)}?pending={rid}"
        if principal is None:
            back = f"/login?expired=1&next={quote(back)}"
        return _see_other(request, back, fresh)
    try:
        ok = await run_in_threadpool(_add_score, request, principal, patient_id, data)
    except (forms.FormError, SpineGuideError) as exc:
        return await _patient_view(request, principal, patient_id,
                                   {"sv": form, "score_error": str(exc)[:300]}, 400)  # fmt: skip
    except Exception as exc:  # the scorer's ProblemError (bad answers) -> readable page
        detail = getattr(exc, "detail", None) or "The answers could not be scored."
        return await _patient_view(request, principal, patient_id,
                                   {"sv": form, "score_error": str(detail)[:300]}, 400)  # fmt: skip
    if not ok:
        return _render(request, "error.html", {"message": "No such patient."}, principal, 404)
    return RedirectResponse(f"/patients/{quote(patient_id)}", status_code=303)


@router.get("/patients/{patient_id}/scores")
async def patient_score_get(patient_id: str) -> Response:
    """A reloaded score address (e.g. after signing in): go to the patient."""
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
    ctx = result_context(a, _kb(request), None)
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
    hits, red = library.find_conditions(q, kb)
    groups: dict[str, list[Any]] = {}
    for cid, _score in hits:
        c = kb.conditions[cid]
        groups.setdefault(c.group, []).append(c)
    order = (
        ("red_flag", "seed", "mimic", "topic") if red else ("seed", "red_flag", "mimic", "topic")
    )
    ordered = [(library.GROUP_LABELS.get(g, g), groups[g]) for g in order if g in groups]
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


# -- error pages ---------------------------------------------------------------------------------

_OTHER_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
_ROUTE_TABLES: dict[int, list[tuple[Any, set[str]]]] = {}


def _walk(routes: list[Any], prefix: str = "") -> list[tuple[str, set[str], Any]]:
    """Every (path, methods, endpoint) of an app, looking inside included routers."""
    out: list[tuple[str, set[str], Any]] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            ctx = getattr(r, "include_context", None)
            out += _walk(list(inner.routes), prefix + (getattr(ctx, "prefix", "") or ""))
        elif getattr(r, "methods", None) and isinstance(getattr(r, "path", None), str):
            out.append((prefix + r.path, set(r.methods), getattr(r, "endpoint", None)))
    return out


def _route_table(app: Any) -> list[tuple[Any, set[str]]]:
    """(path regex, methods) of every real route (built once per app)."""
    from starlette.routing import compile_path

    table = _ROUTE_TABLES.get(id(app))
    if table is None:
        table = [
            (compile_path(path)[0], methods)
            for path, methods, endpoint in _walk(list(app.router.routes))
            if endpoint is not not_found
        ]
        _ROUTE_TABLES[id(app)] = table
    return table


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        ("/api/", "/cds-services")
    )


@router.api_route("/{path:path}", methods=_OTHER_METHODS)
async def not_found(
    request: Request, path: str, principal: Principal | None = Depends(current_user)
) -> Response:
    """No page here: an HTML page for browsers, a problem document for programs (404 or 405)."""
    allowed: set[str] = set()
    path_now = request.url.path
    for regex, methods in _route_table(request.app):
        if regex.match(path_now):
            allowed |= methods
    status = 405 if allowed else 404
    headers = {"Allow": ", ".join(sorted(allowed))} if allowed else None
    if not _wants_html(request):
        if status == 405:
            return problem_response(405, f"{request.method} is not allowed on {request.url.path}",
                                    "see /docs for the methods each endpoint accepts",
                                    headers=headers)  # fmt: skip
        return problem_response(404, f"no endpoint at {request.url.path}",
                                "see /docs for the available endpoints")  # fmt: skip
    message = (
        "There is no page at this address. It may have been mistyped or moved."
        if status == 404
        else "This address cannot be used that way. Use the links and buttons on the pages."
    )
    response = _render(request, "error.html", {"message": message, "status": status},
                       principal, status)  # fmt: skip
    if headers:
        response.headers.update(headers)
    return response
