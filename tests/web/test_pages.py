"""Fast page tests with FastAPI's TestClient: status, key content, accessibility basics, no
external assets, nothing stored for anonymous users, sessions, CSRF and saving."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from web_helpers import NOTE, REPORT, follow, login

EXTERNAL = re.compile(r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//", re.I)


class _A11y(HTMLParser):
    """Collects inputs, labels, landmarks and images to check the basics."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.landmarks: set[str] = set()
        self.images: list[dict[str, str]] = []
        self.svgs: list[dict[str, str]] = []
        self.lang: str | None = None
        self.skip = False
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag in ("main", "nav", "header", "footer"):
            self.landmarks.add(tag)
        if tag == "img":
            self.images.append(a)
        if tag == "svg" and a.get("role") == "img":
            self.svgs.append(a)
        if tag == "a" and "skip-link" in a.get("class", "") and a.get("href") == "#main":
            self.skip = True
        if tag == "h1":
            self.h1 += 1


def check_page(html: str) -> _A11y:
    """Accessibility basics and no asset from the internet."""
    p = _A11y()
    p.feed(html)
    assert p.lang == "en"
    assert {"main", "nav", "header", "footer"} <= p.landmarks
    assert p.skip, "skip link to #main missing"
    assert p.h1 == 1, "exactly one h1"
    for inp in p.inputs:
        ok = inp.get("id") in p.label_for or inp.get("aria-labelledby") or inp.get("aria-label")
        assert ok, f"input without a label: {inp}"
    for img in p.images:
        assert "alt" in img, f"img without alt: {img}"
    for svg in p.svgs:
        assert svg.get("aria-labelledby"), "svg role=img needs a title/desc"
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert not CSS_URL.search(html)
    return p


@pytest.mark.parametrize(
    "path, needle",
    [
        ("/", "Understand my MRI report"),
        ("/mri", "Your MRI report text"),
        ("/assess", "Power (MRC grade 0–5)"),
        ("/conditions", "Condition library"),
        ("/conditions?q=sciatica", "match"),
        ("/conditions/foraminal-stenosis", "Lumbar neural foraminal stenosis"),
        ("/login", "Clinician sign in"),
    ],
)
def test_pages_render(client: Any, path: str, needle: str) -> None:
    """Every page answers 200 with its key content and passes the basics."""
    r = client.get(path)
    assert r.status_code == 200
    assert needle in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    check_page(r.text)


def test_static_assets_are_local_and_safe(client: Any) -> None:
    """CSS and JS come from /static; traversal is refused; CSS imports nothing remote."""
    css = client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert not CSS_URL.search(css.text) and "@import" not in css.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../views.py").status_code == 404
    assert client.get("/static/%2e%2e/views.py").status_code == 404


def test_every_condition_page_has_all_sections(client: Any, app: Any) -> None:
    """The library shows every KB condition with every section heading."""
    listing = client.get("/conditions").text
    for cid, cond in app.state.sg.kb.conditions.items():
        assert f"/conditions/{cid}" in listing
        r = client.get(f"/conditions/{cid}")
        assert r.status_code == 200, cid
        for heading in ("Definition", "Types", "Causes and risk factors", "Symptoms", "Tests",
                        "Treatments, with guideline stances", "Medicines", "Prevention",
                        "When to see a doctor", "Dos and don&#39;ts", "Frequently asked questions"):  # fmt: skip
            assert heading in r.text, (cid, heading)
        assert cond.name.replace("'", "&#39;") in r.text
    check_page(r.text)
    assert client.get("/conditions/not-a-condition").status_code == 404


def test_condition_search(client: Any) -> None:
    """Names, aliases and body text are searchable; nonsense finds nothing."""
    assert "Cauda equina" in client.get("/conditions?q=saddle+numbness").text
    assert "foraminal" in client.get("/conditions?q=foraminal+narrowing").text.lower()
    assert "0 conditions match" in client.get("/conditions?q=zzqqxx").text


