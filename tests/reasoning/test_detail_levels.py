"""Summary and full assessments: the same ranking, explanations only where they are read."""

from __future__ import annotations

import pytest

from spineguide.errors import InputError
from spineguide.reasoning.assess import assess
from spineguide.reasoning.differential import EXPLAINED_DIAGNOSES

NOTE = (
    "52-year-old woman, 4 weeks of right buttock pain shooting down the back of the thigh to the "
    "outer foot after gardening. Straight leg raise positive at 40 degrees on the right, ankle "
    "jerk absent on the right, weak plantarflexion 4/5. No bladder or bowel change, no saddle "
    "numbness, no fever, no weight loss."
)
EMERGENCY = (
    "61M on apixaban, sudden severe back pain this morning then both legs weak, cannot pass "
    "urine since lunchtime, numb around the back passage."
)


def _strip(a: object) -> list[tuple[str, float, bool]]:
    return [(d.id, d.probability, d.must_not_miss) for d in a.differential]  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [NOTE, EMERGENCY])
def test_summary_ranks_exactly_like_full(text: str) -> None:
    summary, full = assess(text), assess(text, detail="full")
    assert _strip(summary) == _strip(full)
    assert summary.triage.urgency == full.triage.urgency
    assert [q.finding_id for q in summary.next_questions] == [
        q.finding_id for q in full.next_questions
    ]


@pytest.mark.parametrize("text", [NOTE, EMERGENCY])
def test_summary_explains_the_leaders_and_every_must_not_miss(text: str) -> None:
    summary, full = assess(text), assess(text, detail="full")
    for rank, (s, f) in enumerate(zip(summary.differential, full.differential, strict=True)):
        if rank < EXPLAINED_DIAGNOSES or s.must_not_miss:
            assert s.explained
            assert s.evidence_for == f.evidence_for
            assert s.evidence_against == f.evidence_against
        else:
            assert not s.explained
            assert s.evidence_for == [] and s.evidence_against == []
    assert all(d.explained for d in full.differential)
    assert len(full.differential) > EXPLAINED_DIAGNOSES  # the summary really leaves some out


def test_emergency_must_not_miss_is_explained_in_the_summary() -> None:
    a = assess(EMERGENCY)
    flagged = [d for d in a.differential if d.must_not_miss]
    assert flagged, "a cauda equina picture on an anticoagulant flags a must-not-miss diagnosis"
    assert all(d.explained and d.evidence_for for d in flagged)


def test_summary_is_smaller_than_full() -> None:
    summary = assess(NOTE).model_dump_json()
    full = assess(NOTE, detail="full").model_dump_json()
    assert len(summary) < len(full)


def test_unknown_detail_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unknown detail"):
        assess(NOTE, detail="everything")  # type: ignore[arg-type]
