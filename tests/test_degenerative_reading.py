"""Degenerative and structural wording families in clinical notes.

Every sentence here is written for this file (no case-set text).
"""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import extract


def _present(text: str) -> set[str]:
    return {e.id for e in extract(text).evidence if e.choice == "present"}


def _factors(text: str, dx_id: str) -> dict[str, float]:
    d = next(d for d in assess(text, detail="full").differential if d.id == dx_id)
    return {e.id: e.likelihood_ratio for e in d.evidence_for + d.evidence_against}


# --- balance (imbalance rather than a limp) ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Back pain for a year and he is unsteady on his feet in the dark.",
        "Walking has become unsteady over the last few months.",
        "Romberg's test is positive; reflexes symmetrical.",
        "She walks with a wide-based gait and has buttock pain.",
        "Problems with her balance and aching legs when shopping.",
        "Gait ataxic on examination.",
    ],
)
def test_imbalance_wording_is_read_as_balance_impairment(text: str) -> None:
    found = _present(text)
    assert "balance_impairment" in found
    assert "gait_disturbance" in found


@pytest.mark.parametrize(
    "text",
    [
        "He lost his balance on a ladder and landed on his back.",
        "Walks with a limp because of the pain in her hip.",
        "Romberg negative; gait normal.",
    ],
)
def test_a_fall_a_limp_or_a_normal_romberg_is_not_imbalance(text: str) -> None:
    assert "balance_impairment" not in _present(text)


def test_imbalance_weighs_for_stenosis_and_against_a_herniation() -> None:
    text = "69F with a year of aching in both legs on walking and an unsteady gait; back stiff."
    assert _factors(text, "lumbar-spinal-stenosis")["balance_impairment"] == 4
    assert "gait_disturbance" not in _factors(text, "lumbar-spinal-stenosis")
    herniation = "41M with left sciatica and an unsteady gait since the weekend."
    assert _factors(herniation, "disc-herniation")["balance_impairment"] < 1


def test_a_limp_keeps_the_lower_walking_difficulty_weight_for_stenosis() -> None:
    text = "70M with aching in both legs on walking, now limping; back stiff."
    factors = _factors(text, "lumbar-spinal-stenosis")
    assert factors["gait_disturbance"] == 2
    assert "balance_impairment" not in factors


# --- neurogenic claudication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Both legs go heavy after walking 300 yards; she has to sit down before carrying on.",
        "Aching in the calves on walking, eased by sitting on a bench or bending forward.",
        "Walking tolerance is down to about 100 metres because of buttock pain.",
        "He stops every few hundred metres and leans forward to ease the numbness in his legs.",
        "Pseudoclaudication suspected by the GP.",
        "Thigh pain with walking, relieved by flexing forward over a rail.",
        "She can walk further uphill than on the flat.",
        "Able to cycle without pain, but walking brings on numb legs.",
    ],
)
def test_neurogenic_claudication_wording(text: str) -> None:
    assert "neurogenic_claudication" in _present(text)


@pytest.mark.parametrize(
    "text",
    [
        "Back pain worse with walking and sitting.",
        "Leg pain on walking, not relieved by sitting down.",
        "Calf cramp on walking uphill that settles when he stands still.",
    ],
)
def test_posture_free_or_unrelieved_walking_pain_is_not_neurogenic_claudication(text: str) -> None:
    assert "neurogenic_claudication" not in _present(text)


def test_back_ache_on_standing_eased_by_sitting_is_posture_not_claudication() -> None:
    text = "Low back ache on standing and arching backwards, eased by sitting down."
    found = _present(text)
    assert "neurogenic_claudication" not in found
    assert {"pain_worse_standing", "pain_relieved_flexion"} <= found


def test_pain_that_goes_once_seated_is_flexion_relief() -> None:
    found = _present("The ache starts after standing at the sink and goes once she sits down.")
    assert "pain_relieved_flexion" in found


