"""The mimics and the haematoma rank where their pattern says, and spine causes keep their place.

Vignettes written for the test. Each mimic pattern has a spinal control that shares most of its
words, so a weight that over-calls the mimic fails here.
"""

from __future__ import annotations

from spineguide.reasoning.assess import assess


def _top(text: str, n: int = 1) -> list[str]:
    return [d.id for d in assess(text).differential[:n]]


def _urgency(text: str) -> str:
    return assess(text).triage.urgency.value


FEMORAL_BLEED = (
    "68-year-old woman on apixaban with sudden pain in the right hip and groin since yesterday. "
    "She cannot straighten the knee: quadriceps 2/5, hip adductors 5/5. Numb over the front of "
    "the thigh. Pain on hip extension. No back pain."
)
THIGH_ON_ANTICOAGULANT = (
    "80-year-old man on warfarin has had a day of aching in the front of the left thigh and the "
    "left leg is now weak. No back pain."
)
SUDDEN_HIP_KNEE_WEAKNESS = (
    "73-year-old woman taking aspirin: sudden left hip pain, worse on hip extension, and the "
    "left knee gives way; knee extension 1/5, hip flexion 4/5."
)
L4_RADICULOPATHY = (
    "42-year-old with low back pain and pain down the front of the left thigh to the shin after "
    "lifting. Quadriceps 4/5, reduced knee jerk on the left, positive femoral stretch test."
)


def test_iliopsoas_bleed_pattern_names_femoral_neuropathy() -> None:
    assert _top(FEMORAL_BLEED) == ["femoral-neuropathy"]
    assert _urgency(FEMORAL_BLEED) == "emergency"


def test_thigh_pain_and_weakness_on_anticoagulant_without_back_pain() -> None:
    assert _top(THIGH_ON_ANTICOAGULANT) == ["femoral-neuropathy"]
    assert _urgency(THIGH_ON_ANTICOAGULANT) == "emergency"


def test_sudden_hip_pain_with_psoas_sign_and_quadriceps_palsy() -> None:
    assert _top(SUDDEN_HIP_KNEE_WEAKNESS) == ["femoral-neuropathy"]
    assert _urgency(SUDDEN_HIP_KNEE_WEAKNESS) in ("urgent", "emergency")


def test_back_pain_with_femoral_stretch_stays_a_root_diagnosis() -> None:
    top3 = _top(L4_RADICULOPATHY, 3)
    assert top3[0] in ("disc-herniation", "nerve-root-compression")
    assert "femoral-neuropathy" not in top3[:2]


ANTICOAGULATED_PARAPARESIS = (
    "59-year-old man on rivaroxaban had abrupt severe mid-back pain three hours ago and now both "
    "legs are weak and numb."
)
AFTER_LUMBAR_PUNCTURE = (
    "Two days after a lumbar puncture, a 66-year-old woman developed sudden severe low back pain "
    "and then weakness of both legs."
)
DISC_CAUDA_EQUINA = (
    "45-year-old man with two weeks of left sciatica after lifting, now numb around the back "
    "passage and unable to pass urine."
)


def test_anticoagulant_sudden_pain_and_paraparesis_is_a_haematoma() -> None:
    assert _top(ANTICOAGULATED_PARAPARESIS) == ["spinal-epidural-hematoma"]
    assert _urgency(ANTICOAGULATED_PARAPARESIS) == "emergency"


def test_haematoma_after_lumbar_puncture() -> None:
    assert _top(AFTER_LUMBAR_PUNCTURE) == ["spinal-epidural-hematoma"]
    assert _urgency(AFTER_LUMBAR_PUNCTURE) == "emergency"


def test_disc_cauda_equina_is_not_called_a_haematoma() -> None:
    top3 = _top(DISC_CAUDA_EQUINA, 3)
    assert top3[0] == "cauda-equina-syndrome"
    assert "spinal-epidural-hematoma" not in top3


LEAKING_AAA = (
    "72-year-old male smoker with a known 5 cm aortic aneurysm has sudden severe back pain "
    "spreading to the left flank. BP 85/50. Pulsatile epigastric mass."
)
DISSECTION = (
    "58-year-old hypertensive man with sudden ripping pain between the shoulder blades. Radial "
    "pulses unequal."
)
HYPERTENSIVE_MECHANICAL = (
    "61-year-old hypertensive man with three weeks of low back pain after digging the garden, "
    "worse bending, no leg symptoms, afebrile."
)


def test_known_aneurysm_with_shock_and_pulsatile_mass() -> None:
    assert _top(LEAKING_AAA) == ["abdominal-aortic-aneurysm"]
    assert _urgency(LEAKING_AAA) == "emergency"


def test_tearing_pain_with_pulse_deficit_is_dissection() -> None:
    assert _top(DISSECTION) == ["aortic-dissection"]
    assert _urgency(DISSECTION) == "emergency"


def test_hypertension_alone_does_not_raise_a_vascular_emergency() -> None:
    a = assess(HYPERTENSIVE_MECHANICAL)
    top3 = [d.id for d in a.differential[:3]]
    assert "abdominal-aortic-aneurysm" not in top3
    assert "aortic-dissection" not in top3
    assert a.triage.urgency.value != "emergency"


HIP_JOINT = (
    "55-year-old woman with left hip pain worse on walking, reduced internal rotation of the "
    "hip, no back pain."
)


def test_hip_pain_with_stiff_hip_is_hip_osteoarthritis() -> None:
    assert _top(HIP_JOINT) == ["hip-osteoarthritis"]
    assert _urgency(HIP_JOINT) == "routine"


SUDDEN_PARAPARESIS = (
    "A 70-year-old man is brought to the emergency department with sudden weakness of both legs "
    "that began two hours ago."
)
SLOW_PARAPARESIS = (
    "A 70-year-old man is brought to the emergency department with weakness of both legs that "
    "has been getting worse over three weeks."
)


def test_sudden_paraparesis_ranks_the_haematoma_first() -> None:
    assert _top(SUDDEN_PARAPARESIS) == ["spinal-epidural-hematoma"]


def test_slowly_progressive_paraparesis_does_not() -> None:
    assert _top(SLOW_PARAPARESIS)[0] != "spinal-epidural-hematoma"
    assert _urgency(SLOW_PARAPARESIS) == "emergency"


OVER_ANTICOAGULATED = (
    "Patient on warfarin with an INR of 6 has sudden severe low back pain, then numb legs and "
    "difficulty passing urine."
)
ANTICOAGULATED_BACK_ONLY = (
    "77-year-old woman on apixaban with a week of aching in the middle of her back after moving "
    "boxes. No leg symptoms."
)


def test_over_anticoagulated_sudden_pain_with_numb_legs_is_a_haematoma() -> None:
    assert _top(OVER_ANTICOAGULATED) == ["spinal-epidural-hematoma"]
    assert _urgency(OVER_ANTICOAGULATED) == "emergency"


def test_femoral_neuropathy_needs_a_leg_symptom() -> None:
    top5 = _top(ANTICOAGULATED_BACK_ONLY, 5)
    assert "femoral-neuropathy" not in top5
    assert "hip-osteoarthritis" not in top5
