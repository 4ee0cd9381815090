"""Persistent fever and fever with a neurological deficit: derivation and weight for infection."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.reasoning.derive import derive_findings
from spineguide.reasoning.differential import rank_differential
from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
from spineguide.reasoning.localization import localize

FEBRILE = {"fever", "persistent_fever", "sepsis_signs", "fever_with_neuro_deficit"}


def _derived(*present: str) -> set[str]:
    es = EvidenceSet(items=[Evidence(id=i) for i in present])
    return derive_findings(es).present_ids()


@pytest.mark.parametrize(
    "present",
    [
        ("fever", "low_back_pain", "leg_numbness"),
        ("persistent_fever", "thoracic_pain", "leg_weakness_reported"),
        ("fever", "low_back_pain", "urinary_retention"),
        ("fever", "low_back_pain", "ankle_dorsiflexion_weakness"),
        ("fever", "sensory_level"),
    ],
)
def test_fever_with_a_deficit_is_derived(present: tuple[str, ...]) -> None:
    assert "fever_with_neuro_deficit" in _derived(*present)


@pytest.mark.parametrize(
    "present",
    [
        ("fever", "low_back_pain", "paresthesia"),  # tingling alone
        ("fever", "low_back_pain", "achilles_reflex_reduced"),  # a reflex alone
        ("fever", "low_back_pain", "leg_pain"),  # radicular pain alone
        ("low_back_pain", "leg_numbness", "leg_weakness_reported"),  # no fever
        ("night_sweats", "leg_numbness"),
    ],
)
def test_no_fever_deficit_pattern_without_both_parts(present: tuple[str, ...]) -> None:
    assert "fever_with_neuro_deficit" not in _derived(*present)


def test_denied_fever_gives_no_pattern() -> None:
    es = EvidenceSet(
        items=[Evidence(id="fever", choice=Choice.absent), Evidence(id="leg_numbness")]
    )
    assert "fever_with_neuro_deficit" not in derive_findings(es).present_ids()


def _infection(kb, present: list[str]):
    es = derive_findings(EvidenceSet(items=[Evidence(id=i) for i in present]))
    results = rank_differential(es, [], localize(es, [], kb), "primary", {}, kb)
    return next(d for d in results if d.id == "spinal-infection")


def _febrile_items(dx) -> list[str]:
    return [c.id for c in dx.evidence_for + dx.evidence_against if c.id in FEBRILE]


def test_persistent_fever_weighs_more_than_one_reading(kb) -> None:
    once = _infection(kb, ["low_back_pain", "fever"])
    week = _infection(kb, ["low_back_pain", "fever", "persistent_fever"])
    assert week.probability > 1.5 * once.probability
    assert _febrile_items(week) == ["persistent_fever"]  # fever is not counted again


def test_deficit_with_fever_adds_to_the_strongest_febrile_wording(kb) -> None:
    week = _infection(kb, ["low_back_pain", "fever", "persistent_fever"])
    dx = _infection(kb, ["low_back_pain", "fever", "persistent_fever", "leg_numbness"])
    # the febrile group still counts one wording; the deficit given fever is a separate factor
    assert _febrile_items(dx) == ["persistent_fever", "fever_with_neuro_deficit"]
    assert dx.probability > week.probability
    # numbness without fever does not move infection
    numb = _infection(kb, ["low_back_pain", "leg_numbness"])
    plain = _infection(kb, ["low_back_pain"])
    assert numb.probability <= plain.probability * 1.05


def test_weakness_of_both_legs_and_the_fever_pattern_count_once(kb) -> None:
    dx = _infection(kb, ["low_back_pain", "fever", "bilateral_leg_weakness"])
    ids = [c.id for c in dx.evidence_for]
    assert "bilateral_leg_weakness" in ids
    assert "fever_with_neuro_deficit" not in ids  # the stronger deficit ratio wins


def test_note_with_a_week_of_fever_and_leg_numbness_keeps_infection_in_view() -> None:
    note = (
        "38-year-old woman, usually fit, with eight days of daily fevers, lumbar pain and "
        "numbness spreading down the right leg."
    )
    result = assess(note)
    top3 = [d.id for d in result.differential[:3]]
    assert "spinal-infection" in top3
    ids = {e.id for e in result.evidence if e.choice == Choice.present}
    assert {"persistent_fever", "fever", "leg_numbness"} <= ids
    infection = next(d for d in result.differential if d.id == "spinal-infection")
    assert _febrile_items(infection) == ["persistent_fever", "fever_with_neuro_deficit"]
