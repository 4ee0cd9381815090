"""Triage: red-flag rules fire on the right evidence, combinations escalate, and doubt errs urgent."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess


def urgency(text: str) -> str:
    """Urgency for a free-text presentation."""
    return assess(text).triage.urgency.value


def fired(text: str) -> set[str]:
    """Ids of the red-flag rules that fired."""
    return {r.id for r in assess(text).triage.red_flags}


@pytest.mark.parametrize(
    "text",
    [
        "48M, sciatica for a week, today cannot pass urine and has numbness around the back passage.",
        "Woman of 39 with back pain and new faecal incontinence since this morning.",
        "Back pain and bilateral sciatica; on exam reduced anal tone and a palpable bladder.",
    ],
)
def test_cauda_equina_features_are_emergencies(text: str) -> None:
    assert urgency(text) == "emergency"
    assert "cauda_equina" in fired(text)


def test_negated_sphincter_symptoms_do_not_fire_ces() -> None:
    text = (
        "35F, 2 weeks of left sciatica. Denies saddle numbness, bladder and bowel function normal."
    )
    assert "cauda_equina" not in fired(text)
    assert urgency(text) == "routine"


def test_infection_escalates_to_emergency_with_weakness() -> None:
    base = "40M who injects heroin, 4 days of severe low back pain, temperature 38.7, CRP 150."
    assert "spinal_infection" in fired(base)
    assert urgency(base) == "urgent"
    assert urgency(base + " Since this morning both legs are weak.") == "emergency"


def test_known_cancer_with_new_back_pain_is_urgent_and_with_weak_legs_emergency() -> None:
    text = "66-year-old man with prostate cancer treated 3 years ago, 5 weeks of constant back pain at night."
    assert urgency(text) == "urgent"
    assert "malignancy" in fired(text)
    worse = text + " Now both legs have become weak and he is unsteady walking."
    assert urgency(worse) == "emergency"
    assert "malignant_cord_compression" in fired(worse)


def test_anticoagulated_patient_with_back_pain_and_weak_legs_is_emergency() -> None:
    text = "80-year-old on rivaroxaban, sudden severe back pain 3 hours ago, now both legs weak."
    assert urgency(text) == "emergency"
    assert "epidural_hematoma" in fired(text)


def test_progressive_foot_drop_is_at_least_urgent() -> None:
    text = "45M, left sciatica for 2 weeks; dorsiflexion 4/5 last week, today 2/5, foot slapping."
    assert urgency(text) in ("urgent", "emergency")
    assert "progressive_motor_deficit" in fired(text)


def test_steroid_user_with_sudden_pain_after_minor_fall_is_urgent() -> None:
    text = "82F on long-term prednisolone for COPD, fell at home onto her bottom, sudden severe low back pain."
    assert urgency(text) == "urgent"
    assert "fracture" in fired(text)


def test_simple_acute_back_pain_is_self_care() -> None:
    text = (
        "29-year-old man with low back pain for 3 days after moving house. No leg pain, no numbness, "
        "no weakness, no fever, bladder normal. Neurological exam normal."
    )
    a = assess(text)
    assert a.triage.urgency.value == "self_care"
    assert not [r for r in a.triage.red_flags if r.urgency.value in ("urgent", "emergency")]


def test_each_fired_rule_shows_evidence_with_spans_and_sources() -> None:
    text = "52M, sciatica, new difficulty starting his urine stream and numbness between his legs."
    a = assess(text)
    rule = next(r for r in a.triage.red_flags if r.id == "cauda_equina")
    assert rule.sources and rule.action
    assert {e.id for e in rule.evidence} >= {"bladder_dysfunction", "saddle_anesthesia"}
    for e in rule.evidence:
        assert e.span is not None and text[e.span[0] : e.span[1]] == e.text
