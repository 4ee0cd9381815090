"""The care setting from note headings ("ED:", "ER visit") and not from safety-net advice."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import note_setting


@pytest.mark.parametrize(
    "text",
    [
        "61F ED: fall on ice, central lumbar pain, can't weight bear.",
        "A&E: 34M lifting injury, back spasm.",
        "ER visit tonight for worsening sciatica.",
        "Emergency department note. 48M, 3 days of back pain.",
        "Triage (ED): 80F, sudden back pain after a cough.",
        "ED HPI: 29F with LBP radiating to the L calf.",
        "CC: back pain. ED course: analgesia given, mobilising.",
        "BIBA after a fall from a ladder.",
        "Spinal on-call: referral from ED, 52M with urinary retention.",
        "Triage category 2. 47F, back pain and numb bum.",
        "Obs stable. Cat 3, for majors.",
        "Moved to resus after a fall.",
    ],
)
def test_emergency_headings_set_the_emergency_setting(text: str) -> None:
    """A note written in or from the emergency department says so in its heading."""
    assert note_setting(text) == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "GP review. Advised to attend ED if saddle numbness or bladder change.",
        "Safety-netted: attend A&E if bladder or bowel problems.",
        "If worse overnight, attend A&E.",
        "Told to re-attend ED if the leg gets weaker.",
        "Should go to A&E if the numbness spreads.",
        "Tramadol ER: 100 mg twice daily.",  # extended release, not a department
        "PMH: HTN, ED on sildenafil.",
        "No ED visits this year.",
        "The majority of patients improve.",
        "Minors need a parent's consent.",
    ],
)
def test_advice_and_other_meanings_do_not(text: str) -> None:
    """Safety-net advice and other uses of the letters leave the setting unstated."""
    assert note_setting(text) is None


def test_a_past_visit_beside_advice_still_counts() -> None:
    """The visit is what places the patient; advice later in the note does not undo it."""
    assert note_setting("Presented to ED with back pain. Advised to return if worse.") == (
        "emergency"
    )
    assert note_setting("Back pain worse if sitting, presented to ED today.") == "emergency"


def test_the_heading_changes_the_priors_of_an_assessment() -> None:
    """An ED heading gives the emergency priors; the same note as a GP note keeps primary care."""
    body = "58M, 2 days of severe low back pain, T 38.2, diabetic, recent UTI."
    ed, gp = assess("ED: " + body), assess("GP: " + body)
    assert ed.setting == "emergency" and gp.setting == "primary"
    infection = {d.id: d.prior for d in ed.differential}["spinal-infection"]
    assert infection > {d.id: d.prior for d in gp.differential}["spinal-infection"]
