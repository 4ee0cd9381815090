"""Phrasing families found by the reasoning work (issue 11): one family per case, own sentences."""

from __future__ import annotations

import pytest

from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.clinical import extract_clinical_evidence
from spineguide.text.pipeline import extract, note_setting

P, A = Choice.present, Choice.absent


def _find(items: list[Evidence], fid: str, side: str | None = None) -> Evidence | None:
    return next((e for e in items if e.id == fid and (side is None or e.side == side)), None)


# (text, [(finding, choice, side or None, value or None)], [findings that must not be present])
CASES: list[tuple[str, list[tuple[str, Choice, str | None, float | None]], list[str]]] = [
    # 1. a denial after a comma negates only its own item
    ("62M, left L5 sciatica, absent left ankle jerk.",
     [("stated_root_l5", P, "left", None), ("achilles_reflex_reduced", P, "left", None),
      ("radicular_pain_below_knee", P, "left", None)], []),
    # 2. an item with its own abnormal state does not share the list verdict
    ("On PR exam: lax anal tone, perianal sensation intact.",
     [("reduced_anal_tone", P, None, None), ("reduced_perianal_sensation", A, None, None)], []),
    ("Decreased pinprick S3-S5 on both sides.", [("reduced_perianal_sensation", P, None, None)], []),
    ("Says her vulva feels numb when she wipes after the toilet.",
     [("saddle_anesthesia", P, None, None)], []),
    ("He reports altered penile sensation since Tuesday.", [("saddle_anesthesia", P, None, None)], []),
    ("Tingling between the thighs since this morning.", [("saddle_anesthesia", P, None, None)], []),
    ("Numbness and tingling in both legs.", [], ["saddle_anesthesia"]),
    ("Has not PU'd for 12 hours.", [("urinary_retention", P, None, None)], []),
    ("Bladder scan showed 780 mL; catheter inserted.", [("urinary_retention", P, None, 780)], []),
    ("PVR 1.2 L after a void attempt.", [("urinary_retention", P, None, 1200)], []),
    ("Post void residual 40 ml.", [("urinary_retention", A, None, 40)], []),
    ("PVR of 150 mL.", [], ["urinary_retention"]),
    # 3. systemic and myeloma wording
    ("Reports recent wt loss of about 6 kg.", [("weight_loss", P, None, None)], []),
    ("Bloods: adj Ca 2.92 mmol/L, ALP normal.", [("serum_calcium", P, None, 2.92)], []),
    ("Calcium 13.0 mg/dL on admission.", [("serum_calcium", P, None, 3.24)], []),
    ("Calcium 9.4 mg/dL.", [("serum_calcium", A, None, 2.35)], []),
    ("Ca prostate 2018, treated.", [], ["serum_calcium"]),
    ("Serum protein electrophoresis: M-spike present.", [("paraprotein_present", P, None, None)], []),
    # 4. power "poor" names the weak movement and its side
    ("Right foot dorsiflexion power is poor.",
     [("ankle_dorsiflexion_weakness", P, "right", None)], []),
    # 5. a duration in hours
    ("Sudden back pain that started about 3 hours before arrival.",
     [("symptom_duration_days", P, None, 0.125)], []),
    # 6. medicines stopped or local steroids
    ("Rivaroxaban put on hold two days ago for the biopsy.", [("anticoagulant_use", A, None, None)],
     []),
    ("Uses a beclometasone steroid inhaler and hydrocortisone cream.", [],
     ["long_term_steroid_use"]),
    # 7. denied weakness; improvement is not progression
    ("My left leg isn't weak at all.", [("leg_weakness_reported", A, None, None)], []),
    ("The sciatica is getting better day by day.", [("improving_course", P, None, None)],
     ["progressive_symptoms"]),
    ("Numbness spreading day by day.", [("progressive_symptoms", P, None, None)], []),
    # 8. the red-flag screen recorded negative
    ("Red flag screen negative.",
     [("saddle_anesthesia", A, None, None), ("bladder_dysfunction", A, None, None),
      ("bowel_dysfunction", A, None, None)], []),
    ("Weeing and opening her bowels normally.",
     [("bladder_dysfunction", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    ("Bowels and bladder fine.",
     [("bladder_dysfunction", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    ("No altered sensation anywhere.", [("saddle_anesthesia", A, None, None)], []),
    ("No red flags, but new numbness around the back passage.",
     [("saddle_anesthesia", P, None, None)], []),
    # 9. renal colic as the reason for an old scan
    ("Had a CT KUB 2 years ago for possible renal colic which showed no calculi.", [],
     ["loin_to_groin_pain"]),
    ("Colicky loin pain radiating to the groin with haematuria.",
     [("loin_to_groin_pain", P, None, None)], []),
    # 11. ages, heel, sensory level, trauma
    ("38-year-old whose back pain began before age 40, stiff in the mornings.",
     [("age", P, None, 38), ("back_pain_onset_before_45", P, None, None)], []),
    ("Sharp pain in the left heel on first steps in the morning.", [], ["sole_lateral_foot_pain"]),
    ("Pins and needles in the right heel and sole.", [("sole_lateral_foot_pain", P, "right", None)],
     []),
    ("Reduced pinprick up to the inguinal ligaments bilaterally.", [("sensory_level", P, None, None)],
     []),
    ("Loss of sensation below the umbilicus.", [("sensory_level", P, None, None)], []),
    ("Fell from a height of over 3 m onto his back.", [("high_energy_trauma", P, None, None)], []),
    # weakness with no muscle named, grades with no "/5", markers in a list, Hb in g/dL
    ("Power reduced in the left leg, right normal.", [("leg_weakness_reported", P, "left", None)],
     []),
    ("Strength 4/5 in the right lower limb.", [("leg_weakness_reported", P, "right", None)], []),
    ("Quads 2, hip flexion 3+ on the left.", [("hip_flexion_weakness", P, "left", 3)], []),
    ("CRP and ESR both raised.", [("crp", P, None, None), ("esr", P, None, None)], []),
    ("Raised ESR/CRP, white cells normal.", [("crp", P, None, None), ("esr", P, None, None)], []),
    ("Hb 11.2 on arrival.", [("hemoglobin", P, None, 112)], []),
    ("Hb 14.1, platelets normal.", [("hemoglobin", A, None, 141)], []),
    ("Pinprick reduced over the lateral side of the right thigh.",
     [("sensory_loss_anterolateral_thigh", P, "right", None)], []),
    ("New bowel and bladder symptoms today.",
     [("bowel_dysfunction", P, None, None), ("bladder_dysfunction", P, None, None)], []),
    ("Can't hold her water any more.", [("urinary_incontinence", P, None, None)], []),
    ("Very tender mid lumbar spinous processes.", [("spinal_tenderness", P, None, None)], []),
    ("Leg tingling slightly better this week.", [("improving_course", P, None, None)], []),
    # a time that belongs to a medicine or the past history is not the symptom duration
    ("Takes methotrexate weekly for 6 years. Knee pain for 4 days.",
     [("symptom_duration_days", P, None, 4)], []),
    ("Background: hypertension for 15 years. Sciatica for a week.",
     [("symptom_duration_days", P, None, 7)], []),
    # a chronic presenting complaint; standing and walking aggravation with "worst"
    ("80F, chronic mechanical back pain, worst when walking far.",
     [("chronic_course", P, None, None), ("pain_worse_standing", P, None, None)], []),
    ("Chronic LBP, sudden severe pain since lifting this morning.", [], ["chronic_course"]),
    # a comma clause of region names continues the symptom before it
    ("Ache spreading into the left thigh, buttock and groin.",
     [("buttock_pain", P, "left", None), ("groin_pain", P, "left", None)], []),
    ("Burning down the medial and lateral shins.",
     [("medial_leg_pain", P, None, None), ("lateral_leg_pain", P, None, None)], []),
    ("Back pain since Monday, fever and rigors, groin swelling.", [], ["groin_pain"]),
]  # fmt: skip


@pytest.mark.parametrize("text,want,absent", CASES, ids=[c[0][:40] for c in CASES])
def test_family(
    text: str, want: list[tuple[str, Choice, str | None, float | None]], absent: list[str]
) -> None:
    items = extract_clinical_evidence(text)
    for fid, choice, side, value in want:
        e = _find(items, fid, side)
        assert e is not None, (fid, [(i.id, i.choice.value, i.side) for i in items])
        assert e.choice == choice, (fid, e.choice)
        if value is not None:
            assert e.value is not None and abs(e.value - value) <= max(0.02, 0.02 * value), e.value
    for fid in absent:
        assert not any(e.id == fid and e.choice == P for e in items), fid


def test_uninterpreted_leaves_out_denied_and_family_wording() -> None:
    out = extract("Denies incontinence. No numbness anywhere. Her father had bowel cancer.")
    assert out.uninterpreted == []
    kept = extract("New numbness spreading up her body overnight.")
    assert kept.uninterpreted or any(e.choice == P for e in kept.evidence)


@pytest.mark.parametrize(
    "text,setting",
    [
        ("58F attends ED with sudden back pain.", "emergency"),
        ("Brought into A&E by ambulance after a fall.", "emergency"),
        ("Seen in the emergency department overnight.", "emergency"),
        ("Reviewed by her GP this morning.", None),
        ("Not seen in A&E; GP review.", None),
        ("The redness settled.", None),
    ],
)
def test_setting(text: str, setting: str | None) -> None:
    assert note_setting(text) == setting
    assert extract(text).setting == setting


def test_cue_spans_point_at_the_deciding_cue() -> None:
    text = "Denies saddle numbness. Come back if bladder problems start. Weak left EHL."
    items = {e.id: e for e in extract(text).evidence}
    saddle = items["saddle_anesthesia"]
    assert saddle.choice == A and [text[a:b] for a, b in saddle.cue_spans] == ["Denies"]
    assert items["great_toe_extension_weakness"].cue_spans == []
    bladder = items["bladder_dysfunction"]
    assert bladder.choice == Choice.unknown and bladder.cue_spans
    assert all(text[a:b].lower().startswith(("come back", "if")) for a, b in bladder.cue_spans)