def test_calf_pain_relieved_by_standing_still_is_vascular() -> None:
    text = "Cramping calf pain on walking that settles when she stands still for a minute."
    assert "vascular_claudication" in _present(text)


def test_denied_relief_by_sitting_is_not_flexion_relief() -> None:
    assert "pain_relieved_flexion" not in _present("Leg pain on walking, not eased by sitting.")


# --- structural diagnoses stated as known --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Known grade 1 degenerative spondylolisthesis at L4/5.", "known_spondylolisthesis"),
        ("She has a known L4/5 slip and hypertension.", "known_spondylolisthesis"),
        ("History of lumbar canal stenosis, on the waiting list.", "known_spinal_stenosis"),
        ("Known left L4/5 facet joint cyst.", "known_synovial_cyst"),
        ("Previously diagnosed calcified disc at C3-4.", "known_disc_calcification"),
        ("Known schwannoma of the cauda equina under follow-up.", "known_intradural_tumour"),
    ],
)
def test_a_structural_diagnosis_stated_as_known_is_read(text: str, finding: str) -> None:
    assert finding in _present(text)


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Possible spinal stenosis, to be confirmed.", "known_spinal_stenosis"),
        ("Known aortic stenosis and atrial fibrillation.", "known_spinal_stenosis"),
        ("Known foraminal stenosis on the right.", "known_spinal_stenosis"),
        (
            "Back pain since a slip on the ice; history of a slip last winter.",
            "known_spondylolisthesis",
        ),
        ("Known neurofibromatosis type 1.", "known_intradural_tumour"),
    ],
)
def test_suspicion_other_stenoses_and_falls_are_not_known_diagnoses(
    text: str, finding: str
) -> None:
    assert finding not in _present(text)


def test_a_scan_sentence_is_left_to_the_imaging_reader() -> None:
    # the imaging reader weighs it; the clinical reader must not count the same slip again
    assert "known_spondylolisthesis" not in _present(
        "X-ray showed a known L4 on L5 spondylolisthesis."
    )


def test_a_known_slip_in_an_older_woman_ranks_the_slip_high() -> None:
    text = (
        "72F with back pain and heavy legs. Known grade 1 degenerative spondylolisthesis at L4/5."
    )
    ranked = [d.id for d in assess(text).differential]
    assert "degenerative-spondylolisthesis" in ranked[:2]
    assert _factors(text, "degenerative-spondylolisthesis")["known_spondylolisthesis"] > 1


def test_a_known_canal_stenosis_puts_stenosis_first_for_leg_pain_in_later_life() -> None:
    text = "69M with back pain and pain down the right leg; known lumbar canal stenosis."
    assert assess(text).differential[0].id == "lumbar-spinal-stenosis"


# --- leg heaviness relieved by sitting is claudication, not a motor deficit --------------------


@pytest.mark.parametrize(
    "text",
    [
        "71F with back pain; her legs feel heavy when she walks into town and she has to sit on "
        "a bench, then she can carry on.",
        "73M, a year of back pain; both legs go heavy after 300 yards and settle if he bends forward.",
    ],
)
def test_posture_relieved_leg_heaviness_is_claudication_and_routine(text: str) -> None:
    found = _present(text)
    assert "neurogenic_claudication" in found
    assert "bilateral_leg_weakness" not in found
    result = assess(text)
    assert result.triage.urgency.value == "routine"
    assert result.differential[0].id == "lumbar-spinal-stenosis"


@pytest.mark.parametrize(
    "text",
    [
        "Since this morning both legs feel heavy and he cannot stand; sitting does not help.",
        "Her legs gave way twice today.",
        "Both legs feel heavy all the time, not relieved by sitting or lying.",
        "Legs feel heavy and wobbly: hip flexion 4-/5 on both sides.",
    ],
)
def test_leg_heaviness_without_postural_relief_stays_bilateral_weakness(text: str) -> None:
    assert "bilateral_leg_weakness" in _present(text)
