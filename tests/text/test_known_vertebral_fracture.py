"""A current vertebral fracture stated as the diagnosis already made (discharge summaries)."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import extract


def _known(text: str) -> bool:
    return any(
        e.id == "known_vertebral_fracture" and e.choice.value == "present"
        for e in extract(text).evidence
    )


@pytest.mark.parametrize(
    "text",
    [
        "Discharge letter: 81F admitted with an L1 osteoporotic compression fracture after a trip.",
        "Working diagnosis: T11 wedge fracture.",
        "68-year-old man presented with a new L2 fragility fracture; pain settling.",
    ],
)
def test_a_fracture_named_as_the_diagnosis_is_read(text: str) -> None:
    """The fracture the admission was for is the diagnosis already made."""
    assert _known(text)


@pytest.mark.parametrize(
    "text",
    [
        "Old healed T12 wedge fracture, new low back pain after gardening.",
        "History of a previous L1 compression fracture in 2015.",
        "Admitted with pneumonia; wrist fracture last year.",
    ],
)
def test_old_or_other_fractures_are_not(text: str) -> None:
    """An old, healed or previous fracture, or one elsewhere, is not a current spinal fracture."""
    assert not _known(text)


def test_a_discharge_summary_fracture_leads_the_differential() -> None:
    """With the fracture stated, the differential names it first."""
    a = assess(
        "Discharge summary. 77F admitted with T12 osteoporotic wedge compression fracture after "
        "a fall at home. Neurology intact. Mobilising with a frame."
    )
    assert a.differential[0].id == "vertebral-fracture"
