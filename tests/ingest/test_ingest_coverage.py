"""Coverage matcher on a tiny in-memory knowledge base (models built directly)."""

from __future__ import annotations

from spineguide.ingest.coverage import (
    content_words,
    coverage_report,
    match_item,
    numbers,
    overlap,
)
from spineguide.ingest.template import parse_article
from spineguide.knowledge.loader import KnowledgeBase
from spineguide.knowledge.schema import (
    ArticleRef,
    ArticleStatement,
    Condition,
    Drug,
    Omission,
    Source,
    SourceKind,
    TextItem,
)

SRC = "seed-test"
ARTICLE = """Overview line that explains a made-up back problem for tests.
Pharmacological Treatments
1. Naproxen (Anti-inflammatory)
Class: Propionic acid NSAID. Dosage: 375 mg every 12 hours.
Time: after food. Side effects: heartburn, fluid retention.
2. Mystery Drug
Class: Placebo. Dosage: 10 mg daily. Time: any time. Side effects: none.
Prevention Strategies
-
Keep a healthy weight to ease the load on the lower spine.
-
Sleep on a supportive mattress.
"""


def _kb(statement: ArticleStatement | None, prevention_refs: bool = True) -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.sources[SRC] = Source(
        id=SRC, kind=SourceKind.seed_article, title="t", file="t.txt", condition="cond"
    )
    kb.drugs["naproxen"] = Drug(
        id="naproxen",
        name="Naproxen",
        drug_class="NSAID",
        description="Anti-inflammatory pain reliever.",
        article_statements=[statement] if statement else [],
    )
    kb.conditions["cond"] = Condition(
        id="cond",
        name="Test condition",
        group="seed",
        definition="A made-up back problem used to explain tests.",
        patient_summary="Pretend back pain.",
        prevention=[
            TextItem(
                text="Staying at a healthy body weight lowers the load on the lower spine.",
                refs=[ArticleRef(source=SRC, section="prevention", item=1)]
                if prevention_refs
                else [],
            )
        ],
    )
    return kb


def _items():
    art = parse_article(ARTICLE, "t.txt", SRC)
    return {(i.section, i.index): i for i in art.items()}, art


def _good_statement(**changes) -> ArticleStatement:
    data = dict(
        source=SRC,
        section="drugs",
        drug_class="NSAID of the propionic acid group",
        dose="375 mg by mouth every 12 hours",
        timing="Take after food",
        side_effects=["heartburn and indigestion", "fluid retention with ankle swelling"],
    )
    data.update(changes)
    return ArticleStatement(**data)


def test_paraphrase_with_same_facts_is_covered() -> None:
    items, _ = _items()
    ok, reason, key = match_item(_kb(_good_statement()), items[("drugs", 1)])
    assert ok, reason
    assert key == "drugs:naproxen"


def test_bare_name_without_facts_is_not_coverage() -> None:
    items, _ = _items()
    ok, reason, _ = match_item(_kb(None), items[("drugs", 1)])
    assert not ok and "no article statement" in reason
    empty = ArticleStatement(source=SRC, section="drugs")
    ok, reason, _ = match_item(_kb(empty), items[("drugs", 1)])
    assert not ok and "missing field dose" in reason


def test_wrong_numbers_fail() -> None:
    items, _ = _items()
    ok, reason, _ = match_item(
        _kb(_good_statement(dose="250 mg every 12 hours")), items[("drugs", 1)]
    )
    assert not ok and "numbers missing 375" in reason


def test_side_effects_need_a_shared_word() -> None:
    items, _ = _items()
    st = _good_statement(side_effects=["heartburn"])
    ok, reason, _ = match_item(_kb(st), items[("drugs", 1)])
    assert not ok and "fluid retention" in reason


def test_unknown_name_is_no_entry() -> None:
    items, _ = _items()
    ok, reason, key = match_item(_kb(_good_statement()), items[("drugs", 2)])
    assert not ok and reason == "no entry" and key is None


def test_unnamed_items_match_by_refs() -> None:
    items, _ = _items()
    kb = _kb(_good_statement())
    ok, reason, key = match_item(kb, items[("prevention", 1)])
    assert ok, reason
    assert key.startswith("conditions/cond/prevention")
    ok, reason, _ = match_item(kb, items[("prevention", 2)])
    assert not ok and "no refs" in reason
    ok, _, _ = match_item(_kb(_good_statement(), prevention_refs=False), items[("prevention", 1)])
    assert not ok


def test_report_counts_and_omissions() -> None:
    _, art = _items()
    kb = _kb(_good_statement())
    kb.omissions.append(Omission(source=SRC, section="drugs", name="Mystery Drug", reason="fake"))
    report = coverage_report([art], kb)
    assert report.items == 5
    assert report.omitted == 1
    assert report.matched == 3  # definition, naproxen, prevention 1
    assert report.coverage == round(3 / 4, 4)
    assert [u.title for u in report.unmatched] == ["Sleep on a supportive mattress"]
    sec = report.per_article["t.txt"].sections["drugs"]
    assert (sec.items, sec.matched, sec.omitted) == (2, 1, 1)


def test_empty_kb_reports_zero() -> None:
    _, art = _items()
    report = coverage_report([art], KnowledgeBase())
    assert report.items == 5 and report.matched == 0 and report.coverage == 0.0


def test_text_helpers() -> None:
    assert numbers("400–800 mg") == numbers("400 to 800 mg") == {400.0, 800.0}
    assert numbers("1,000 mg") == {1000.0}
    assert numbers("½ tablet") == {0.5}
    assert numbers("COX-2 at L3–L4, α2δ") == set()
    assert content_words("Reduces swelling") == content_words("reducing swelled")
    assert overlap("reduce swelling and pain", "lowers pain and swelling") >= 0.5
