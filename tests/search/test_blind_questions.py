"""The blind question set (tests/data/blind_questions.jsonl, written before tuning): `ask` must
answer at least 90 % of the patient and GP questions with a citation on the right topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BLIND = Path(__file__).resolve().parents[1] / "data" / "blind_questions.jsonl"
TARGET = 0.90


def _on_topic(answer: Any, expect: list[str]) -> bool:
    """True when the first citation, the top result or a red-flag rule names an expected topic."""
    places: list[str] = []
    if answer.citations:
        places.append(answer.citations[0].address + " " + answer.citations[0].title)
    if answer.results:
        places.append(answer.results[0].address + " " + answer.results[0].title)
    for rf in answer.red_flags:
        places.append(" ".join([rf.rule, rf.name, *rf.addresses]))
    text = " ".join(places).lower()
    return any(e.lower() in text for e in expect)


def blind_score() -> tuple[float, list[str]]:
    """Share of blind questions answered with a citation on topic, and the misses."""
    from spineguide.search.answer import answer_question

    rows = [json.loads(line) for line in BLIND.read_text().splitlines() if line.strip()]
    misses = []
    for row in rows:
        a = answer_question(row["question"])
        ok = a.answered and bool(a.citations) and _on_topic(a, row["expect"])
        if not ok:
            first = a.citations[0].address if a.citations else "-"
            misses.append(f"{row['id']} {row['question']!r} -> {first}")
    return 1 - len(misses) / len(rows), misses


def test_blind_questions_answered_with_citations() -> None:
    """At least 90 % of the blind questions get a cited, on-topic answer."""
    score, misses = blind_score()
    assert score >= TARGET, f"blind score {score:.2f}; misses:\n" + "\n".join(misses)


def test_saddle_numbness_puts_cauda_equina_first() -> None:
    """Red-flag wording in lay terms gives the cauda equina advice before anything else."""
    from spineguide.search.answer import answer_question

    a = answer_question("I've got saddle numbness and back pain")
    assert a.red_flags and "cauda" in a.red_flags[0].rule.lower()


if __name__ == "__main__":
    s, m = blind_score()
    print(f"blind score {s:.3f} ({round(s * 60)}/60)")
    print("\n".join(m))
