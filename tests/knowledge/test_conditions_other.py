"""The 26 diagnosis ids that have no seed article of their own (seed group, red flags, mimics).

Checks that each loads with the right group, carries ICD-10-CM codes, key features, work-up
tests, findings-linked symptoms, distinguishing notes and guideline-sourced management, and that
the red-flag conditions default to an urgency that will not under-triage.
"""

from __future__ import annotations

import pytest

from spineguide.knowledge.loader import load_knowledge_base
from spineguide.knowledge.schema import ALL_DIAGNOSIS_IDS, DIAGNOSIS_IDS, Urgency

SEED_ARTICLE_IDS = {
    "disc-calcification",
    "nerve-root-compression",
    "foraminal-stenosis",
    "disc-sequestration",
}
KNOWN_IDS = set(ALL_DIAGNOSIS_IDS)
OTHER_IDS = sorted({i for i in KNOWN_IDS if i not in SEED_ARTICLE_IDS})
GROUP_OF = {i: g for g, ids in DIAGNOSIS_IDS.items() for i in ids}
RED_FLAG_IDS = sorted(DIAGNOSIS_IDS["red_flag"])
EMERGENCY_IDS = {
    "cauda-equina-syndrome",
    "abdominal-aortic-aneurysm",
    "spinal-epidural-hematoma",
    "aortic-dissection",
}
# Axial spondyloarthritis sits in the red-flag group because NICE NG59 1.1.1 asks clinicians to
# exclude it, but its own pathway (NICE NG65) is a routine rheumatology referral; defaulting it to
# urgent would over-triage. Every other red-flag condition must default to urgent or emergency.
ROUTINE_RED_FLAG_IDS = {"axial-spondyloarthritis"}
RULE_IDS_FALLBACK = {
    "cauda_equina",
    "bilateral_radicular_with_sphincter_risk",
    "spinal_infection",
    "malignancy",
    "malignant_cord_compression",
    "fracture",
    "aaa",
    "epidural_hematoma",
    "retroperitoneal_bleed_femoral",
    "progressive_motor_deficit",
    "bilateral_neuro_deficit",
    "new_neurological_deficit",
    "uncontrolled_pain",
    "persistent_symptoms",
    "inflammatory_back_pain",
}


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_there_are_26_other_ids():
    assert len(OTHER_IDS) == 26


@pytest.mark.parametrize("cid", OTHER_IDS)
def test_condition_loads_with_core_content(kb, cid):
    cond = kb.conditions.get(cid)
    assert cond is not None, f"conditions/{cid}.yaml missing"
    assert cond.id == cid
    assert cond.group == GROUP_OF[cid]
    assert cond.seed_article is None
    assert cond.definition and cond.patient_summary and cond.name
    assert cond.aliases, "common clinical synonyms expected"
    assert cond.icd10cm, "at least one ICD-10-CM code"
    assert sum(c.primary for c in cond.icd10cm) == 1, "exactly one primary code"
    assert len({c.code for c in cond.icd10cm}) == len(cond.icd10cm), "duplicate code"
    assert len(cond.key_features) >= 3
    assert cond.first_investigations
    assert cond.distinguish_from
    assert cond.symptoms
    assert cond.management
    assert cond.when_to_see_doctor
    assert cond.sources


@pytest.mark.parametrize("cid", OTHER_IDS)
def test_references_resolve(kb, cid):
    cond = kb.conditions[cid]
    for sym in cond.symptoms:
        assert sym.finding in kb.findings, (
            f"{cid}: symptom {sym.id} -> unknown finding {sym.finding}"
        )
    for target in cond.distinguish_from:
        assert target in KNOWN_IDS, f"{cid}: distinguish_from unknown id {target}"
        assert target != cid
    for cause in cond.causes:
        if cause.diagnosis:
            assert cause.diagnosis in KNOWN_IDS
    if kb.tests:  # only once tests.yaml exists
        for test_id in cond.first_investigations:
            assert test_id in kb.tests, f"{cid}: unknown diagnostic test {test_id}"
    rules = {r["id"] for r in (kb.raw.get("red_flags") or {}).get("rules", [])} or RULE_IDS_FALLBACK
    for item in cond.when_to_see_doctor:
        if item.red_flag_rule:
            assert item.red_flag_rule in rules
    ids = [s.id for s in cond.symptoms]
    assert len(ids) == len(set(ids)), f"{cid}: duplicate symptom ids"
    ids = [c.id for c in cond.causes]
    assert len(ids) == len(set(ids)), f"{cid}: duplicate cause ids"
    ids = [t.id for t in cond.types]
    assert len(ids) == len(set(ids)), f"{cid}: duplicate type ids"


