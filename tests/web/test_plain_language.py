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
        ("disc_extrusion", "L5-S1", "extraforaminal", "L5"),  # far lateral: exiting
        ("disc_protrusion", "L4-L5", "subarticular", "L5"),
    ],
)
def test_roots_from_anatomy(finding: str, level: str, zone: str | None, root: str) -> None:
    """The nerve a finding can touch follows the exiting/traversing rule."""
    f = ImagingFinding(finding=finding, level=level, zone=zone, side="left")
    assert pl.roots_for_finding(f, get_kb()) == [root]


@pytest.mark.parametrize(
    "level, roots",
    [("L3-L4", ["L4", "L5", "S1"]), ("L4-L5", ["L5", "S1"]), ("L5-S1", ["S1"])],
)
def test_canal_stenosis_names_the_traversing_root_and_those_below(
    level: str, roots: list[str]
) -> None:
    """Central canal narrowing can press on every root running down past the level."""
    f = ImagingFinding(finding="canal_stenosis", level=level, severity="severe", side="central")
    assert pl.roots_for_finding(f, get_kb()) == roots


def test_a_bulge_or_a_zone_alone_names_no_root() -> None:
    """A bulge blames no nerve; a zone word only moves disc lesions and narrowings it fits."""
    kb = get_kb()
    for severity in ("mild", "moderate", "severe"):
        bulge = ImagingFinding(finding="disc_bulge", level="L4-L5", severity=severity)
        assert pl.roots_for_finding(bulge, kb) == []
    facet = ImagingFinding(finding="facet_arthropathy", level="L4-L5", zone="foraminal")
    assert pl.roots_for_finding(facet, kb) == []
    ex = pl.explain_report("L4-5: moderate broad-based disc bulge.", kb)
    assert [(f.finding, f.roots) for f in ex.findings] == [("disc_bulge", [])]
    assert pl.roots_for_finding(
        ImagingFinding(finding="disc_bulge", level="L4-L5", root="L5"), kb
    ) == ["L5"]


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


def test_explainer_summary_reads_at_grade_8_or_below() -> None:
    """The three summary lines and the level headlines stay at a grade 8 reading level or below."""
    from web_helpers import REPORT, REPORT_3

    for report in (REPORT, REPORT_3):
        ex = pl.explain_report(report, get_kb())
        assert ex.summary is not None
        for line in (ex.summary.says, ex.summary.means, ex.summary.help_now):
            assert pl.flesch_kincaid_grade(line) <= 8.0, line
        assert [g.level for g in ex.levels] == sorted(
            (g.level for g in ex.levels), key=lambda lvl: pl._LEVEL_ORDER.index(lvl)
        )


def test_levels_coloured_by_severity_and_contact_ruled_out() -> None:
    """A mild bulge is 'low'; a protrusion touching L5 is 'high'; 'without nerve root contact'
    keeps the protrusion from claiming a nerve; the library page matches the level."""
    from web_helpers import REPORT_3

    ex = pl.explain_report(REPORT_3, get_kb())
    sev = ex.level_severity
    assert sev["L3-L4"] == "low" and sev["L4-L5"] == "high"
    l45 = next(g for g in ex.levels if g.level == "L4-L5")
    assert "touching the L5 nerve" in l45.headline
    assert l45.library and l45.library[0] == "disc-herniation"  # not the L3-L4 radiculopathy page
    l5s1 = next(g for g in ex.levels if g.level == "L5-S1")
    protrusion = next(f for f in l5s1.findings if f.finding == "disc_protrusion")
    assert protrusion.roots == []
    assert "touching the L5 nerve at L4-L5" in ex.summary.says
    meds = [o for c in ex.conditions for o in c.options if o.kind == "drug"]
    assert meds and all(o.badge["label"] == "Ask your doctor" for o in meds)
    for c in ex.conditions:  # first line first: self-care before medicines before procedures
        ranks = [o.rank for o in c.options]
        assert ranks == sorted(ranks)
