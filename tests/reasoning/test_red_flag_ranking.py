"""Must-not-miss diagnoses rank where their evidence puts them (sentences written for these tests)."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import CaseInput, assess


def _ranked(text: str, setting: str | None = None) -> list[str]:
    case = CaseInput(text=text, setting=setting) if setting else CaseInput(text=text)
    return [d.id for d in assess(case).differential]


@pytest.mark.parametrize("setting", ["primary", "emergency"])
def test_sudden_paraparesis_on_an_anticoagulant_is_a_haematoma_first(setting: str) -> None:
    text = (
        "Woman of 71 taking apixaban for atrial fibrillation: abrupt severe pain between the "
        "shoulder blades an hour ago, and now she cannot move either leg."
    )
    assert _ranked(text, setting)[0] == "spinal-epidural-hematoma"


def test_slowly_worsening_paraparesis_is_not_called_a_haematoma() -> None:
    ranked = _ranked(
        "Man of 58 with three weeks of worsening mid-back pain, now weakness of both legs.",
        "emergency",
    )
    assert ranked[0] in {"spinal-malignancy", "spinal-infection", "cauda-equina-syndrome"}
    assert ranked.index("spinal-epidural-hematoma") > 2


def test_sudden_painless_paraparesis_is_a_haematoma_before_a_tumour_or_a_fracture() -> None:
    ranked = _ranked(
        "Woman of 66 with hypertension: both legs suddenly became weak ninety minutes ago.",
        "emergency",
    )
    assert "spinal-epidural-hematoma" in ranked[:2]
    assert ranked.index("spinal-epidural-hematoma") < ranked.index("spinal-malignancy")
    assert "vertebral-fracture" not in ranked[:4]


def test_bacteraemia_with_poorly_controlled_diabetes_puts_infection_first() -> None:
    text = (
        "Man of 57 with poorly controlled type 2 diabetes, four days of constant low back pain "
        "spreading into both legs. Blood cultures grew Staphylococcus aureus."
    )
    assert _ranked(text, "primary")[0] == "spinal-infection"


def test_poor_control_weighs_more_than_diabetes_alone() -> None:
    base = "Man of 57 with {} type 2 diabetes and a week of constant low back pain; CRP 80."

    def p(text: str) -> float:
        out = assess(CaseInput(text=text, setting="primary")).differential
        return next(d.probability for d in out if d.id == "spinal-infection")

    assert p(base.format("poorly controlled")) > p(base.format("diet-controlled")) * 1.4


def test_an_admitted_febrile_back_pain_ranks_infection_first() -> None:
    text = "Man of 49 admitted under the medical team with a week of fever and low back pain."
    out = assess(CaseInput(text=text))
    assert out.setting == "emergency"
    assert out.differential[0].id == "spinal-infection"


def test_fever_with_back_pain_keeps_infection_above_mechanical_mimics() -> None:
    ranked = _ranked("Woman of 38, two days of temperature to 38.9 C and low back pain.", "primary")
    assert "spinal-infection" in ranked[:3]
    for mimic in (
        "vertebral-fracture",
        "greater-trochanteric-pain-syndrome",
        "sacroiliac-joint-pain",
    ):
        assert ranked.index("spinal-infection") < ranked.index(mimic), mimic


def test_fever_lowers_a_fracture_as_it_lowers_other_mechanical_causes() -> None:
    def p_fracture(text: str) -> float:
        out = assess(CaseInput(text=text, setting="emergency")).differential
        return next(d.probability for d in out if d.id == "vertebral-fracture")

    afebrile = p_fracture("Man of 74 with sudden severe low back pain after a fall from a chair.")
    febrile = p_fracture(
        "Man of 74 with sudden severe low back pain after a fall from a chair; temperature 39.1 C."
    )
    assert febrile < afebrile * 0.7
