"""A CRP written in mg/dL is read in mg/L, and a time that dates an operation ("L4-5 fusion 8 years
ago") is not the length of the current symptoms."""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _values(text: str) -> dict[str, float | None]:
    return {e.id: e.value for e in extract(text).evidence}


@pytest.mark.parametrize(
    ("text", "mg_l"),
    [
        ("Febrile with back pain; CRP 15 mg/dL.", 150.0),
        ("CRP 2.4 mg/dl on admission.", 24.0),
        ("CRP 15 mg/L, afebrile.", 15.0),
        ("CRP 15.", 15.0),
        ("CRP 90 mg/dL", 90.0),  # 900 mg/L is implausible: the unit was mistyped
    ],
)
def test_crp_is_read_in_mg_per_litre(text: str, mg_l: float) -> None:
    """mg/dL is converted; mg/L and a bare number are kept; an impossible conversion is refused."""
    assert _values(text)["crp"] == mg_l


def test_a_very_high_crp_in_mg_dl_reaches_the_reasoning() -> None:
    """CRP 12 mg/dL (120 mg/L) with fever counts as a very raised CRP in the assessment."""
    from spineguide.reasoning.assess import assess

    a = assess("59M, 10 days of severe thoracolumbar pain, temperature 38.6, CRP 12 mg/dL.")
    stated = {e.id: e.value for e in a.evidence}
    assert stated["crp"] == 120.0


@pytest.mark.parametrize(
    "text",
    [
        "67F, L4-5 fusion 8 years ago, presents with new right leg pain.",
        "Right hip replacement 6 years ago. New low back pain after lifting.",
        "Laminectomy two years ago; now sudden back pain on bending.",
    ],
)
def test_operation_dates_are_not_symptom_durations(text: str) -> None:
    """The years since the operation are not the length of the new symptoms."""
    values = _values(text)
    assert "symptom_duration_days" not in values and "chronic_course" not in values


def test_symptom_time_is_still_read_beside_an_operation_date() -> None:
    """'… fusion 8 years ago, now 3 weeks of leg pain': the 3 weeks are the symptoms'."""
    values = _values("71F, L4-5 fusion 8 years ago, now 3 weeks of right leg pain.")
    assert values["symptom_duration_days"] == 21.0


def test_pain_since_an_operation_runs_from_the_operation() -> None:
    """'Back pain since his fusion 8 years ago' is a chronic course."""
    values = _values("Back pain ever since his L4-5 fusion 8 years ago.")
    assert values["symptom_duration_days"] == pytest.approx(8 * 365, rel=0.01)
    assert "chronic_course" in values
