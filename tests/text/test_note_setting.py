"""Where the note says the patient is: emergency or hospital presentations (own sentences)."""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract, note_setting

HOSPITAL = [
    "Woman of 52 admitted to the orthopaedic team with back pain and fever.",
    "He was admitted with a week of rigors and lumbar pain.",
    "Presented to our hospital with three days of weak legs.",
    "Transferred to the regional hospital for an MRI.",
    "Attended the local hospital ED overnight with flank pain.",
    "Brought in by ambulance after collapsing at home.",
    "Brought in after a fall at the supermarket.",
    "Ward referral: 77M on the surgical ward with new back pain.",
    "On the cardiology ward, day 3 after a femoral angiogram.",
    "POD2 after a hip replacement, new numbness of both legs.",
    "Currently an inpatient on the stroke unit.",
    "Hospitalised for pneumonia, now reports back pain.",
    "A stroke without lasting deficit; attends ED with weak legs.",
    "Former smoker, previous heroin use, brought in by the police.",
]
NOT_HOSPITAL = [
    "Reviewed by her GP this morning.",
    "Not admitted; sent home with analgesia from the GP surgery.",
    "Admitted 3 weeks ago with pneumonia; now seen in the practice.",
    "Hospitalised in 2019 after a car crash; GP review today.",
    "He admitted to using cocaine at the weekend.",
    "She leans forward on the trolley at the supermarket to walk further.",
    "Previously admitted with renal colic; telephone consultation today.",
    "No hospital admission in the past year.",
]


@pytest.mark.parametrize("text", HOSPITAL)
def test_hospital_presentation_sets_the_emergency_setting(text: str) -> None:
    assert note_setting(text) == "emergency"
    assert extract(text).setting == "emergency"


@pytest.mark.parametrize("text", NOT_HOSPITAL)
def test_community_or_past_visit_sets_no_setting(text: str) -> None:
    assert note_setting(text) is None


def test_bad_input_gives_no_setting() -> None:
    assert note_setting(None) is None  # type: ignore[arg-type]
    assert note_setting("") is None
