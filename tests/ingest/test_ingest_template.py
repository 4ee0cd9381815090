"""Parser tests on synthetic articles (one per formatting variant)."""

from __future__ import annotations

from pathlib import Path

from spineguide.ingest.template import (
    ingest_file,
    parse_article,
    parse_side_effects,
    strip_citations,
)


def _spans_hold_titles(art, text: str) -> None:
    for item in art.items():
        assert 0 <= item.start < item.end <= len(text)
        if item.title_start is not None:
            assert text[item.title_start : item.title_end] == item.title or item.title_derived
        if not item.title_derived and item.section != "definition":
            assert item.title.split()[0] in text[item.start : item.end]
        assert text.count("\n", 0, item.start) + 1 == item.line


def test_dash_bullets(articles_dir: Path) -> None:
    path = articles_dir / "dash_bullets.txt"
    text = path.read_text(encoding="utf-8")
    art = ingest_file(path)
    counts = art.counts()
    assert counts["types"] == 3
    assert [i.title for i in art.section("types").items][:2] == ["Synovial Cyst", "Ganglion Cyst"]
    assert counts["symptoms"] == 2
    tests = art.section("diagnostic_tests").items
    assert [t.category for t in tests] == ["physical", "physical", "imaging"]
    assert tests[2].title.startswith("Magnetic Resonance Imaging (MRI)")
    nd = art.section("non_drug_treatments").items
    assert [i.subcategory for i in nd] == [
        "physiotherapy_electrotherapy",
        "physiotherapy_electrotherapy",
        "exercise",
    ]
    assert nd[0].citations == ["PMC", "Physiopedia"]
    assert "Physiopedia" not in (nd[0].fields.description or "")
    drugs = art.section("drugs").items
    assert drugs[0].fields.side_effects == ["Heartburn", "ankle swelling", "raised blood pressure"]
    assert drugs[1].fields.max_daily == "3 g/day"
    assert drugs[2].name == "Ibuprofen" and drugs[2].fields.dose.startswith("200-400 mg")
    assert drugs[2].fields.drug_class == "Non-selective NSAID"
    assert drugs[3].name == "Gabapentin"
    supp = art.section("supplements").items[0]
    assert supp.name == "Fish Oil" and "1000 mg/day" in supp.fields.dose
    surgery = art.section("surgery").items
    assert surgery[0].fields.benefits == "Quick relief of leg pain."
    assert counts["when_to_see_doctor"] == 2
    assert art.section("when_to_see_doctor").notes  # the outro line is not an item
    assert [i.title for i in art.section("dos").items][-2:] == [
        "Keep a pain diary",
        "Stretch after warming up",
    ]
    assert counts["donts"] == 4
    faqs = art.section("faqs").items
    assert faqs[1].fields.question == "Is surgery needed?"
    assert "12 weeks" in faqs[1].fields.answer
    assert {s.kind for s in art.skipped} == {"disclaimer", "byline", "last_updated"}
    _spans_hold_titles(art, text)


def test_numbered_indented(articles_dir: Path) -> None:
    path = articles_dir / "numbered_indented.txt"
    text = path.read_text(encoding="utf-8")
    art = ingest_file(path)
    assert art.title == "Lumbar Canal Crowding at L2–L3"
    assert art.counts()["definition"] == 2
    assert [i.title for i in art.section("types").items] == ["Mild crowding", "Severe crowding"]
    assert [i.title for i in art.section("causes").items] == ["Disc Flattening", "Joint Thickening"]
    tests = art.section("diagnostic_tests").items
    assert [t.category for t in tests] == ["physical", "laboratory"]
    flex = art.section("non_drug_treatments").items[0]
    assert flex.fields.purpose and flex.fields.mechanism
    tca = art.section("drugs").items[1]
    assert tca.fields.max_daily == "75 mg/day"
    assert tca.fields.timing == "Late evening."
    assert art.section("drugs").intro == ["Each medicine below is for adults."]
    seek = art.section("when_to_see_doctor")
    assert len(seek.items) == 2 and seek.intro and seek.notes
    assert art.counts()["dos"] == 1 and art.counts()["donts"] == 1
    assert {s.kind for s in art.skipped} >= {"title", "disclaimer", "last_updated", "logo"}
    _spans_hold_titles(art, text)


