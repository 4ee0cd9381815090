"""POST /assessments?detail=summary|full: smaller default response, full detail on request."""

from __future__ import annotations

from api_helpers import assert_problem

NOTE = (
    "47M, three weeks of left leg pain from the buttock to the big toe after lifting a sofa. "
    "SLR positive on the left at 35 degrees, weak great toe extension 4/5, reduced sensation "
    "on the top of the foot. No saddle numbness, bladder and bowels normal, no fever."
)


def _explained(body: dict) -> list[bool]:
    return [d["explained"] for d in body["differential"]]


def test_default_is_a_summary_with_the_same_ranking(client) -> None:
    summary = client.post("/api/v1/assessments", json={"text": NOTE})
    full = client.post("/api/v1/assessments?detail=full", json={"text": NOTE})
    assert summary.status_code == full.status_code == 200
    s, f = summary.json(), full.json()
    assert [d["id"] for d in s["differential"]] == [d["id"] for d in f["differential"]]
    assert [d["probability"] for d in s["differential"]] == [
        d["probability"] for d in f["differential"]
    ]
    assert all(_explained(f))
    assert not all(_explained(s)) and _explained(s)[0]
    tail = [d for d in s["differential"] if not d["explained"]]
    assert all(d["evidence_for"] == [] and d["evidence_against"] == [] for d in tail)
    assert len(summary.content) < len(full.content)


def test_unknown_detail_is_a_422_problem(client) -> None:
    r = client.post("/api/v1/assessments?detail=verbose", json={"text": NOTE})
    body = assert_problem(r, 422)
    assert "detail" in str(body).lower()


def test_saved_assessment_keeps_full_detail(client, token_for) -> None:
    h = token_for("dr-detail")
    pid = client.post("/api/v1/patients", json={"label": "Detail Test", "sex": "male"}, headers=h)
    assert pid.status_code == 201, pid.text
    r = client.post(
        f"/api/v1/assessments?save=true&patient_id={pid.json()['id']}",
        json={"text": NOTE},
        headers=h,
    )
    assert r.status_code == 201
    saved = client.get(f"/api/v1/assessments/{r.json()['id']}", headers=h).json()
    assert all(d["explained"] for d in saved["assessment"]["differential"])
