"""Bad input never 500s: NUL characters, lone surrogates and invalid UTF-8 give 400 on every
endpoint (path, query and body; PostgreSQL too), over-deep JSON is refused, `%00` in static
paths is refused, and responses carry no-store, time zones and a documented error format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_helpers import assert_problem, cds_headers

NUL = "\x00"
SURROGATE = "\ud800"
BAD_BODIES = {
    "nul": b'{"label": "Mrs A\\u0000 Smith"}',
    "surrogate": b'{"label": "Mrs A \\ud800 Smith"}',
    "nul-key": b'{"lab\\u0000el": "x"}',
    "raw-invalid-utf8": b'{"label": "\xed\xa0\x80"}',
}


def _endpoints(pid: str, aid: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/v1/assessments?save=true&patient_id=" + pid),
        ("POST", "/api/v1/imaging/parse"),
        ("POST", "/api/v1/medications/check"),
        ("POST", "/api/v1/instruments/nrs/score"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/session"),
        ("POST", "/api/v1/patients"),
        ("POST", f"/api/v1/patients/{pid}/scores"),
        ("POST", "/cds-services/spineguide-lumbar"),
        ("POST", "/cds-services/spineguide-lumbar/feedback"),
    ]


@pytest.fixture
def seeded(client, token_for) -> tuple[dict[str, str], str, str]:
    """A clinician token, one patient and one saved assessment."""
    h = token_for("dr-input")
    pid = client.post("/api/v1/patients", json={"label": "input test"}, headers=h).json()["id"]
    r = client.post(
        f"/api/v1/assessments?save=true&patient_id={pid}",
        json={"text": "Low back pain for two weeks after lifting, no leg symptoms."},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return h, pid, r.json()["id"]


def test_bad_characters_in_bodies_are_400_everywhere(client, seeded) -> None:
    h, pid, aid = seeded
    for method, url in _endpoints(pid, aid):
        headers = {**h, "Content-Type": "application/json"}
        if url.startswith("/cds"):
            headers.update(cds_headers())
        for name, body in BAD_BODIES.items():
            r = client.request(method, url, content=body, headers=headers)
            assert r.status_code == 400, (url, name, r.status_code, r.text)
            assert_problem(r, 400)


def test_bad_characters_in_paths_and_queries_are_400(client, seeded) -> None:
    h, pid, _aid = seeded
    paths = [
        "/api/v1/patients/abc%00def",
        "/api/v1/patients/%ED%A0%80",
        "/api/v1/assessments/x%00",
        "/api/v1/conditions/disc%00herniation",
        f"/api/v1/patients/{pid}?assessments_limit=5%00",
        "/api/v1/patients?limit=%00",
        "/static/app.css%00.png",
        "/static/%00",
        "/conditions?q=%ED%A0%80",
        "/cds-services/spine%00",
    ]
    for url in paths:
        r = client.get(url, headers=h)
        assert r.status_code == 400, (url, r.status_code, r.text)
    r = client.post("/api/v1/assessments?patient_id=%00&save=true", json={"text": "x"}, headers=h)
    assert r.status_code == 400
    # form posts (the web app) are checked the same way
    r = client.post(
        "/login",
        content=b"username=a%00b&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400


def test_valid_unicode_still_works(client, seeded) -> None:
    h, _pid, _ = seeded
    r = client.post("/api/v1/patients", json={"label": "Zoë Ångström 李"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["label"] == "Zoë Ångström 李"
    emoji = json.dumps({"label": "pain 😖 scale"})  # a surrogate *pair* in JSON is fine
    r = client.post(
        "/api/v1/patients", content=emoji, headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 201 and r.json()["label"] == "pain 😖 scale"


def test_deep_nesting_is_refused(client) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    r = client.post("/api/v1/instruments/nrs/score", json={"score": deep})
    body = assert_problem(r, 400)
    assert "nest" in body["detail"]
    very_deep = b"[" * 100_000 + b"]" * 100_000
    r = client.post(
        "/api/v1/instruments/nrs/score",
        content=very_deep,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400


def test_patient_data_is_not_cached_and_times_have_zones(client, seeded) -> None:
    h, pid, aid = seeded
    for url in (f"/api/v1/patients/{pid}", "/api/v1/patients", f"/api/v1/assessments/{aid}"):
        r = client.get(url, headers=h)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
    detail = client.get(f"/api/v1/patients/{pid}", headers=h).json()
    saved = client.get(f"/api/v1/assessments/{aid}", headers=h).json()
    stamps = [detail["created"], detail["assessments"][0]["created"], saved["created"]]
    for stamp in stamps:
        assert stamp.endswith(("Z", "+00:00")), stamp
    r = client.post(
        f"/api/v1/patients/{pid}/scores",
        json={"instrument": "nrs", "payload": {"score": 4}, "recorded_at": "2026-03-01T10:00:00"},
        headers=h,
    )
    assert_problem(r, 422)  # a time without a zone is ambiguous: refused


def test_idempotency_key_saves_once(app, client, seeded) -> None:
    from sqlalchemy import func, select

    from spineguide.store.models import AssessmentRecord, OutcomeScore

    h, pid, _ = seeded
    key = {**h, "Idempotency-Key": "retry-key-0001"}
    body = {"text": "Sciatica down the left leg to the foot for three weeks."}
    url = f"/api/v1/assessments?save=true&patient_id={pid}"
    first = client.post(url, json=body, headers=key)
    again = client.post(url, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(client.post(url, json={"text": "something else"}, headers=key), 409)
    score = {"instrument": "nrs", "payload": {"score": 6}}
    k2 = {**h, "Idempotency-Key": "score-key-0001"}
    s1 = client.post(f"/api/v1/patients/{pid}/scores", json=score, headers=k2)
    s2 = client.post(f"/api/v1/patients/{pid}/scores", json=score, headers=k2)
    assert s1.json()["id"] == s2.json()["id"]
    with app.state.sg.sessions() as s:
        n_assess = s.scalar(select(func.count()).select_from(AssessmentRecord))
        n_scores = s.scalar(select(func.count()).select_from(OutcomeScore))
    assert (n_assess, n_scores) == (2, 1)  # the seeded one plus one, and one score


def test_openapi_declares_security_and_problem_errors(client) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {"bearerAuth", "sessionCookie", "cdsHooksJwt"} <= set(schemes)
    assert spec["paths"]["/api/v1/patients"]["get"]["security"] == [
        {"bearerAuth": []},
        {"sessionCookie": []},
    ]
    assert spec["paths"]["/cds-services/{service_id}"]["post"]["security"] == [{"cdsHooksJwt": []}]
    errors = spec["paths"]["/api/v1/patients"]["post"]["responses"]
    assert "application/problem+json" in errors["404"]["content"]
    assert "application/problem+json" in errors["default"]["content"]


def test_docs_are_served_without_a_cdn(client) -> None:
    import re

    from spineguide.api.openapi_docs import docs_page

    r = client.get("/docs")
    assert r.status_code == 200
    page = r.text
    assert "cdn." not in page and "unpkg" not in page and "jsdelivr" not in page
    assert "/openapi.json" in page
    for src in re.findall(r"(?:src|href)=['\"]([^'\"]+)['\"]", page):
        assert src.startswith("/"), src  # every asset from this server
        assert client.get(src).status_code == 200, src
    # without the swagger-ui-bundle package: a plain local reference page
    plain = docs_page(client.get("/openapi.json").json())
    assert "/api/v1/patients" in plain and "<script" not in plain


def test_a_patient_page_is_paginated_summaries(client, seeded) -> None:
    h, pid, _ = seeded
    for i in range(3):
        r = client.post(
            f"/api/v1/assessments?save=true&patient_id={pid}",
            json={"text": f"Back pain, visit {i}, no red flags."},
            headers=h,
        )
        assert r.status_code == 201
    d = client.get(f"/api/v1/patients/{pid}?assessments_limit=2", headers=h).json()
    assert d["assessments_total"] == 4 and len(d["assessments"]) == 2
    assert set(d["assessments"][0]) == {
        "id",
        "created",
        "kb_version",
        "urgency",
        "leading_diagnosis",
    }
    rest = client.get(
        f"/api/v1/patients/{pid}?assessments_limit=2&assessments_offset=2", headers=h
    ).json()
    ids = [a["id"] for a in d["assessments"] + rest["assessments"]]
    assert len(set(ids)) == 4
