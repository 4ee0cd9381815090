"""Note-reader phrasing families that hid infection risk and red flags (second set).

Each test reads sentences written for this file (not taken from any evaluation set) and checks
the finding the family should state, plus near-miss wordings that must not state it.
"""

from __future__ import annotations

import pytest

from spineguide.reasoning.evidence import Choice
from spineguide.text.clinical import extract_clinical_evidence


def _choices(text: str, finding: str) -> set[Choice]:
    return {e.choice for e in extract_clinical_evidence(text) if e.id == finding}


def _present(text: str, finding: str) -> bool:
    return Choice.present in _choices(text, finding)


@pytest.mark.parametrize(
    "text",
    [
        "Retired builder with badly controlled type 2 diabetes and two weeks of lumbar pain.",
        "PMH: poorly controlled T2DM, hypertension.",
        "Background of diabetes, poorly controlled, on insulin.",
        "Her diabetes is not well controlled and she has lost weight.",
        "Insulin-treated diabetic whose sugars have been all over the place this month.",
        "Blood sugars running high at home for weeks.",
        "Most recent HbA1c is raised.",
        "Known NIDDM with suboptimal glycaemic control.",
        "Admitted last year with diabetic ketoacidosis.",
        "Brittle type 1 diabetes.",
    ],
)
def test_poorly_controlled_diabetes_family(text: str) -> None:
    assert _present(text, "poorly_controlled_diabetes")
    assert _present(text, "diabetes")  # every wording of poor control states diabetes too


@pytest.mark.parametrize(
    "text",
    [
        "Type 2 diabetes, well controlled on metformin.",
        "Diabetic, HbA1c 48 mmol/mol last month.",
        "Diabetic; pain poorly controlled with co-codamol.",
        "Diet-controlled diabetes.",
        "Diabetic; admitted in 2019 with alcoholic ketoacidosis.",
    ],
)
def test_controlled_diabetes_is_not_poor_control(text: str) -> None:
    assert _present(text, "diabetes")
    assert not _present(text, "poorly_controlled_diabetes")


@pytest.mark.parametrize(
    "text",
    [
        "Four days of constant, severe, throbbing lower back pain.",
        "Reports severe, sharp, stabbing back pain since the weekend.",
        "Came in with severe LBP after a cough.",
        "Intense burning buttock and thigh pain overnight.",
        "Crippling sciatica in the right leg.",
    ],
)
def test_severe_pain_in_adjective_lists(text: str) -> None:
    assert _present(text, "severe_pain")


@pytest.mark.parametrize(
    "text",
    [
        "Severe, progressive weakness, mild back pain.",
        "Severe stenosis at L4/5, leg pain on walking.",
        "Mild, intermittent back pain.",
    ],
)
def test_severity_of_something_else_is_not_severe_pain(text: str) -> None:
    assert not _present(text, "severe_pain")


def test_constant_pain_still_read_in_the_list() -> None:
    assert _present("Five days of severe, constant, dull lumbar ache.", "constant_pain")


@pytest.mark.parametrize(
    "text",
    [
        "Leg pain getting worse despite eight weeks of physiotherapy.",
        "Back pain unchanged despite a course of physio and home exercises.",
        "No better after two weeks of rest and naproxen.",
        "Physiotherapy has been of no help.",
        "Treated with diclofenac by the GP, no improvement.",
        "Tried amitriptyline without any relief.",
        "Sciatica not improved with an epidural injection.",
    ],
)
def test_pain_not_helped_by_treatment(text: str) -> None:
    assert _present(text, "refractory_pain")


@pytest.mark.parametrize(
    "text",
    [
        "Back pain much better with physiotherapy.",
        "Pain worse with prolonged sitting and better with rest.",
        "Started physiotherapy last week.",
        "Constant lumbar pain, not eased by rest or lying down.",  # non-mechanical, not refractory
    ],
)
def test_treatment_that_helps_is_not_refractory(text: str) -> None:
    assert not _present(text, "refractory_pain")


@pytest.mark.parametrize(
    "text",
    [
        "Afebrile, general condition preserved.",
        "On examination afebrile, haemodynamically stable, sensation intact.",
        "Apyrexial, neurology normal.",
        "Afebrile, observations stable.",
    ],
)
def test_afebrile_kept_when_the_list_ends_in_a_normal_verdict(text: str) -> None:
    assert _choices(text, "fever") == {Choice.absent}


def test_denied_afebrile_still_dropped() -> None:
    # "not afebrile" is left to the positive wording and the numbers
    assert Choice.absent not in _choices("She is not afebrile today.", "fever")


def test_lateral_hip_with_side_word() -> None:
    items = extract_clinical_evidence("Pain over the lateral R hip when lying on it.")
    hip = [e for e in items if e.id == "lateral_hip_pain" and e.choice == Choice.present]
    assert hip and hip[0].side == "right"


def test_hip_and_groin_pain_reads_groin_pain() -> None:
    items = extract_clinical_evidence("Abrupt onset of pain in the left hip and groin.")
    groin = [e for e in items if e.id == "groin_pain" and e.choice == Choice.present]
    assert groin and groin[0].side == "left"


@pytest.mark.parametrize(
    "text",
    [
        "Temperature above 38 every day for the past week with back pain.",
        "Fevers for twelve days, now mid-back pain.",
        "A week of continuous fever and night sweats.",
        "Spiking temperatures for several days on the ward.",
        "Febrile on and off for 3 weeks.",
        "Pyrexial x 6/7.",
        "IVDU, 3/52 fevers and back pain.",
        "Swinging pyrexia despite antibiotics.",
        "Daily fevers since her dental abscess.",
        "Referred with a pyrexia of unknown origin and back pain.",
    ],
)
def test_persistent_fever_family(text: str) -> None:
    assert _present(text, "persistent_fever")
    assert _present(text, "fever")  # a persistent fever states fever too


@pytest.mark.parametrize(
    "text",
    [
        "Fever for 2 days.",
        "Three weeks of back pain and a fever since last night.",
        "Temperature 37.2 for a week.",
        "Febrile once on arrival, 38.4.",
    ],
)
def test_short_or_single_fever_is_not_persistent(text: str) -> None:
    assert not _present(text, "persistent_fever")


def test_denied_persistent_fever() -> None:
    assert _choices("No fevers for the last two weeks.", "persistent_fever") == {Choice.absent}


@pytest.mark.parametrize(
    ("text", "numb", "painful"),
    [
        ("Lumbar pain and numbness of the whole right leg for a week.", "leg_numbness", False),
        ("Low back pain and left leg numbness.", "leg_numbness", False),
        ("Lumbar ache radiating down the left leg with numbness.", "leg_numbness", True),
        ("Pain and numbness of the left leg.", "leg_numbness", True),
        ("Back and leg pain with numb toes.", None, True),
        ("Years of back ache and months of heaviness and numbness in both legs.", None, True),
    ],
)
def test_pain_word_of_one_region_is_not_given_to_a_numb_region(
    text: str, numb: str | None, painful: bool
) -> None:
    items = extract_clinical_evidence(text)
    present = {e.id for e in items if e.choice == Choice.present}
    assert "low_back_pain" in present or text.startswith("Pain and")
    if numb:
        assert numb in present
    assert bool({"leg_pain", "bilateral_leg_pain"} & present) is painful
