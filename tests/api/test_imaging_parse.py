"""POST /api/v1/imaging/parse reads through the one extractor and answers the same ImagingReport."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_helpers import assert_problem

from spineguide.text.imaging import parse_imaging_report

ROOT = Path(__file__).resolve().parents[2]
REPORTS = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "one_extractor_reports.jsonl").read_text().splitlines()
    if line.strip()
]
URL = "/api/v1/imaging/parse"


def test_every_report_answers_the_reader_result(client) -> None:
    """Same fields and values as the imaging reader's own ImagingReport, for each report."""
    for record in REPORTS:
        r = client.post(URL, json={"text": record["text"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"findings", "sections", "warnings", "uninterpreted"}
        assert body == parse_imaging_report(record["text"]).model_dump(mode="json")


def test_sections_and_unmapped_lesions_in_the_answer(client) -> None:
    """The answer keeps the report's sections and the lesion words it could not map."""
    text = next(r["text"] for r in REPORTS if r["id"] == "unmapped_lesion")
    body = client.post(URL, json={"text": text}).json()
    assert [s["name"] for s in body["sections"]] == ["findings", "impression"]
    assert [u["text"] for u in body["uninterpreted"]] == ["mass", "mass"]
    assert {(f["finding"], f["level"]) for f in body["findings"]} == {("disc_protrusion", "L2-L3")}


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {},
        {"text": 42},
        {"text": ["L4-5 bulge"]},
        {"text": "L4-5 bulge", "kind": "note"},
        {"text": "x" * 200_001},
    ],
    ids=["empty", "missing", "number", "list", "extra-field", "too-long"],
)
def test_bad_input_is_a_422_problem(client, payload) -> None:
    """Bad bodies are RFC 9457 problems, never a 500."""
    assert_problem(client.post(URL, json=payload), 422)


def test_malformed_json_is_a_problem(client) -> None:
    """A body that is not JSON is refused as a client error."""
    r = client.post(URL, content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")
