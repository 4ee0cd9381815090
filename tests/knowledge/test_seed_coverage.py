"""Every item of every seed article is represented in the knowledge base, field by field."""

from __future__ import annotations


def test_all_seed_items_are_covered_with_their_facts(shared_dir, kb) -> None:
    from spineguide.ingest.coverage import coverage_report
    from spineguide.ingest.template import ingest_paths

    report = coverage_report(ingest_paths([shared_dir / "seeds"], kb), kb)
    unmatched = [(u.source, u.section, u.index, u.title, u.reason) for u in report.unmatched]
    assert report.items >= 840
    assert unmatched == []
    assert report.coverage == 1.0


def test_prose_article_yields_its_named_items(shared_dir) -> None:
    from spineguide.ingest.template import ingest_file

    art = ingest_file(shared_dir / "seeds" / "004_2ea9fb71761ddfac.txt")
    keys = {s.key: [i.title.lower() for i in s.items] for s in art.sections}
    assert any("minimally invasive" in t for t in keys["treatments"])
    assert keys.get("when_to_see_doctor"), "the 'seek evaluation' advice is an item"
    assert any("discectomy" in t for t in keys["surgery"] + keys["treatments"])
