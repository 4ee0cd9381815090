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
