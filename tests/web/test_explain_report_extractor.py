"""The patient explainer reads reports through the one extractor and explains what the reader found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spineguide.errors import InputError, InputTooLargeError
from spineguide.knowledge.loader import get_kb
from spineguide.text.imaging import parse_imaging_report
from spineguide.web import plain_language as pl

ROOT = Path(__file__).resolve().parents[2]
REPORTS = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "one_extractor_reports.jsonl").read_text().splitlines()
    if line.strip()
]
NOTHING = "We could not find any findings in this text."


def _key(p: pl.PlainFinding) -> tuple[Any, ...]:
    return (p.finding, p.level, p.side, p.severity, p.negated, p.name)


@pytest.mark.parametrize("record", REPORTS, ids=[r["id"] for r in REPORTS])
def test_explainer_explains_every_finding_the_reader_found(record: dict[str, str]) -> None:
    """Present findings and reassurance are the reader's findings, in its order; warnings kept."""
    kb = get_kb()
    ex = pl.explain_report(record["text"], kb)
    report = parse_imaging_report(record["text"])
    plain = [pl.explain_finding(f, kb) for f in report.findings]
    assert [_key(p) for p in ex.findings] == [_key(p) for p in plain if not p.negated]
    assert [_key(p) for p in ex.reassurance] == [_key(p) for p in plain if p.negated]
    assert ex.warnings[: len(report.warnings)] == report.warnings
    assert any(w.startswith(NOTHING) for w in ex.warnings) == (not report.findings)


def test_explainer_on_a_compressing_sequestration_and_an_unmapped_mass() -> None:
    """A cauda equina compression is urgent; an unmapped psoas mass is flagged for review."""
    kb = get_kb()
    by_id = {r["id"]: r["text"] for r in REPORTS}
    ex = pl.explain_report(by_id["inline_heading"], kb)
    assert {p.finding for p in ex.urgent_findings} >= {"cauda_equina_compression"}
    assert all(p.level == "L5-S1" for p in ex.findings)
    ex = pl.explain_report(by_id["unmapped_lesion"], kb)
    assert [p.finding for p in ex.findings] == ["disc_protrusion"]
    assert any("not turned into findings" in w for w in ex.warnings)
    ex = pl.explain_report(by_id["negated_list"], kb)
    assert ex.findings == [] and len(ex.reassurance) == 15


def test_bad_input_is_a_clear_error(client: Any) -> None:
    """Over the reader's limit or not text: an input error; the page never fails on a long paste."""
    kb = get_kb()
    with pytest.raises(InputTooLargeError, match="limit"):
        pl.explain_report("L4-5 disc bulge. " * 12_000, kb)
    with pytest.raises(InputError):
        pl.explain_report(None, kb)  # type: ignore[arg-type]
    r = client.post("/mri/explain", data={"report": "L4-5 disc bulge. " * 12_000})
    assert r.status_code < 500
    if r.status_code == 303:
        assert client.get(r.headers["location"]).status_code == 200
