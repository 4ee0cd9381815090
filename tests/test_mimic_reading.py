"""Reading the words that point to the non-spinal mimics and the vascular and haemorrhagic emergencies.

Every sentence here is written for the test; each family has positive wordings and near misses
that must not be read as the finding.
"""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _read(text: str) -> dict[str, str]:
    """Finding id -> choice ('present' / 'absent') as the clinical reader reports it."""
    out: dict[str, str] = {}
    for e in extract(text).evidence:
        out.setdefault(e.id, e.choice.value)
    return out


PRESENT = [
    # hip pain (a mimic of upper lumbar pain)
    ("Sudden right hip pain since this morning.", "hip_pain"),
    ("She complains of an aching left hip when walking.", "hip_pain"),
    ("Pain in the back and both hips.", "hip_pain"),
    # the psoas stretch sign
    ("Pain is worse on left hip extension.", "pain_on_hip_extension"),
    ("Passive hip extension reproduces the groin pain.", "pain_on_hip_extension"),
    ("Psoas stretch test positive on the right.", "pain_on_hip_extension"),
    # aortic family
    ("There is a pulsatile, expansile swelling above the umbilicus.", "pulsatile_abdominal_mass"),
    ("A central abdominal mass which is pulsatile.", "pulsatile_abdominal_mass"),
    ("He felt something rip inside his back.", "tearing_pain"),
    ("Ripping pain through to the back.", "tearing_pain"),
    ("Systolic blood pressure 82, pale and sweaty.", "hypotension"),
    ("He arrived in hypovolaemic shock.", "hypotension"),
    ("The left femoral pulse is absent.", "peripheral_pulses_absent"),
    ("Brachial pulses are unequal.", "pulse_deficit"),
    ("A blood pressure difference of 25 mmHg between the arms.", "pulse_deficit"),
    ("Weak right radial pulse.", "pulse_deficit"),
    ("He has a known 4.8 cm infrarenal aortic aneurysm.", "known_aaa"),
    ("Known abdominal aortic aneurysm on yearly scans.", "known_aaa"),
    ("Treated last year for a mycotic aortic aneurysm.", "infected_aortic_aneurysm"),
    ("Worst back pain she has ever had.", "severe_pain"),
    # haematoma risk
    ("Platelet count of 31 this morning.", "bleeding_disorder"),
    ("Five days after an L4/5 microdiscectomy the legs became weak.", "recent_spinal_procedure"),
    # bladder wording with a verb shared with another item
    ("He was unable to stand or stop himself passing urine.", "urinary_incontinence"),
]


@pytest.mark.parametrize(("text", "finding"), PRESENT)
def test_family_is_read_present(text: str, finding: str) -> None:
    assert _read(text).get(finding) == "present"


ABSENT = [
    ("Hip adductors 5/5, quadriceps 2/5.", "hip_adduction_weakness"),
    ("Normal power in the hip adductors.", "hip_adduction_weakness"),
    ("Normotensive, heart rate 78.", "hypotension"),
    ("Haemodynamically stable on arrival.", "hypotension"),
]


@pytest.mark.parametrize(("text", "finding"), ABSENT)
def test_family_is_read_absent(text: str, finding: str) -> None:
    assert _read(text).get(finding) == "absent"


NOT_READ = [
    # a movement, muscle or operation named after the hip is not hip pain
    ("Hip flexion is weak on the right.", "hip_pain"),
    ("Hip replacement ten years ago; now low back pain.", "hip_pain"),
    # spinal extension is not the psoas sign, and the psoas sign is not spinal extension pain
    ("Back pain worse on extension of the spine.", "pain_on_hip_extension"),
    ("Pain is worse on left hip extension.", "pain_worse_extension"),
    # weak pulses are not weak legs
    ("Weak pulses in both feet.", "bilateral_leg_weakness"),
    ("Weak pulses in both feet.", "leg_weakness_reported"),
    # a hypertensive patient is not hypotensive (the spelling corrector must leave it alone)
    ("He is hypertensive and smokes.", "hypotension"),
    ("Blood pressure 150/90.", "pulse_deficit"),
    # a torn disc is not a tearing pain; a brain aneurysm is not an aortic one
    ("MRI shows an annular tear of the L4/5 disc.", "tearing_pain"),
    ("Known cerebral aneurysm, clipped.", "known_aaa"),
    # a normal platelet count is not a bleeding disorder
    ("Platelets 250, INR 1.0.", "bleeding_disorder"),
    ("Pulses present and equal in all four limbs.", "pulse_deficit"),
]


@pytest.mark.parametrize(("text", "finding"), NOT_READ)
def test_near_miss_is_not_read_present(text: str, finding: str) -> None:
    assert _read(text).get(finding) != "present"


def test_hypertension_still_read() -> None:
    assert _read("58-year-old hypertensive man.").get("hypertension") == "present"


def test_middle_of_the_back_is_thoracic() -> None:
    found = _read("Sudden severe pain in the middle of his back.")
    assert found.get("thoracic_pain") == "present"
    assert found.get("low_back_pain") != "present"