@pytest.mark.parametrize("cid", OTHER_IDS)
def test_management_steps_are_sourced(kb, cid):
    for step in kb.conditions[cid].management:
        assert step.sources, f"{cid}: management step without source: {step.text[:50]}"
        assert step.patient_text, f"{cid}: management step without patient text"


@pytest.mark.parametrize("cid", RED_FLAG_IDS)
def test_red_flag_default_urgency(kb, cid):
    cond = kb.conditions[cid]
    if cid in EMERGENCY_IDS:
        assert cond.default_urgency == Urgency.emergency
    elif cid in ROUTINE_RED_FLAG_IDS:
        assert cond.default_urgency == Urgency.routine
    else:
        assert cond.default_urgency in (Urgency.urgent, Urgency.emergency)


@pytest.mark.parametrize("cid", sorted(EMERGENCY_IDS))
def test_emergency_conditions_offer_emergency_advice(kb, cid):
    cond = kb.conditions[cid]
    assert any(s.urgency == Urgency.emergency for s in cond.when_to_see_doctor)


def test_red_flag_rules_point_at_conditions_that_exist(kb):
    for rule in (kb.raw.get("red_flags") or {}).get("rules", []):
        if rule.get("condition"):
            assert rule["condition"] in kb.conditions, rule["id"]


@pytest.mark.parametrize(
    ("cid", "tests"),
    [
        ("cauda-equina-syndrome", {"mri", "post_void_residual"}),
        ("spinal-infection", {"cbc", "crp", "esr", "blood_cultures", "mri_gadolinium"}),
        ("spinal-malignancy", {"mri_whole_spine"}),
        ("vertebral-fracture", {"xray", "dexa"}),
        ("abdominal-aortic-aneurysm", {"abdominal_ultrasound", "ct_angiography"}),
        ("axial-spondyloarthritis", {"hla_b27", "crp", "mri"}),
        ("peripheral-arterial-disease", {"ankle_brachial_index", "pulse_exam"}),
        ("hip-osteoarthritis", {"hip_xray", "hip_rotation_exam"}),
        ("greater-trochanteric-pain-syndrome", {"trochanter_palpation"}),
        ("sacroiliac-joint-pain", {"si_provocation_tests"}),
        ("femoral-neuropathy", {"ct_abdomen_pelvis", "coagulation_screen", "emg"}),
        ("diabetic-amyotrophy", {"hba1c", "emg"}),
    ],
)
def test_key_work_up(kb, cid, tests):
    assert tests <= set(kb.conditions[cid].first_investigations)


def test_key_mimic_distinctions_are_written(kb):
    """The confusable pairs the differential most needs are described in both directions."""
    pairs = [
        ("femoral-neuropathy", "nerve-root-compression"),
        ("diabetic-amyotrophy", "femoral-neuropathy"),
        ("hip-osteoarthritis", "nerve-root-compression"),
        ("meralgia-paresthetica", "nerve-root-compression"),
        ("peripheral-arterial-disease", "lumbar-spinal-stenosis"),
        ("lumbar-spinal-stenosis", "peripheral-arterial-disease"),
        ("cauda-equina-syndrome", "nerve-root-compression"),
    ]
    for a, b in pairs:
        assert b in kb.conditions[a].distinguish_from, (a, b)


def test_type_ranges_are_ordered(kb):
    for cid in OTHER_IDS:
        for t in kb.conditions[cid].types:
            if t.criteria_range is not None:
                lo, hi = t.criteria_range
                assert lo < hi and t.criteria_unit and t.sources


def test_meyerding_grades(kb):
    grades = {t.id: t.criteria_range for t in kb.conditions["degenerative-spondylolisthesis"].types}
    assert grades["meyerding-1"] == (0, 25)
    assert grades["meyerding-4"] == (75, 100)
