"""Structure of the real seed articles (read at run time; skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineguide.ingest.template import IngestedArticle, ingest_file


def _art(seeds_dir: Path, prefix: str) -> IngestedArticle:
    path = next(seeds_dir.glob(f"{prefix}_*.txt"), None)
    if path is None:
        pytest.skip(f"seed {prefix} not present")
    return ingest_file(path)


def _titles(art: IngestedArticle, key: str) -> list[str]:
    return [i.title for i in art.section(key).items]


def test_article_000(seeds_dir: Path) -> None:
    art = _art(seeds_dir, "000")
    counts = art.counts()
    assert counts["drugs"] == 20
    assert counts["non_drug_treatments"] == 30
    assert counts["dos"] == 5 and counts["donts"] == 5
    assert counts["faqs"] == 15
    assert counts["diagnostic_tests"] == 30
    assert counts["supplements"] == counts["advanced_therapies"] == counts["surgery"] == 10
    ibu = art.section("drugs").items[0]
    assert ibu.title.startswith("Ibuprofen")
    assert ibu.fields.dose.startswith("400–800 mg")
    assert ibu.fields.drug_class and ibu.fields.timing and ibu.fields.side_effects
    acet = next(i for i in art.section("drugs").items if i.title.startswith("Acetaminophen"))
    assert acet.fields.max_daily == "4 g/day"
    nd = art.section("non_drug_treatments").items
    with_split = [i for i in nd if i.fields.purpose and i.fields.mechanism]
    assert len(with_split) >= 25
    cats = {i.category for i in art.section("diagnostic_tests").items}
    assert cats == {"physical", "provocative", "laboratory", "electrodiagnostic", "imaging"}
    assert [i.index for i in art.section("donts").items] == [1, 2, 3, 4, 5]
    assert all(i.fields.question and i.fields.answer for i in art.section("faqs").items)
    assert {s.kind for s in art.skipped} >= {"disclaimer", "byline", "last_updated"}


def test_article_001(seeds_dir: Path) -> None:
    art = _art(seeds_dir, "001")
    counts = art.counts()
    assert counts["causes"] == counts["symptoms"] == 20
    assert counts["dos"] == 10 and counts["donts"] == 10
    assert counts["drugs"] == 20 and counts["supplements"] == 10
    subs = {i.subcategory for i in art.section("non_drug_treatments").items}
    assert subs == {
        "physiotherapy_electrotherapy",
        "exercise",
        "mind_body",
        "educational_self_management",
    }
    gaba = next(i for i in art.section("drugs").items if i.title.startswith("Gabapentin"))
    assert gaba.fields.max_daily and "3600" in gaba.fields.max_daily
    for item in art.items():  # trailing " -" markers never leak into text
        assert not (item.fields.description or "").endswith(" -")
        assert not item.title.endswith("-")


def test_article_002_numbered(seeds_dir: Path) -> None:
    art = _art(seeds_dir, "002")
    counts = art.counts()
    assert counts["causes"] == 20 and counts["drugs"] == 20 and counts["faqs"] == 15
    assert _titles(art, "causes")[0] == "Intervertebral Disc Degeneration"
    ibu = art.section("drugs").items[0]
    assert ibu.fields.max_daily == "1200 mg/day"
    acet = art.section("drugs").items[4]
    assert acet.fields.max_daily == "3000 mg/day"
    assert [t.lower() for t in _titles(art, "types")][:3] == [
        "mild foraminal narrowing",
        "moderate foraminal narrowing",
        "severe foraminal narrowing",
    ]


def test_article_003_inline_drugs(seeds_dir: Path) -> None:
    art = _art(seeds_dir, "003")
    counts = art.counts()
    assert counts["anatomy"] == 6 and counts["functions"] == 6
    assert counts["when_to_see_doctor"] == 5 and counts["drugs"] == 20
    drugs = {i.name: i for i in art.section("drugs").items if i.name}
    assert drugs["Acetaminophen"].fields.dose.startswith("500–1000 mg")
    assert drugs["Ibuprofen"].fields.description
    assert drugs["Gabapentin"].fields.dose.startswith("300 mg")
    supp = {i.name for i in art.section("supplements").items}
    assert "Glucosamine Sulfate" in supp


def test_article_004_prose(seeds_dir: Path) -> None:
    art = _art(seeds_dir, "004")
    assert art.layout == "prose"
    names = {i.title.lower() for i in art.items()}
    for expected in ("discectomy", "spinal fusion", "acupuncture"):
        assert expected in names
    assert any("nsaid" in n for n in names)
    assert {s.key for s in art.sections} >= {
        "causes",
        "symptoms",
        "treatments",
        "surgery",
        "prevention",
    }


def test_every_seed_item_span_is_valid(seeds_dir: Path) -> None:
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        art = ingest_file(path)
        assert sum(1 for _ in art.items()) > 20
        for item in art.items():
            assert 0 <= item.start < item.end <= len(text)
            if item.title_start is not None:
                assert text[item.title_start : item.title_end].lower() == item.title.lower()
