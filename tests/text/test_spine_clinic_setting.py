"""A note that says the patient is seen in a specialist spinal clinic sets the spine-clinic priors."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import extract, note_setting


@pytest.mark.parametrize(
    "text",
    [
        "34M referred to the spinal clinic with 5 months of buttock pain and morning stiffness.",
        "Referred to the spinal clinic with six months of back pain.",  # a clinic, not an ED
        "Reviewed in the spine surgery outpatients today: leg pain settling.",
        "Seen by the spinal surgeons last week; MRI requested.",
        "Letter: this 61-year-old woman was assessed in our orthopaedic spine clinic.",
    ],
)
def test_spinal_clinic_visits_set_the_spine_clinic_setting(text: str) -> None:
    assert note_setting(text) == "spine-clinic"
    assert extract(text).setting == "spine-clinic"


@pytest.mark.parametrize(
    "text",
    [
        "Back pain for 2 weeks. Will be referred to the spinal clinic if no better.",
        "Plan: awaiting spinal clinic appointment.",
        "Not seen in spine clinic before; GP review today.",
        "Known to the spinal team years ago, discharged.",  # no visit verb before it
        "Spinal tenderness at L4; no clinic follow-up.",
    ],
)
def test_planned_or_denied_visits_do_not(text: str) -> None:
    assert note_setting(text) is None


def test_emergency_wins_when_both_are_stated() -> None:
    text = "Referred to the spinal clinic last month; now attends ED with new urinary retention."
    assert note_setting(text) == "emergency"


def test_assessment_uses_the_clinic_setting_unless_one_is_given() -> None:
    text = "Seen in the spinal clinic: 45F, 3 months of right L5 sciatica, weak big toe 4/5."
    assert assess(text).setting == "spine-clinic"
    assert assess({"text": text, "setting": "primary"}).setting == "primary"
