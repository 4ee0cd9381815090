"""Retrieval quality on the team's question set (tests/data/questions.jsonl) and index basics."""

from __future__ import annotations

import json
from pathlib import Path

from spineguide.search.answer import answer_question, search
from spineguide.search.index import build_index, get_index, load_question_vocabulary

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "questions.jsonl"


def _load() -> list[dict]:
    return [
        json.loads(line)
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _hit(address: str, expected: list[str]) -> bool:
    """An expected item is an exact address or a prefix (entity, or section without index)."""
    return any(
        address == e or address.startswith(e + "#") or address.startswith(e + "[") for e in expected
    )


def test_question_set_is_large_and_well_formed(kb) -> None:
    rows = _load()
    answerable = [r for r in rows if r["expected"]]
    assert len(answerable) >= 30
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["style"] for r in answerable} >= {"patient", "clinician"}
    addresses = {p.address for p in get_index(kb).passages}
    for r in answerable:
        for e in r["expected"]:
            assert any(_hit(a, [e]) for a in addresses), f"{r['id']}: {e} is not a KB address"


def test_top3_retrieval_accuracy(kb, capsys) -> None:
    rows = [r for r in _load() if r["expected"]]
    top1 = top3 = 0
    rr = 0.0
    misses = []
    for r in rows:
        results = search(r["question"], top=10, index=get_index(kb))
        ranks = [i + 1 for i, x in enumerate(results) if _hit(x.address, r["expected"])]
        rank = ranks[0] if ranks else None
        top1 += rank == 1
        top3 += bool(rank and rank <= 3)
        rr += 1.0 / rank if rank else 0.0
        if not (rank and rank <= 3):
            misses.append(f"{r['id']} (rank {rank}): {r['question']}")
    n = len(rows)
    with capsys.disabled():
        print(
            f"\nask retrieval on {n} questions: top-1 {top1 / n:.3f}, top-3 {top3 / n:.3f}, "
            f"MRR {rr / n:.3f}; top-3 misses: {misses}"
        )
    assert top3 / n >= 0.8, misses


def test_answerable_questions_are_answered_and_out_of_scope_abstain(kb) -> None:
    rows = _load()
    out_of_scope = [r for r in rows if not r["expected"]]
    assert len(out_of_scope) >= 5
    for r in out_of_scope:
        assert not answer_question(r["question"], kb=kb).answered, r["question"]
    answered = sum(answer_question(r["question"], kb=kb).answered for r in rows if r["expected"])
    assert answered / sum(1 for r in rows if r["expected"]) >= 0.9


def test_index_covers_every_section(kb) -> None:
    index = build_index(kb)
    sections = {p.section for p in index.passages}
    for s in (
        "faqs",
        "definition",
        "types",
        "causes",
        "symptoms",
        "prevention",
        "dos",
        "donts",
        "when_to_see_doctor",
        "description",
        "article_statements",
        "guideline_stances",
    ):
        assert s in sections
    assert len({p.address for p in index.passages}) == len(index.passages)
    assert all(p.sources for p in index.passages)
    assert all(s in kb.sources for p in index.passages for s in p.sources)
    faq = next(p for p in index.passages if p.address == "conditions/foraminal-stenosis#faqs[7]")
    assert "foraminotomy" in (faq.question or "").lower()


def test_index_is_cached_per_kb_version(kb) -> None:
    assert get_index(kb) is get_index(kb)
    assert get_index(kb).kb_version == kb.version


def test_synonyms_bridge_wordings(kb) -> None:
    for question, target in (
        ("maximum paracetamol dose", "drugs/acetaminophen"),
        ("acetaminophen with liver disease", "drugs/acetaminophen"),
        ("can a slipped disc heal on its own?", "conditions/"),
        ("is chiropractic manipulation safe", "conditions/disc-sequestration#faqs[14]"),
    ):
        top = [r.address for r in search(question, top=3, index=get_index(kb))]
        assert any(a.startswith(target) for a in top), (question, top)


def test_red_flag_vocabulary_uses_known_findings(kb) -> None:
    vocab = load_question_vocabulary()
    assert "sciatica" in vocab["synonyms"]
    unknown = [f for f in vocab["red_flag_phrases"] if f not in kb.findings]
    assert not unknown
