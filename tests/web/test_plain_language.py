"""Plain-language explanations: reading level (Flesch-Kincaid), roots from the anatomy table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web_helpers import REPORT

from spineguide.knowledge.loader import get_kb
from spineguide.text.models import ImagingFinding
from spineguide.web import plain_language as pl

DATA = Path(__file__).resolve().parents[1] / "data" / "imaging_reports.jsonl"


def test_flesch_kincaid_known_values() -> None:
    """Simple text scores low, dense clinical text scores high."""
    assert pl.flesch_kincaid_grade("The cat sat on the mat. It was warm.") < 3
    dense = (
        "Degenerative spondylolisthesis with concomitant ligamentum flavum hypertrophy produces "
        "multifactorial neuroforaminal compromise necessitating comprehensive evaluation."
    )
    assert pl.flesch_kincaid_grade(dense) > 16
    assert pl.count_syllables("table") == 2 and pl.count_syllables("the") == 1


def _reports() -> list[str]:
    texts = [REPORT]
    if DATA.exists():
        for line in DATA.read_text(encoding="utf-8").splitlines()[:60]:
            if line.strip():
                row = json.loads(line)
                texts.append(row.get("text") or row.get("report") or "")
    return [t for t in texts if t]


def test_reading_level_is_grade_8_or_below() -> None:
    """Everything the explainer writes itself reads at a 6th-8th grade level (FK <= 8)."""
    kb = get_kb()
    sentences: list[str] = []
    for text in _reports():
        sentences += pl.plain_sentences(pl.explain_report(text, kb))
    assert len(sentences) > 50
    unique = list(dict.fromkeys(sentences))
    grade = pl.flesch_kincaid_grade(" ".join(unique))
    assert grade <= 8.0, grade
    # and the content file's own sentences, one entry at a time
    for fid, entry in pl.content()["findings"].items():
        for key in ("what", "context", "common"):
            if entry.get(key):
                assert pl.flesch_kincaid_grade(entry[key]) <= 9.0, (fid, key)


@pytest.mark.parametrize(
    "finding, level, zone, root",
    [
        ("foraminal_stenosis", "L3-L4", "foraminal", "L3"),  # exiting root
        ("disc_protrusion", "L3-L4", "paracentral", "L4"),  # traversing root
        ("disc_extrusion", "L4-L5", "foraminal", "L4"),  # far-lateral/foraminal: exiting
        ("disc_extrusion", "L5-S1", None, "S1"),
        ("lateral_recess_stenosis", "L4-L5", None, "L5"),
    ],
)
def test_roots_from_anatomy(finding: str, level: str, zone: str | None, root: str) -> None:
    """The nerve a finding can touch follows the exiting/traversing rule."""
    f = ImagingFinding(finding=finding, level=level, zone=zone, side="left")
    assert pl.roots_for_finding(f, get_kb()) == [root]


def test_can_and_cannot_explain() -> None:
    """L3 can explain front-of-thigh pain and cannot explain numbness of the sole."""
    (l3,) = pl.explain_roots(["L3"], get_kb())
    assert "pain in the front of the thigh" in l3.can_explain
    assert any("sole" in x and "S1" in x for x in l3.cannot_explain)
    assert len(set(l3.cannot_explain)) == len(l3.cannot_explain)


def test_negated_and_incidental() -> None:
    """Negated findings become reassurance; a mild bulge is put in context, not blamed."""
    ex = pl.explain_report("L4-5: mild disc bulge. No foraminal stenosis.", get_kb())
    assert [f.finding for f in ex.reassurance] == ["foraminal_stenosis"]
    assert ex.reassurance[0].sentences[0].startswith("No sign of")
    (bulge,) = ex.findings
    assert bulge.incidental and "no back pain" in (bulge.common or "")


def test_urgent_findings_flagged() -> None:
    """Compression of the cauda equina is flagged as needing care the same day."""
    ex = pl.explain_report(
        "L4-5: large disc extrusion with compression of the cauda equina.", get_kb()
    )
    assert any(f.finding == "cauda_equina_compression" for f in ex.urgent_findings)


def test_verdict_badges_cover_every_verdict() -> None:
    """Every plan verdict has a label and a symbol (never colour alone)."""
    from typing import get_args

    from spineguide.reasoning.plan import Verdict

    for v in get_args(Verdict):
        b = pl.verdict_badge(v)
        assert b["label"] and b["symbol"] and b["cls"] == f"badge-{v}"
