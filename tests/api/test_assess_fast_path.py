"""POST /assessments: the anonymous fast path answers exactly as the declared endpoint does.

A cookie that is not a session cookie sends an anonymous request through the declared endpoint
(FastAPI's parameter handling), so the two paths can be compared on the same input.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from api_helpers import assert_problem, make_settings

from spineguide.api.routers import assessments

URL = "/api/v1/assessments"
VIA_ENDPOINT = {"Cookie": "theme=dark"}  # not a session: still anonymous, but no fast path

SCIATICA = (
    "38M, low back pain radiating down the right leg to the lateral foot for 2 weeks, positive "
    "straight leg raise at 40 degrees, reduced ankle jerk, no bladder or bowel symptoms"
)
CLAUDICATION = (
    "71M, bilateral buttock and thigh pain on walking 200 m, relieved by sitting and leaning "
    "forward on a trolley, normal foot pulses"
)
MRI = "L4-5: broad-based disc bulge with moderate canal stenosis. L5-S1: left foraminal narrowing."

REQUESTS: list[tuple[str, Any]] = [
    ("", {"text": SCIATICA}),
    ("?detail=full", {"text": CLAUDICATION, "age": 71, "sex": "male"}),
    ("?fields=triage,differential", {"text": SCIATICA, "setting": "emergency"}),
    ("?fields=triage%2Cplan&detail=full", {"imaging_report": MRI, "age": 64}),
    ("", {"text": CLAUDICATION, "medications": ["naproxen 500 mg bd"], "patient": {"egfr": 25}}),
    # refused or unusual requests: the fast path must leave them to the endpoint
    ("?fields=bogus", {"text": SCIATICA}),
    ("?fields=Triage", {"text": SCIATICA}),
    ("?fields=triage%0A", {"text": SCIATICA}),  # a regex "$" would accept the newline
    ("?fields=" + "triage," * 50 + "plan", {"text": SCIATICA}),
    ("?fields=triage&fields=plan", {"text": SCIATICA}),
    ("?detail=brief", {"text": SCIATICA}),
    ("?save=true&patient_id=p1", {"text": SCIATICA}),
    ("?unrelated=1", {"text": SCIATICA}),
    ("", {"text": SCIATICA, "unexpected": True}),
    ("", {"text": "   "}),
    ("", {"text": SCIATICA, "age": 130}),
    ("", {"text": SCIATICA, "medications": [None]}),
    ("", [SCIATICA]),
    ("", b'{"text": "back pain",}'),
    ("", b""),
]


def _comparable(r: Any) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body with the per-call id and timestamp blanked."""
    body = re.sub(r'"(id|created)":"[^"]+"', r'"\1":"-"', r.text)
    headers = [(k, v) for k, v in r.headers.multi_items() if k != "content-length"]
    return r.status_code, headers, body


def _post(client: Any, query: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        URL + query, content=raw, headers={"content-type": "application/json", **(headers or {})}
    )


@pytest.mark.parametrize(("query", "payload"), REQUESTS)
def test_fast_path_answers_like_the_endpoint(client, query: str, payload: Any) -> None:
    fast = _post(client, query, payload)
    declared = _post(client, query, payload, VIA_ENDPOINT)
    assert _comparable(fast) == _comparable(declared)
    assert fast.status_code != 500


def test_fast_path_serves_sparse_and_full_assessments(client) -> None:
    r = _post(client, "?fields=triage,differential", {"text": SCIATICA})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    assert set(r.json()) == {"id", "created", "kb_version", "disclaimer", "triage", "differential"}
    full = _post(client, "?detail=full", {"text": SCIATICA}).json()
    summary = _post(client, "", {"text": SCIATICA}).json()
    assert all(d.get("explained", True) for d in full["differential"])
    assert not all(d.get("explained", True) for d in summary["differential"])


def test_rate_limit_charges_each_request_once(db_url, make_client) -> None:
    from spineguide.api.app import create_app

    app = create_app(make_settings(db_url, assess_rate=(3.0, 3.0 / 3600)))
    with make_client(app) as client:
        assert _post(client, "", {"text": SCIATICA}).status_code == 200
        assert_problem(_post(client, "", {"text": SCIATICA, "age": "old"}), 422)
        assert _post(client, "", {"text": CLAUDICATION}).status_code == 200
        limited = assert_problem(_post(client, "", {"text": SCIATICA}), 429)
        assert "assess" in limited["detail"]
        assert_problem(_post(client, "", {"text": SCIATICA}, VIA_ENDPOINT), 429)
    app.state.sg.engine.dispose()


def test_long_notes_are_assessed_off_the_event_loop(client, monkeypatch) -> None:
    hops: list[str] = []
    original = assessments.run_in_threadpool

    async def recording(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func.__name__)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(assessments, "run_in_threadpool", recording)
    assert _post(client, "", {"text": SCIATICA}).status_code == 200
    assert hops == []
    long_note = " ".join([SCIATICA, CLAUDICATION] * 12)
    assert len(long_note) > assessments._INLINE_CHARS
    r = _post(client, "", {"text": long_note})
    assert r.status_code == 200 and r.json()["differential"]
    assert hops == ["_assess_json"]


def test_dependency_overrides_still_apply(app, client) -> None:
    from spineguide.api.problems import ProblemError
    from spineguide.api.security import current_user

    async def closed() -> None:
        raise ProblemError(503, "assessments are switched off for maintenance")

    app.dependency_overrides[current_user] = closed
    try:
        assert_problem(_post(client, "", {"text": SCIATICA}), 503)
    finally:
        app.dependency_overrides.clear()
    assert _post(client, "", {"text": SCIATICA}).status_code == 200