def test_mri_explain(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The explainer shows findings by level, reassurance, context, roots, red flags, badges."""
    caplog.set_level("DEBUG")
    r = client.post("/mri/explain", data={"report": REPORT})
    assert r.status_code == 303 and r.headers["location"].startswith("/mri/result/")
    r = follow(client, r)
    assert r.status_code == 200
    html = r.text
    check_page(html)
    for needle in (
        "What your report says", "What it usually means", "When to get help now",
        "L3-L4", "L4-L5", "Narrow nerve exit", "both sides", "No sign of",
        "Common finding", "It can explain", "It cannot explain", "pain in the front of the thigh",
        "Go to the emergency department now", "numbness between the legs",
        "Questions to ask your doctor", "does not replace a clinician", "data-print",
        "badge-recommended", "Not recommended", "Picture of the lower back bones",
        "touching the L5 nerve", "sev-high", "Ask your doctor",
    ):  # fmt: skip
        assert needle in html, needle
    assert "severe paracentral" not in html
    assert "foraminal narrowing" not in caplog.text.lower()  # no report text in the logs


def test_mri_explain_empty_and_junk(client: Any) -> None:
    """An empty paste is a 400 with a message; junk text explains that nothing was found."""
    r = client.post("/mri/explain", data={"report": "  "})
    assert r.status_code == 400 and "Paste the text" in r.text
    r = follow(
        client, client.post("/mri/explain", data={"report": "hello <script>alert(1)</script>"})
    )
    assert r.status_code == 200
    assert "could not find any findings" in r.text
    assert "<script>alert(1)</script>" not in r.text  # autoescaped


def test_extract_endpoint(client: Any) -> None:
    """The JSON pre-fill endpoint maps the clinical extractor onto form fields."""
    r = client.post("/web/api/extract", json={"text": NOTE})
    assert r.status_code == 200
    fields = r.json()["fields"]
    assert fields["age"] == "54" and fields["sex"] == "female"
    assert fields["mrc__knee_extension_weakness__left"] == "4"
    assert fields["reflex__patellar_reflex_reduced__left"] == "reduced"
    assert fields["femoral__left"] == "positive"
    assert client.post("/web/api/extract", json={"text": ""}).status_code == 400
    assert client.post("/web/api/extract", content=b"not json").status_code == 400


def test_prefill_without_javascript(client: Any) -> None:
    """The 'fill the form' button works as a plain form post too."""
    r = follow(client, client.post("/assess", data={"action": "prefill", "note": NOTE}))
    assert r.status_code == 200
    assert re.search(r'id="age"[^>]*value="54"', r.text)
    assert "Filled from the note" in r.text


def _form(extra: dict[str, str] | None = None) -> dict[str, str]:
    data = {
        "action": "assess", "age": "54", "sex": "female", "setting": "primary",
        "duration_weeks": "3", "area__anterior_thigh_pain": "left",
        "mrc__knee_extension_weakness__left": "4", "reflex__patellar_reflex_reduced__left": "absent",
        "femoral__left": "positive", "slr__right": "negative",
        "area__sensory_loss_anterior_thigh": "left",
        "meds": "naproxen 500 mg bd\nibuprofen 400 mg tds", "imaging_report": REPORT,
    }  # fmt: skip
    data.update(extra or {})
    return data


def test_assess_result_page(client: Any) -> None:
    """Triage banner (text + colour), dermatome map, bars, work-up, plan badges, med alerts."""
    r = follow(client, client.post("/assess", data=_form()))
    assert r.status_code == 200
    html = r.text
    check_page(html)
    assert re.search(r'class="triage-banner triage-(routine|urgent)"', html)
    assert "Triage: ROUTINE" in html or "Triage: URGENT" in html
    assert "derm-hl" in html and "Likely root: L3 left" in html
    assert 'class="bar-fg"' in html and "Lumbar neural foraminal stenosis" in html
    assert "Work-up" in html and "If no improvement" in html and "Not recommended" in html
    assert "badge-recommended" in html and "Advised against" in html
    assert "Medication alerts" in html and "NSAID" in html.upper()
    assert "Sign in</a>" in html and "Nothing from this assessment was stored" in html


def test_assess_red_flags_emergency(client: Any) -> None:
    """Ticked cauda equina red flags give an emergency banner that says so in words."""
    r = follow(
        client,
        client.post(
            "/assess", data=_form({"f__saddle_anesthesia": "on", "f__urinary_retention": "on"})
        ),
    )
    assert r.status_code == 200
    assert 'id="red-flags"' in r.text
    assert "triage-emergency" in r.text and "Triage: EMERGENCY" in r.text
    assert "Suspected cauda equina syndrome" in r.text


def test_assess_form_errors(client: Any) -> None:
    """Empty or invalid forms come back with a clear message, not a crash."""
    r = client.post("/assess", data={"action": "assess"})
    assert r.status_code == 400 and "Enter at least one finding" in r.text
    r = client.post("/assess", data={"action": "assess", "age": "abc", "f__fever": "on"})
    assert r.status_code == 400 and "Age must be a number" in r.text
    r = client.post("/assess", data={"action": "assess", "age": "300", "f__fever": "on"})
    assert r.status_code == 400 and "between" in r.text


def test_anonymous_cannot_save_or_see_patients(client: Any, app: Any) -> None:
    """Anonymous users are sent to sign in, and nothing is stored."""
    from spineguide.store.models import AssessmentRecord

    assert client.get("/patients").status_code == 303
    r = client.post("/assess/save", data={"case_json": "{}"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    client.post("/assess", data=_form())
    client.post("/mri/explain", data={"report": REPORT})
    with app.state.sg.sessions() as s:
        assert s.query(AssessmentRecord).count() == 0


def test_login_failure_and_logout(client: Any, clinician: tuple[str, str]) -> None:
    """Wrong passwords get a 401 page; a good login sets an HttpOnly cookie; logout clears it."""
    r = login(client, clinician[0], "wrong")
    assert r.status_code == 401 and "wrong password" in r.text
    r = login(client, clinician[0], clinician[1], "//evil.example")
    assert r.status_code == 303 and r.headers["location"] == "/patients"
    assert "httponly" in r.headers["set-cookie"].lower()
    page = client.get("/patients").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": "bad"}).status_code == 303
    assert client.get("/patients").status_code == 200  # a forged sign-out does nothing
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/patients").status_code == 303


def test_save_to_patient_and_trends(logged_in: Any, app: Any) -> None:
    """A signed-in clinician saves to a new patient, records NRS and ODI, and sees the charts."""
    client = logged_in
    r = follow(client, client.post("/assess", data=_form()))
    html = r.text
    assert "Save to patient" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    case_json = re.search(r'name="case_json" value="([^"]+)"', html).group(1)
    import html as htmllib

    case_json = htmllib.unescape(case_json)
    rid = re.search(r'name="rid" value="([^"]+)"', html).group(1)
    bad = client.post("/assess/save", data={"csrf_token": "nope", "case_json": case_json,
                                             "rid": rid, "patient_id": "new", "new_label": "X"})  # fmt: skip
    assert bad.status_code == 303 and "resume=1" in bad.headers["location"]  # kept, not saved
    kept = follow(client, bad)
    assert 'value="X"' in kept.text and "press Save" in kept.text
    r = client.post("/assess/save", data={"csrf_token": csrf, "case_json": case_json,
                                           "rid": rid, "patient_id": "new", "new_label": "P-001"})  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"].split("?")[0]
    pid = url.rsplit("/", 1)[1]
    for score, day in (("8", "2026-01-01"), ("6", "2026-02-01"), ("3", "2026-03-01")):
        r = client.post(f"{url}/scores", data={"csrf_token": csrf, "instrument": "nrs",
                                                "nrs": score, "recorded_at": day})  # fmt: skip
        assert r.status_code == 303, r.text
    odi = {f"odi__{k}": "2" for k in ("pain_intensity", "personal_care", "lifting", "walking",
                                       "sitting", "standing", "sleeping", "social_life",
                                       "travelling")}  # fmt: skip
    r = client.post(f"{url}/scores", data={"csrf_token": csrf, "instrument": "odi", **odi})
    assert r.status_code == 303, r.text
    page = client.get(url)
    assert page.status_code == 200
    check_page(page.text)
    assert "P-001" in page.text and 'id="nrs-chart-desc"' in page.text
    assert re.search(r"01 Jan 2026: 8[^;]*; 01 Feb 2026: 6[^;]*; 01 Mar 2026: 3", page.text)
    assert "Lumbar neural foraminal stenosis" in page.text
    assessment_id = re.search(r'href="/assessments/([0-9a-f-]+)"', page.text).group(1)
    saved = client.get(f"/assessments/{assessment_id}")
    assert saved.status_code == 200 and "Saved assessment" in saved.text
    bad_score = client.post(f"{url}/scores", data={"csrf_token": csrf, "instrument": "nrs",
                                                    "nrs": "eleven"})  # fmt: skip
    assert bad_score.status_code == 400
    # another clinician cannot see this patient
    from web_helpers import add_user

    add_user(app, "other", "other-password-1")
    client.post("/logout", data={"csrf_token": csrf})
    login(client, "other", "other-password-1")
    assert client.get(f"/patients/{pid}").status_code == 404
    assert client.get(f"/assessments/{assessment_id}").status_code == 404
