"""Contradiction finder on a tiny in-memory knowledge base."""

from __future__ import annotations

from spineguide.ingest.contradictions import (
    doses_per_day,
    find_contradictions,
    single_dose_range_mg,
    stated_max_daily_mg,
)
from spineguide.ingest.template import parse_article
from spineguide.knowledge.loader import KnowledgeBase
from spineguide.knowledge.schema import (
    ArticleStatement,
    DoseLimit,
    Drug,
    GuidelineStance,
    Stance,
    Therapy,
)


def _kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.drugs["acetaminophen"] = Drug(
        id="acetaminophen",
        name="Acetaminophen",
        aliases=["Paracetamol"],
        drug_class="analgesic",
        description="Pain reliever.",
        dose_limits=[
            DoseLimit(
                usual="500 to 1000 mg every 4 to 6 hours", max_daily_mg=4000, source="label-a"
            )
        ],
        article_statements=[
            ArticleStatement(
                source="seed-a",
                section="drugs",
                dose="500 to 1000 mg every 6 h",
                max_daily="4 g per day",
            ),
            ArticleStatement(
                source="seed-b",
                section="drugs",
                dose="500 to 1000 mg every 6 h",
                timing="Never more than 3000 mg/day",
                max_daily="3000 mg/day",
            ),
        ],
    )
    kb.therapies["tens"] = Therapy(
        id="tens",
        name="TENS",
        kind="non_drug",
        category="electrotherapy",
        tier="non_drug",
        description="Skin electrodes.",
        guideline_stances=[
            GuidelineStance(guideline="nice-ng59", stance=Stance.do_not_offer),
            GuidelineStance(guideline="who-2023", stance=Stance.consider),
            GuidelineStance(guideline="acp-2017", stance=Stance.not_addressed),
        ],
        article_statements=[ArticleStatement(source="seed-a", section="non_drug_treatments")],
    )
    return kb


def test_dose_parsing() -> None:
    assert stated_max_daily_mg("500 mg (max 4 g/day)") == 4000
    assert stated_max_daily_mg("300 mg at night, titrate to 900–3600 mg/day") == 3600
    assert stated_max_daily_mg(None, None, "3 g") == 3000
    assert single_dose_range_mg("300 mg at night ⇧ to 900–1200 mg TID") == (900, 1200)
    assert doses_per_day("every 6–8 hours") == 4
    assert doses_per_day("two to three times daily") == 3


def test_dose_disagreements_between_articles_and_label() -> None:
    report = find_contradictions(_kb())
    kinds = report.by_kind
    assert kinds["dose_max_daily"] == 1
    dm = next(c for c in report.contradictions if c.kind == "dose_max_daily")
    assert {s.source for s in dm.sides} == {"seed-a", "seed-b"}
    assert {s.value for s in dm.sides} == {3000, 4000}
    assert dm.resolution and "4000 mg" in dm.resolution
    label = [c for c in report.contradictions if c.kind == "dose_vs_label"]
    assert len(label) == 1 and label[0].sides[0].source == "seed-b"


def test_guideline_disagreements() -> None:
    report = find_contradictions(_kb())
    avg = next(c for c in report.contradictions if c.kind == "article_vs_guideline")
    assert avg.item == "therapies:tens"
    assert {s.source for s in avg.sides} == {"seed-a", "nice-ng59"}
    gvg = next(c for c in report.contradictions if c.kind == "guideline_vs_guideline")
    assert {s.source for s in gvg.sides} == {"who-2023", "nice-ng59"}


def test_article_doses_without_kb_entries() -> None:
    text = (
        "Pharmacological Treatments\n-\nIbuprofen (NSAID)\nDosage: 400–800 mg every 6 hours\n"
        "Causes\n-\nWear: wear.\n"
    )
    other = text.replace("400–800 mg every 6 hours", "200–400 mg every 8 hours, up to 1200 mg/day")
    arts = [parse_article(text, "a.txt", "seed-a"), parse_article(other, "b.txt", "seed-b")]
    report = find_contradictions(KnowledgeBase(), arts)
    dm = next(c for c in report.contradictions if c.kind == "dose_max_daily")
    assert dm.item == "article:ibuprofen"
    assert sorted(s.value for s in dm.sides) == [1200, 3200]


def test_empty_kb() -> None:
    report = find_contradictions(KnowledgeBase())
    assert report.count == 0 and report.notes
