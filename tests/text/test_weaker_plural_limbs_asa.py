"""'Getting weaker', limbs named in the plural, and aspirin written as ASA."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import extract


def _read(text: str) -> dict[str, tuple[str, str | None]]:
    return {e.id: (e.choice.value, e.side) for e in extract(text).evidence}


@pytest.mark.parametrize(
    "text",
    [
        "Her R leg is getting weaker, 3 days of sciatica.",
        "Says his legs are becoming weaker since the weekend.",
        "L leg getting progressively weaker.",
    ],
)
def test_getting_weaker_is_weakness_that_is_progressing(text: str) -> None:
    """A leg getting weaker is leg weakness that is worsening: an emergency to examine."""
    read = _read(text)
    assert read["leg_weakness_reported"][0] == "present"
    assert read["rapidly_progressive_weakness"][0] == "present"
    assert assess(text).triage.urgency.value == "emergency"


def test_a_comparative_is_weakness_and_its_denial_is_not() -> None:
    """'L leg weaker today' reports weakness; 'no weaker' and 'not getting any weaker' deny it."""
    assert _read("L leg weaker today.")["leg_weakness_reported"] == ("present", "left")
    assert "rapidly_progressive_weakness" not in _read("Pain is worse but legs no weaker.")
    assert _read("Not getting any weaker.").get("rapidly_progressive_weakness") in (
        None,
        ("absent", None),
    )


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Now severe back pain and numb legs.", "leg_numbness"),
        ("Pins and needles in the feet since yesterday.", "paresthesia"),
        ("Aching down the back of the thighs.", "posterior_thigh_pain"),
    ],
)
def test_limbs_in_the_plural_are_both_sides(text: str, finding: str) -> None:
    """With no side word, 'legs', 'feet' or 'thighs' name both sides."""
    assert _read(text)[finding] == ("present", "bilateral")


def test_a_side_word_or_one_of_keeps_its_own_side() -> None:
    """'one of his legs' is one unknown side; a stated side is kept."""
    assert _read("Pain in one of his legs.")["leg_pain"][1] is None
    assert _read("Numbness of the left leg.")["leg_numbness"] == ("present", "left")


def test_numb_legs_after_an_epidural_on_anticoagulation_flags_a_haematoma() -> None:
    """New numb legs and severe back pain after a neuraxial procedure on a blood thinner."""
    a = assess(
        "Epidural catheter removed yesterday on enoxaparin, now severe back pain and numb legs."
    )
    assert a.triage.urgency.value == "emergency"
    assert "spinal-epidural-hematoma" in a.must_not_miss


@pytest.mark.parametrize("text", ["ASA 81 mg daily.", "On EC ASA 81mg and atorvastatin."])
def test_asa_at_an_antiplatelet_dose_is_aspirin(text: str) -> None:
    """Aspirin written as ASA with its antiplatelet dose is antiplatelet use."""
    assert _read(text)["antiplatelet_use"][0] == "present"


def test_an_anaesthetic_asa_grade_is_not_aspirin() -> None:
    """'ASA 2' grades fitness for anaesthesia; it names no medicine."""
    assert "antiplatelet_use" not in _read("ASA 2, fit for surgery.")


@pytest.mark.parametrize(
    "text",
    [
        "Back pain worse 4/7 post L5/S1 microdiscectomy.",
        "2/52 post-op L4/5 decompression, wound ooze.",
    ],
)
def test_days_or_weeks_written_n_over_7_or_52_after_an_operation_are_recent(text: str) -> None:
    """'3/7 post L4/5 microdiscectomy' is a recent spinal procedure."""
    assert _read(text)["recent_spinal_procedure"][0] == "present"


def test_half_a_year_after_an_operation_is_not_recent() -> None:
    """'26/52 post fusion' is not a recent procedure."""
    assert "recent_spinal_procedure" not in _read("26/52 post L4/5 fusion, back pain again.")


def test_fever_days_after_a_discectomy_leads_with_infection() -> None:
    """Fever and worsening pain days after spinal surgery puts infection first."""
    a = assess("Worsening back pain 3/7 post L4/5 microdiscectomy, now T 38.9 and new L foot drop.")
    assert a.differential[0].id == "spinal-infection"
    assert a.triage.urgency.value == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "Unable to feel the saddle area since this morning.",
        "No longer able to feel her private parts.",
        "Says he can't feel his genitals.",
    ],
)
def test_unable_to_feel_the_saddle_is_saddle_anaesthesia(text: str) -> None:
    """Not being able to feel the saddle area, in any wording, is saddle anaesthesia."""
    assert _read(text)["saddle_anesthesia"][0] == "present"


def test_a_denied_inability_is_a_denial() -> None:
    """'Denies being unable to feel the saddle area' denies it."""
    assert _read("Denies being unable to feel the saddle area.")["saddle_anesthesia"][0] == "absent"


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Her wee just dribbles out and she can't stop it.", "urinary_incontinence"),
        ("He hasn't opened his bowels or passed urine since yesterday.", "urinary_retention"),
        ("Feels like sitting on a numb patch, bottom and inner thighs.", "saddle_anesthesia"),
        ("Slapping gait on the right.", "foot_drop"),
        ("His foot is slapping when he walks.", "foot_drop"),
    ],
)
def test_lay_and_shorthand_cauda_equina_and_foot_drop_wording(text: str, finding: str) -> None:
    """Telephone-triage wording for sphincter and saddle symptoms, and a slapping foot."""
    assert _read(text)[finding][0] == "present"


def test_a_caller_describing_dribbling_and_back_pain_is_an_emergency() -> None:
    """Overflow dribbling with severe back pain is triaged as possible cauda equina syndrome."""
    a = assess("She says her wee just dribbles out and she can't stop it, and her back is agony.")
    assert a.triage.urgency.value == "emergency"
