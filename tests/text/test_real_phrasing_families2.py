"""Phrasing families, second set: US emergency notes, nursing and telephone triage, physio body
charts, catheter volumes and lab units (team-written sentences).

Each family is a way notes state a finding that the reader must turn into evidence, and each
comes with its safety counterpart: a denial that must still deny, or a red flag that must still
be read as present. The whole-note vignettes in tests/data/vignettes_phrasing2.jsonl carry the
same families.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phrasing_helpers import A, FamilyCase, P, check_family, check_vignette, load_vignettes, read
from spineguide.reasoning.evidence import Choice

VIGNETTES = Path(__file__).parents[1] / "data" / "vignettes_phrasing2.jsonl"

# (text, [(finding, choice, side or None, value or None)], [findings that must not be present])
CASES: list[FamilyCase] = [
    # --- right/left/bilateral lower extremity, "bilat", "B/L"
    ("Numbness RLE since Tuesday.", [("leg_numbness", P, "right", None)], []),
    ("LLE weakness, 4/5 throughout.", [("leg_weakness_reported", P, "left", None)], []),
    ("Tingling in the BLE for two days.", [("paresthesia", P, "bilateral", None)], []),
    ("Shooting pain down the RLE to the foot.", [("leg_pain", P, "right", None)], []),
    ("Bilat LE numbness.", [("leg_numbness", P, "bilateral", None)], []),
    ("B/L leg weakness, worse on standing.", [("bilateral_leg_weakness", P, None, None)], []),
    ("Strength 4/5 RLE hip flexion, otherwise 5/5.", [("hip_flexion_weakness", P, "right", 4)], []),
    (
        "EHL 3/5 on the L, strength otherwise 5/5 throughout.",
        [("great_toe_extension_weakness", P, "left", 3)],
        [],
    ),
    ("Quads 4/5 otherwise 5/5 throughout.", [("knee_extension_weakness", P, None, 4)], []),
    (
        "Power 5/5 throughout.",
        [("knee_extension_weakness", A, None, None)],
        ["knee_extension_weakness"],
    ),
    # --- a tension test with its side after the verdict
    ("FNST (+) L.", [("femoral_stretch_positive", P, "left", None)], []),
    (
        "FNST +ve R, SLR -ve bilat.",
        [("femoral_stretch_positive", P, "right", None), ("slr_positive", A, "bilateral", None)],
        [],
    ),
    (
        "Right knee pain for a week; FNST (+) L.",
        [("femoral_stretch_positive", P, "left", None)],
        [],
    ),
    ("Prone knee bend positive L.", [("femoral_stretch_positive", P, "left", None)], []),
    ("SLR (-) R.", [("slr_positive", A, "right", None)], ["slr_positive"]),
    # --- physio body chart: the areas after P1/P2 are painful
    ("P2: R post thigh to knee, intermittent.", [("posterior_thigh_pain", P, "right", None)], []),
    (
        "P1 - L groin and ant thigh, on and off.",
        [("groin_pain", P, "left", None), ("anterior_thigh_pain", P, "left", None)],
        [],
    ),
    ("P1 R buttock, deep ache.", [("buttock_pain", P, "right", None)], []),
    ("P3: L lat calf, P&N.", [("paresthesia", P, "left", None)], []),
    ("P1: no leg symptoms.", [("leg_pain", A, None, None)], ["leg_pain"]),
    ("G2P1 at 30 weeks with back pain.", [("low_back_pain", P, None, None)], ["buttock_pain"]),
    # --- bladder volumes: catheter, residual, scan (the data thresholds decide)
    ("Foley inserted, 1200 mL drained.", [("urinary_retention", P, None, 1200)], []),
    ("In-out catheter drained 1.1 L.", [("urinary_retention", P, None, 1100)], []),
    ("Straight cath'd for 800cc.", [("urinary_retention", P, None, 800)], []),
    ("Catheterised with 900 ml residual.", [("urinary_retention", P, None, 900)], []),
    ("Residual 600ml post void.", [("urinary_retention", P, None, 600)], []),
    ("Post void residual of 40 mL.", [("urinary_retention", A, None, 40)], []),
    ("PVR normal, voiding freely.", [("urinary_retention", A, None, None)], []),
    # --- safety: numbers that are not bladder volumes deny nothing
    (
        "Residual weakness 4/5 L EHL.",
        [("great_toe_extension_weakness", P, "left", 4)],
        ["urinary_retention"],
    ),
    ("Residual pain 3/10 after the operation.", [], ["urinary_retention"]),
    ("Residual numbness in the L4 dermatome.", [], ["urinary_retention"]),
    ("PVR 2 days ago was 300 mL.", [], []),
    ("Foley catheter draining 50 mL/hr.", [], ["urinary_retention"]),
    ("Abscess drained, 300 mL of pus.", [], ["urinary_retention"]),
    # --- calcium written by its ion, and ionised calcium kept apart
    ("Ca2+ 3.1 on admission bloods.", [("serum_calcium", P, None, 3.1)], []),
    ("Ca++ 2.95, ALP 410.", [("serum_calcium", P, None, 2.95)], []),
    ("Corrected Ca 2.95 mmol/L.", [("serum_calcium", P, None, 2.95)], []),
    ("Ca 11.8 mg/dL.", [("serum_calcium", P, None, 2.94)], []),
    ("Ionised calcium 1.45.", [], ["serum_calcium"]),
    ("Ca2+ 1.32 mmol/L.", [], ["serum_calcium"]),
    # --- US units: Fahrenheit temperatures, white counts per microlitre
    ("T 101.8F, HR 112.", [("fever", P, None, 38.8)], []),
    ("Temp 98.6 F.", [("fever", A, None, 37.0)], ["fever"]),
    ("WBC 15,500.", [("wbc", P, None, 15.5)], []),
    ("WBC 8,200, CRP 4.", [("wbc", A, None, 8.2)], ["wbc"]),
    # --- review of systems: "neg for", "(-)", signed items
    (
        "ROS: neg for fever, chills, urinary incontinence, saddle anesthesia.",
        [
            ("fever", A, None, None),
            ("urinary_incontinence", A, None, None),
            ("saddle_anesthesia", A, None, None),
        ],
        ["saddle_anesthesia", "urinary_incontinence"],
    ),
    (
        "ROS: (-) fever, (-) bowel/bladder incontinence, (+) weight loss.",
        [
            ("fever", A, None, None),
            ("urinary_incontinence", A, None, None),
            ("weight_loss", P, None, None),
        ],
        ["fever", "urinary_incontinence"],
    ),
    (
        "Neuro: +numbness RLE, -saddle anesthesia.",
        [("leg_numbness", P, "right", None), ("saddle_anesthesia", A, None, None)],
        ["saddle_anesthesia"],
    ),
    (
        "Pt denies f/c/ns, bowel or bladder incontinence, saddle paresthesias.",
        [("saddle_anesthesia", A, None, None), ("urinary_incontinence", A, None, None)],
        ["saddle_anesthesia"],
    ),
    # --- safety: a dash bullet is not a denial; an affirmed item after a denial list stays
    ("-urinary retention since this morning", [("urinary_retention", P, None, None)], []),
    ("Neuro: -saddle anaesthesia", [("saddle_anesthesia", P, None, None)], []),
    (
        "Denies fever or chills, reports new saddle numbness.",
        [("fever", A, None, None), ("saddle_anesthesia", P, None, None)],
        [],
    ),
    # --- no control of the bladder or bowels is incontinence, not a denial
    (
        "Unable to stand, no bladder or bowel control.",
        [("urinary_incontinence", P, None, None), ("bowel_incontinence", P, None, None)],
        [],
    ),
    ("He has no control over his bladder.", [("urinary_incontinence", P, None, None)], []),
    (
        "No new bladder or bowel control problems.",
        [("bladder_dysfunction", A, None, None)],
        ["urinary_incontinence", "bowel_incontinence"],
    ),
    ("No loss of bladder or bowel control.", [], ["urinary_incontinence", "bowel_incontinence"]),
    (
        "Bladder and bowel control normal.",
        [("bowel_dysfunction", A, None, None)],
        ["bowel_dysfunction", "urinary_incontinence"],
    ),
    (
        "Difficulty passing urine, no bladder control.",
        [("bladder_dysfunction", P, None, None), ("urinary_incontinence", P, None, None)],
        [],
    ),
    # --- shorthand of physio and nursing checklists
    (
        "No S&B. No saddle.",
        [("bladder_dysfunction", A, None, None), ("saddle_anesthesia", A, None, None)],
        ["saddle_anesthesia"],
    ),
    ("Reports S&B disturbance.", [("bladder_dysfunction", P, None, None)], []),
    ("Numb bum since this morning.", [("saddle_anesthesia", P, None, None)], []),
    ("Pt reports N/T in RLE.", [("leg_numbness", P, "right", None)], []),
    ("Reflexes N/T.", [], ["paresthesia", "leg_numbness"]),
    # --- "LT" beside a sensation word is light touch, not the left side
    (
        "Diminished sensation to LT in L5 distribution on the R.",
        [("stated_root_l5", P, "right", None)],
        [],
    ),
    ("↓ LT ant thigh R.", [("sensory_loss_anterior_thigh", P, "right", None)], []),
    ("Pain radiating to Lt leg.", [("leg_pain", P, "left", None)], []),
    # --- reflexes called increased, tenderness to palpation
    ("Reflexes increased throughout, upgoing plantars.", [("hyperreflexia", P, None, None)], []),
    ("Midline TTP over L4.", [("spinal_tenderness", P, None, None)], []),
    (
        "Paraspinal TTP, no midline TTP.",
        [("spinal_tenderness", A, None, None)],
        ["spinal_tenderness"],
    ),
    # --- pain that did not respond, numbness below the knee
    ("LBP refractory to analgesia.", [("refractory_pain", P, None, None)], []),
    ("Numbness below the left knee.", [("leg_numbness", P, "left", None)], []),
    # --- stiffness is not pain; morning stiffness with and without a duration
    (
        "Stiff low back in the mornings.",
        [("morning_back_stiffness", P, None, None)],
        ["low_back_pain"],
    ),
    (
        "Stiffness in lower back for 2 hours each morning.",
        [("morning_stiffness_long", P, None, None)],
        ["morning_back_stiffness", "low_back_pain"],
    ),
    ("Worse in am, stiff ~20 mins.", [("morning_stiffness_short", P, None, None)], []),
    ("Stiff and painful lower back.", [("low_back_pain", P, None, None)], []),
    # --- US shorthand: "w/" for with, radiation to the LLE, "f/c/ns", a fall with its time
    (
        "LBP w/ radiation to LLE, worse w/ sitting.",
        [("leg_pain", P, "left", None), ("pain_worse_sitting", P, None, None)],
        [],
    ),
    (
        "Denies f/c/ns.",
        [("fever", A, None, None), ("night_sweats", A, None, None)],
        ["fever", "night_sweats"],
    ),
    ("Had a fall 2/7 ago from standing.", [("minor_trauma", P, None, None)], []),
    # --- a checklist question left open is unknown, not present and not absent
    (
        "Urinary retention? Unsure.",
        [("urinary_retention", Choice.unknown, None, None)],
        ["urinary_retention"],
    ),
    (
        "Saddle numbness - not asked.",
        [("saddle_anesthesia", Choice.unknown, None, None)],
        ["saddle_anesthesia"],
    ),
    ("Urinary retention? Yes.", [("urinary_retention", P, None, None)], []),
    ("Cauda equina symptoms: nil.", [("saddle_anesthesia", A, None, None)], ["saddle_anesthesia"]),
    (
        "Bladder retention - No",
        [("urinary_retention", A, None, None)],
        ["bladder_dysfunction", "urinary_retention"],
    ),
    ("Neuro: normal.", [("neuro_exam_normal", P, None, None)], []),
    (
        "Bladder and bowel function normal.",
        [("bowel_dysfunction", A, None, None)],
        ["bowel_dysfunction"],
    ),
    ("I'm peeing normally and nothing is numb down below.", [], ["saddle_anesthesia"]),
    ("Down below feels numb since this morning.", [("saddle_anesthesia", P, None, None)], []),
    (
        "Nothing feels different, but she reports saddle numbness.",
        [("saddle_anesthesia", P, None, None)],
        [],
    ),
    # --- a short clause after a region describes it further; exertion is claudication
    (
        "Both legs aching, going numb and weak.",
        [("leg_numbness", P, "bilateral", None), ("bilateral_leg_weakness", P, None, None)],
        [],
    ),
    (
        "Pain in the front of the right thigh, which now also feels numb.",
        [("sensory_loss_anterior_thigh", P, "right", None)],
        [],
    ),
    (
        "Left leg painful, no numbness.",
        [("leg_pain", P, "left", None), ("leg_numbness", A, "left", None)],
        ["leg_numbness"],
    ),
    (
        "Both legs aching, going numb and weak after ten minutes of walking.",
        [],
        ["bilateral_leg_weakness", "leg_numbness"],
    ),
    (
        "Weakness of both legs, numbness up to the groins.",
        [("sensory_loss_groin", P, "bilateral", None)],
        [],
    ),
    # --- pain with coughing told in the first person; durations with "about"
    ("It's worse when I sit and when I cough.", [("pain_cough_sneeze", P, None, None)], []),
    ("Back pain for about 3 weeks.", [("symptom_duration_days", P, None, 21)], []),
    # --- thousands written with a comma are one volume, never a small reading that denies
    ("Bladder scan: 1,200 mL.", [("urinary_retention", P, None, 1200)], []),
    ("PVR 1,100cc.", [("urinary_retention", P, None, 1100)], []),
    # --- more checklist marks and US shorthand
    (
        "Saddle anaesthesia ✗. Retention ✓.",
        [("saddle_anesthesia", A, None, None), ("urinary_retention", P, None, None)],
        ["saddle_anesthesia"],
    ),
    ("CES sx: denies.", [("saddle_anesthesia", A, None, None)], ["saddle_anesthesia"]),
    ("No s/s of CES.", [("urinary_retention", A, None, None)], ["urinary_retention"]),
    ("Neg saddle anesthesia.", [("saddle_anesthesia", A, None, None)], ["saddle_anesthesia"]),
    (
        "SLR neg, saddle anaesthesia present.",
        [("slr_positive", A, None, None), ("saddle_anesthesia", P, None, None)],
        [],
    ),
    ("Unable to feel the toilet paper.", [("saddle_anesthesia", P, None, None)], []),
    ("It feels numb when I wipe.", [("saddle_anesthesia", P, None, None)], []),
    (
        "Neuro: decreased sensation to pinprick in saddle distribution.",
        [("reduced_perianal_sensation", P, None, None)],
        [],
    ),
    ("Rectal: decreased tone, no gross blood.", [("reduced_anal_tone", P, None, None)], []),
    # --- a patient's own words
    ("I haven't had a wee since yesterday morning.", [("urinary_retention", P, None, None)], []),
    ("Has had a urine infection.", [], ["urinary_retention"]),
    ("I have a temperature and the pain is unbearable.", [("fever", P, None, None)], []),
    ("She has a temperature chart on the ward.", [], ["fever"]),
    (
        "I've lost a stone in weight without trying and I sweat buckets at night.",
        [("weight_loss", P, None, None), ("night_sweats", P, None, None)],
        [],
    ),
    (
        "Pain is 9 out of 10 and wakes me every night.",
        [("pain_score", P, None, 9), ("night_pain", P, None, None)],
        [],
    ),
    (
        "No fever and he has night sweats.",
        [("fever", A, None, None), ("night_sweats", P, None, None)],
        [],
    ),
    # --- US trauma and procedure shorthand; a bare Fahrenheit maximum
    ("82 y/o F s/p GLF this AM, now LBP.", [("minor_trauma", P, None, None)], []),
    ("ESI last week, now fever.", [("recent_spinal_procedure", P, None, 7)], []),
    ("L4-5 fusion 2 wks ago.", [("recent_spinal_procedure", P, None, 14)], []),
    (
        "L4-5 fusion 8 mths ago.",
        [("previous_spine_surgery", P, None, None)],
        ["recent_spinal_procedure"],
    ),
    ("Tmax 101.5.", [("fever", P, None, 38.6)], []),
    ("Temp 98.", [("fever", A, None, 36.7)], ["fever"]),
    ("T 100 overnight.", [], ["fever"]),
    # --- a wording that states its own absence agrees with the denial list around it
    ("Denies fever, afebrile.", [("fever", A, None, None)], ["fever"]),
    (
        "Denies saddle anaesthesia, bladder and bowel function normal.",
        [("bowel_dysfunction", A, None, None), ("saddle_anesthesia", A, None, None)],
        ["bowel_dysfunction"],
    ),
    ("Reflexes diminished at ankles b/l.", [("achilles_reflex_reduced", P, "bilateral", None)], []),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0][:40])
def test_phrasing_family(case) -> None:
    """Each wording is read into the findings it states, with side, value and polarity."""
    check_family(case, bilateral_counts=False)


def test_fahrenheit_and_counts_follow_the_data_conversions() -> None:
    """A Fahrenheit reading is converted with the data factors, not left as a huge Celsius value."""
    items = read("Temp 104 F at home, now 102.2F in the department.")
    fevers = sorted(e.value for e in items if e.id == "fever" and e.value is not None)
    assert fevers and all(34 <= v <= 43 for v in fevers), fevers


@pytest.mark.parametrize("vignette", load_vignettes(VIGNETTES), ids=lambda v: str(v["id"]))
def test_vignette_findings_and_triage(vignette: dict[str, object]) -> None:
    """Whole notes in several styles: every finding is read and the triage is safe."""
    check_vignette(vignette, bilateral_counts=False)