def test_numbered_inline_fields(articles_dir: Path) -> None:
    path = articles_dir / "numbered_inline.txt"
    text = path.read_text(encoding="utf-8")
    art = ingest_file(path)
    ibu = art.section("drugs").items[0]
    assert ibu.fields.dose == "200–600 mg by mouth every 8 hours after food."
    assert ibu.fields.drug_class.startswith("Anti-inflammatory")
    assert ibu.fields.side_effects == ["stomach upset", "ulcer risk"]
    acet = art.section("drugs").items[1]
    assert acet.fields.max_daily == "4 g/day"
    walk = art.section("non_drug_treatments").items[0]
    assert walk.fields.purpose.startswith("Its purpose")
    assert walk.fields.mechanism.startswith("By loading")
    vit = art.section("supplements").items[0]
    assert vit.fields.function and vit.fields.mechanism and vit.fields.dose
    assert art.section("surgery").items[0].fields.procedure
    # "Avoid" continues the numbering (3., 4.) but donts are numbered from 1
    assert [i.index for i in art.section("donts").items] == [1, 2]
    assert [i.title for i in art.section("causes").items] == ["Disc wear", "Low-grade infection"]
    assert [i.title for i in art.section("types").items] == ["Type one change", "Type two change"]
    assert art.section("faqs").items[0].fields.answer
    _spans_hold_titles(art, text)


def test_prose(articles_dir: Path) -> None:
    path = articles_dir / "prose.txt"
    text = path.read_text(encoding="utf-8")
    art = ingest_file(path)
    assert art.layout == "prose"
    titles = {s.key: [i.title.lower() for i in s.items] for s in art.sections}
    assert titles["causes"] == ["disc bulges", "joint wear", "compression fractures"]
    assert "groin pain" in titles["symptoms"]
    assert {"walking programs", "massage", "yoga", "nerve blocks"} <= set(titles["treatments"])
    assert titles["surgery"] == ["vertebroplasty", "decompression"]
    assert titles["prevention"] == ["keeping bones strong", "avoiding long periods of sitting"]
    for item in art.items():
        sentence = text[item.start : item.end]
        if item.section != "definition":
            assert item.title.lower() in sentence.lower()
    assert any(s.kind == "repeated_title" for s in art.skipped)


def test_strip_citations() -> None:
    assert strip_citations("pain relief Spine-healthMerck Manuals.") == (
        "pain relief.",
        ["Spine-health", "Merck Manuals"],
    )
    assert strip_citations("shows the fragment") == ("shows the fragment", [])
    assert strip_citations("a careful signature.") == ("a careful signature.", [])
    clean, cites = strip_citations("bone turnover www.elsevier.comMedlinePlus.")
    assert clean == "bone turnover." and cites == ["www.elsevier.com", "MedlinePlus"]


def test_side_effects_keep_parentheses() -> None:
    effects = parse_side_effects("central effects (drowsiness, headache), stomach upset.")
    assert effects == ["central effects (drowsiness, headache)", "stomach upset"]
    assert parse_side_effects("nausea, dizziness, and seizures") == [
        "nausea",
        "dizziness",
        "seizures",
    ]


def test_source_id_from_registry() -> None:
    class _Src:
        def __init__(self, ident: str, file: str | None) -> None:
            self.id, self.file = ident, file

    class _KB:
        sources = {"x": _Src("seed-x", "a.txt"), "y": _Src("paper-y", None)}

    art = parse_article("Types\n-\nOne Kind – a kind.\nCauses\n-\nWear: it wears.\n", "a.txt")
    assert art.source_id is None
    from spineguide.ingest.template import source_id_for

    assert source_id_for("/some/dir/a.txt", _KB()) == "seed-x"
    assert source_id_for("b.txt", _KB()) is None
