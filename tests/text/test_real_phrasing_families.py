"""Phrasing families of real clinic letters, ED notes, physio notes and case reports (own sentences).

Each family is a way clinicians write a finding that the note reader has to turn into evidence:
telegraphic side marks ("L)"), grades and arrows, checklist answers ("Saddle anaesthesia: No"),
denial lists without a closing "or", lay words for bladder, bowel and saddle symptoms, and so on.
The vignettes in tests/data/vignettes_phrasing.jsonl carry the same families in whole notes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phrasing_helpers import A, FamilyCase, P, check_family, check_vignette, load_vignettes

VIGNETTES = Path(__file__).parents[1] / "data" / "vignettes_phrasing.jsonl"

# (text, [(finding, choice, side or None, value or None)], [findings that must not be present])
CASES: list[FamilyCase] = [
    # --- tension tests written with an angle only, "+SLR", "(+)", "neg"
    ("O/E SLR R 35°.", [("slr_positive", P, "right", 35)], []),
    ("Straight leg raise limited to 40 deg on the left.", [("slr_positive", P, "left", 40)], []),
    ("+SLR on the right at 50 degrees.", [("slr_positive", P, "right", 50)], []),
    ("L FNST (+).", [("femoral_stretch_positive", P, "left", None)], []),
    ("SLR neg bilat.", [("slr_positive", A, None, None)], []),
    ("SLR 85 degrees both sides.", [], ["slr_positive"]),
    # --- arrows and abbreviations for reflexes and sensation
    ("R AJ ↓, KJs 2+.", [("achilles_reflex_reduced", P, "right", None)], []),
    ("Both AJs absent.", [("achilles_reflex_reduced", P, None, None)], []),
    ("↓ sens over lat border of L foot.", [("sensory_loss_lateral_foot", P, "left", None)], []),
    ("Hypoaesthesia over the lateral aspect of the right calf.",
     [("sensory_loss_lateral_leg", P, "right", None)], []),
    ("Pain down the post thigh to the lat foot.",
     [("posterior_thigh_pain", P, None, None), ("sole_lateral_foot_pain", P, None, None)], []),
    # --- telegraphic side marks "L)" and "(R)"
    ("Shooting pain into R) outer calf.", [("lateral_leg_pain", P, "right", None)], []),
    ("LBP radiating down the (L) leg.", [("leg_pain", P, "left", None)], []),
    ("L) AJ absent, L) EHL 4/5.",
     [("achilles_reflex_reduced", P, "left", None), ("great_toe_extension_weakness", P, "left", 4)],
     []),
    # --- muscle abbreviations and grades; a reflex grade is not a muscle grade
    ("TA 3/5 on the left.", [("ankle_dorsiflexion_weakness", P, "left", 3)], []),
    ("Tib ant 4/5 R.", [("ankle_dorsiflexion_weakness", P, "right", 4)], []),
    ("L quad power 4/5.", [("knee_extension_weakness", P, "left", 4)], []),
    ("Power 3/5 bilat PF.", [("plantarflexion_weakness", P, None, 3)], []),
    ("Quads 4/5 L, L KJ 1+ (R 2+).",
     [("knee_extension_weakness", P, "left", 4), ("patellar_reflex_reduced", P, "left", None)],
     ["severe_weakness", "rapidly_progressive_weakness"]),
    ("She could not stand on her left tiptoes.", [("plantarflexion_weakness", P, "left", None)],
     []),
    ("Not able to heel walk on the right.", [("ankle_dorsiflexion_weakness", P, "right", None)], []),
    ("New weakness in bilat legs.", [("bilateral_leg_weakness", P, None, None)], []),
    # --- checklist answers after a label
    ("Saddle anaesthesia: No\nRetention: No\nFaecal incontinence: No",
     [("saddle_anesthesia", A, None, None), ("urinary_retention", A, None, None),
      ("bowel_incontinence", A, None, None)], ["urinary_retention"]),
    ("Night sweats - nil. Weight loss: yes.",
     [("night_sweats", A, None, None), ("weight_loss", P, None, None)], []),
    ("Ankle reflex: absent on the left.", [], []),
    ("Saddle: intact. Bowels - normal.",
     [("saddle_anesthesia", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    # --- denial lists without a closing "or"
    ("Denies fevers, night sweats, IVDU.",
     [("fever", A, None, None), ("night_sweats", A, None, None),
      ("injecting_drug_use", A, None, None)], ["fever", "injecting_drug_use"]),
    ("Denies trauma, reports rigors.", [("fever", P, None, None)], []),
    ("Patient denies saddle paresthesias, urinary retention, fecal incontinence.",
     [("saddle_anesthesia", A, None, None), ("urinary_retention", A, None, None),
      ("bowel_incontinence", A, None, None)], []),
    # --- abbreviations for bladder and bowel, trauma, cancer, drug use
    ("Denies B/B dysfunction.",
     [("bladder_dysfunction", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    ("Nil PU/BO issues.",
     [("bladder_dysfunction", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    ("No h/o trauma.", [("minor_trauma", A, None, None), ("severe_trauma", A, None, None)], []),
    ("Atraumatic onset of back pain.", [("severe_trauma", A, None, None)], []),
    ("Tripped over the dog; no other injury.", [("minor_trauma", P, None, None)], []),
    ("Hx of renal cell cancer.", [("history_of_cancer", P, None, None)], []),
    ("Ex-IVDA.", [("injecting_drug_use", P, None, None)], []),
    ("Nil red flags.", [("saddle_anesthesia", A, None, None), ("urinary_retention", A, None, None)],
     []),
    ("Red flags checked -ve.", [("saddle_anesthesia", A, None, None)], []),
    # --- saddle and sphincter wording
    ("Perineal hypoaesthesia on examination.", [("saddle_anesthesia", P, None, None)], []),
    ("No saddle sx.", [("saddle_anesthesia", A, None, None)], []),
    ("Reduced saddle sensation to pinprick.", [("saddle_anesthesia", P, None, None)], []),
    ("Says his backside feels numb.", [("saddle_anesthesia", P, None, None)], []),
    ("She says she can't feel herself down below.", [("saddle_anesthesia", P, None, None)], []),
    ("DRE: weak squeeze.", [("reduced_anal_tone", P, None, None)], []),
    ("Lax anal sphincter on PR.", [("reduced_anal_tone", P, None, None)], []),
    ("PR: good tone.", [("reduced_anal_tone", A, None, None)], []),
    ("Reduced tone in both legs.", [], ["reduced_anal_tone"]),
    # --- lay and written bladder and bowel wording
    ("Feeling of incomplete emptying since Sunday.", [("bladder_dysfunction", P, None, None)], []),
    ("He can no longer tell when he needs to go.", [("bladder_dysfunction", P, None, None)], []),
    ("Hasn't been able to pass urine since lunchtime.", [("urinary_retention", P, None, None)], []),
    ("His underwear has been soiled twice.", [("bowel_incontinence", P, None, None)], []),
    ("Bowels: incontinent overnight.", [("bowel_incontinence", P, None, None)],
     ["urinary_incontinence"]),
    ("New bladder and bowel incontinence.",
     [("urinary_incontinence", P, None, None), ("bowel_incontinence", P, None, None)], []),
    # postposed denials, checklist answers at a line end, a test's own verdict
    ("Incontinence denied.", [("urinary_incontinence", A, None, None)], []),
    ("Retention and incontinence both denied.",
     [("urinary_retention", A, None, None), ("urinary_incontinence", A, None, None)], []),
    ("Saddle anaesthesia, retention and incontinence all denied.",
     [("saddle_anesthesia", A, None, None), ("urinary_retention", A, None, None)], []),
    ("Incontinence denied\nLeg pain: yes",
     [("urinary_incontinence", A, None, None), ("leg_pain", P, None, None)], []),
    ("Leg pain, numbness denied.", [("leg_pain", P, None, None)], []),
    ("She reported leg pain and denied fever.",
     [("leg_pain", P, None, None), ("fever", A, None, None)], []),
    ("Severe sciatica, SLR normal.", [("leg_pain", P, None, None), ("slr_positive", A, None, None)],
     []),
    ("Right leg numbness, reflexes normal.", [("leg_numbness", P, "right", None)], []),
    ("Bladder, bowels normal.",
     [("bladder_dysfunction", A, None, None), ("bowel_dysfunction", A, None, None)], []),
    ("Ankle jerks: absent.", [("achilles_reflex_reduced", P, None, None)], []),
    ("Left knee jerk - absent.", [("patellar_reflex_reduced", P, "left", None)], []),
    ("Bladder/bowel incontinence denied.",
     [("urinary_incontinence", A, None, None), ("bowel_incontinence", A, None, None)], []),
    # --- systemic, course, pattern
    ("Has lost around 7 kg this year.", [("weight_loss", P, None, None)], []),
    ("Low-grade temps in the evenings.", [("fever", P, None, None)], []),
    ("Worse standing, coughing.", [("pain_cough_sneeze", P, None, None)], []),
    ("Aggravated by bending and standing.", [("pain_worse_standing", P, None, None)], []),
    ("Agg: driving, prolonged sitting.", [("pain_worse_sitting", P, None, None)], []),
    ("Pain started while carrying a heavy suitcase.", [("onset_after_lifting", P, None, None)], []),
    ("Unsteady on feet since Friday.", [("gait_disturbance", P, None, None)], []),
    ("Unable to mobilise on the ward.", [("gait_disturbance", P, None, None)], []),
    # --- stenosis, vascular, hip and spondyloarthritis wording
    ("Calf heaviness with ambulation, relieved with sitting.",
     [("neurogenic_claudication", P, None, None)], []),
    ("Legs ache on walking >100 yds, better sitting.",
     [("neurogenic_claudication", P, None, None)], []),
    ("Her legs go heavy on walking, which forces her to sit down.",
     [("neurogenic_claudication", P, None, None)], ["bilateral_leg_weakness"]),
    ("DP pulses 2+ bilaterally.", [("foot_pulses_normal", P, None, None)], []),
    ("Restricted, painful IR of the R hip.", [("hip_internal_rotation_limited", P, None, None)],
     []),
    ("AM stiffness 15 mins.", [("morning_stiffness_short", P, None, None)], []),
    ("Stiff in the mornings (>1 hr).", [("morning_stiffness_long", P, None, None)], []),
    ("Wakes in the 2nd half of the night with pain.",
     [("second_half_night_waking", P, None, None)], []),
    ("Marked improvement with naproxen.", [("nsaid_good_response", P, None, None)], []),
    ("Tender over L greater trochanter.", [("trochanter_tenderness", P, "left", None)], []),
    ("Exquisitely tender at L3.", [("spinal_tenderness", P, None, None)], []),
    ("Tinel's positive just medial to the L ASIS.", [("lfcn_tinel_positive", P, None, None)], []),
    ("Neurological examination of both lower limbs is normal.",
     [("neuro_exam_normal", P, None, None)], []),
    # --- durations with abbreviated units or no count
    ("Sciatica x 3 wks.", [("symptom_duration_days", P, None, 21)], []),
    ("Back pain for the past fortnight.", [("symptom_duration_days", P, None, 14)], []),
    ("Leg pain for 2 mths.", [("symptom_duration_days", P, None, 60.8)], []),
    ("Began 5 hrs ago while gardening.", [("symptom_duration_days", P, None, 0.21)], []),
    # --- exam names followed by a colon, lay bladder and weight wording, bands, dermatomes
    ("Anal tone: lax.", [("reduced_anal_tone", P, None, None)], []),
    ("Perianal sensation: intact.", [("reduced_perianal_sensation", A, None, None)], []),
    ("Perineal pinprick: reduced.", [("reduced_perianal_sensation", P, None, None)], []),
    ("Urine has been dribbling out since the morning.", [("urinary_incontinence", P, None, None)],
     []),
    ("Wt steady, appetite fine.", [("weight_loss", A, None, None)], []),
    ("Her clothes have become looser.", [("weight_loss", P, None, None)], []),
    ("The pain wakes her at 4 am.", [("night_pain", P, None, None)], []),
    ("Gait: wide-based.", [("balance_impairment", P, None, None)], []),
    ("Three weeks post partum.", [("postpartum", P, None, None)], []),
    ("Describes a band of numbness around the chest.", [("sensory_level", P, None, None)], []),
    ("Dermatomal numbness in the S1 on the left.", [("stated_root_s1", P, "left", None)], []),
    ("Altered sensation in the L4 distribution.", [("stated_root_l4", P, None, None)], []),
    ("Compressing the L5 nerve root.", [], ["stated_root_l5"]),
    ("Hypoaesthesia in the left S1 dermatome and an absent left ankle jerk.",
     [("stated_root_s1", P, "left", None), ("achilles_reflex_reduced", P, "left", None)], []),
    # --- exam and history abbreviations
    ("PMH: HTN, CKD 3b.", [("chronic_kidney_disease", P, None, None)], []),
    ("No focal neuro deficits.", [("neuro_exam_normal", P, None, None)], []),
    ("Back pain on coughing.", [("pain_cough_sneeze", P, None, None)], []),
    ("Paraesthesia along the lateral border R foot.",
     [("sole_lateral_foot_pain", P, "right", None)], []),
    ("Groin ache, worse with hip rotation.", [("groin_pain_hip_movement", P, None, None)], []),
    ("Trendelenburg positive on the right.", [("trendelenburg_sign", P, "right", None)], []),
    ("Trendelenburg test negative.", [], ["trendelenburg_sign"]),
    ("Restricted ROM of the lumbar spine.", [("restricted_lumbar_motion", P, None, None)], []),
    # --- held-out round: quoted lay saddle words, PR verdict after the word, bilateral sciatica
    ("Feels numb 'around his back passage'.", [("saddle_anesthesia", P, None, None)], []),
    ("PR: squeeze ↓, PP ↓ perianally.",
     [("reduced_anal_tone", P, None, None), ("reduced_perianal_sensation", P, None, None)], []),
    ("Saddle sensation and anal tone are normal.",
     [("saddle_anesthesia", A, None, None), ("reduced_anal_tone", A, None, None)], []),
    ("Bilat sciatica, L>R.", [("bilateral_leg_pain", P, None, None)], []),
    ("Leg pain R>L for 3 days.", [("bilateral_leg_pain", P, None, None)], []),
    ("Pain in the distribution of the left S1 root.", [("stated_root_s1", P, "left", None)], []),
    ("Back pain referred to the L groin.", [("groin_pain", P, "left", None)], []),
    ("Worse on stairs and pulling her socks on.",
     [("pain_climbing_stairs", P, None, None), ("pain_putting_on_socks", P, None, None)], []),
    ("Known MM, on treatment.", [("history_of_cancer", P, None, None)], []),
    ("Disc bulge of 4 mm.", [], ["history_of_cancer"]),
    ("Wt ↓ 4 kg.", [("weight_loss", P, None, None)], []),
    ("Calf cramp on walking, better after standing still.", [("vascular_claudication", P, None, None)],
     []),
    ("DP and PT absent on the left.", [("peripheral_pulses_absent", P, "left", None)], []),
    ("PMH: DM, HTN.", [("diabetes", P, None, None)], []),
    ("R hip IR 10°, painful.", [("hip_internal_rotation_limited", P, None, None)], []),
    ("Hip IR 40 degrees both sides.", [], ["hip_internal_rotation_limited"]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0][:40])
def test_phrasing_family(case) -> None:
    """Each wording is read into the findings it states, with side, value and polarity."""
    check_family(case, bilateral_counts=True)


@pytest.mark.parametrize("vignette", load_vignettes(VIGNETTES), ids=lambda v: str(v["id"]))
def test_vignette_findings_and_triage(vignette: dict[str, object]) -> None:
    """Whole notes in several styles: every finding is read and the triage is safe."""
    check_vignette(vignette, bilateral_counts=True)
