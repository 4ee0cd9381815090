"""Derived findings: composite evidence computed from the extracted items (see findings/derived.yaml).

Composites keep the differential from counting one observation several times (e.g. four
dermatomal pain words are one piece of evidence for radicular pain).
"""

from __future__ import annotations

from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet

RADICULAR_PAIN = (
    "leg_pain", "radicular_pain_below_knee", "anterior_thigh_pain", "medial_thigh_pain",
    "medial_leg_pain", "lateral_leg_pain", "dorsal_foot_pain", "posterior_calf_pain",
    "sole_lateral_foot_pain", "posterior_thigh_pain", "knee_pain_anterior", "thigh_pain",
    "bilateral_leg_pain",
)  # fmt: skip
BELOW_KNEE = (
    "medial_leg_pain", "lateral_leg_pain", "dorsal_foot_pain", "posterior_calf_pain",
    "sole_lateral_foot_pain",
)  # fmt: skip
UPPER_LUMBAR = (
    "anterior_thigh_pain", "medial_thigh_pain", "knee_pain_anterior", "thigh_pain",
    "sensory_loss_anterior_thigh", "sensory_loss_medial_knee", "hip_flexion_weakness",
    "hip_adduction_weakness", "knee_extension_weakness", "patellar_reflex_reduced",
    "femoral_stretch_positive", "crossed_femoral_stretch_positive", "quadriceps_atrophy",
)  # fmt: skip
LOWER_LUMBAR = (
    "lateral_leg_pain", "dorsal_foot_pain", "posterior_calf_pain", "sole_lateral_foot_pain",
    "sensory_loss_lateral_leg", "sensory_loss_dorsal_foot", "sensory_loss_lateral_foot",
    "great_toe_extension_weakness", "plantarflexion_weakness", "foot_eversion_weakness",
    "achilles_reflex_reduced", "slr_positive", "crossed_slr_positive", "foot_drop",
)  # fmt: skip
MOTOR = (
    "hip_flexion_weakness", "hip_adduction_weakness", "knee_extension_weakness",
    "ankle_dorsiflexion_weakness", "great_toe_extension_weakness", "foot_eversion_weakness",
    "foot_inversion_weakness", "hip_abduction_weakness", "hip_extension_weakness",
    "plantarflexion_weakness", "knee_flexion_weakness", "foot_drop",
)  # fmt: skip
REFLEX = ("patellar_reflex_reduced", "achilles_reflex_reduced", "medial_hamstring_reflex_reduced")
SENSORY = (
    "sensory_loss_groin", "sensory_loss_anterior_thigh", "sensory_loss_medial_knee",
    "sensory_loss_medial_leg", "sensory_loss_lateral_leg", "sensory_loss_dorsal_foot",
    "sensory_loss_lateral_foot", "sensory_loss_posterior_leg",
)  # fmt: skip
TENSION = ("slr_positive", "crossed_slr_positive", "femoral_stretch_positive",
           "crossed_femoral_stretch_positive", "slump_positive")  # fmt: skip
SPHINCTER = (
    "saddle_anesthesia", "urinary_retention", "urinary_incontinence", "bladder_dysfunction",
    "bowel_incontinence", "bowel_dysfunction", "reduced_anal_tone", "reduced_perianal_sensation",
    "palpable_bladder", "sexual_dysfunction",
)  # fmt: skip
NONSPINAL = (
    "groin_pain_hip_movement", "hip_internal_rotation_limited", "trochanter_tenderness",
    "si_provocation_positive", "vascular_claudication", "peripheral_pulses_absent", "low_abi",
    "anterolateral_thigh_burning", "sensory_loss_anterolateral_thigh", "pain_lying_on_side",
)  # fmt: skip
SIGNIFICANT_IMAGING = (
    "img:disc_extrusion", "img:disc_sequestration", "img:disc_herniation", "img:disc_protrusion",
    "img:canal_stenosis", "img:foraminal_stenosis", "img:lateral_recess_stenosis",
    "img:nerve_root_compression", "img:cauda_equina_compression", "img:spondylolisthesis",
    "img:synovial_cyst", "img:disc_calcification", "img:fracture", "img:bone_lesion",
    "img:epidural_collection", "img:hematoma",
)  # fmt: skip


def _sides(es: EvidenceSet, ids: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for fid in ids:
        out |= es.sides(fid)
    return out


def _any(es: EvidenceSet, ids: tuple[str, ...]) -> bool:
    present = es.present_ids()
    return any(i in present for i in ids)


def _all_absent(es: EvidenceSet, ids: tuple[str, ...], at_least: int = 1) -> bool:
    return sum(1 for i in ids if es.absent(i)) >= at_least and not _any(es, ids)


VERY_HIGH = {"esr": ("esr_very_high", 50.0), "crp": ("crp_very_high", 50.0)}
# Thresholds: ESR >= 50 mm/h and CRP >= 50 mg/L are expert estimates for "markedly raised", the
# range seen in spinal infection and myeloma rather than in mechanical back pain (davis-2004-sea).
IMAGING_EVIDENCE = {
    "img:bone_lesion": "img_bone_lesion",
    "img:fracture": "img_fracture",
    "img:epidural_collection": "img_epidural_collection",
    "img:cauda_equina_compression": "img_cauda_equina_compression",
    "img:hematoma": "img_hematoma",
}
CLAUDICATION = ("neurogenic_claudication", "pain_relieved_flexion", "vascular_claudication")


def derive_findings(es: EvidenceSet, imaging_present: set[str] | None = None) -> EvidenceSet:
    """Add derived (composite) findings to an evidence set and return a new set."""
    items = list(es.items)
    present = es.present_ids()

    def add(fid: str, choice: Choice, side: str | None = None) -> None:
        items.append(Evidence(id=fid, choice=choice, side=side, source="derived"))

    def side_of(ids: tuple[str, ...]) -> str | None:
        sides = _sides(es, ids)
        if not sides:
            return None
        if "bilateral" in sides or {"left", "right"} <= sides:
            return "bilateral"
        return next(iter(sides))

    neuro_normal = "neuro_exam_normal" in present
    axial_only = "axial_pain_only" in present

    if _any(es, RADICULAR_PAIN):
        add("radicular_pain", Choice.present, side_of(RADICULAR_PAIN))
    if _any(es, BELOW_KNEE) and not es.present("radicular_pain_below_knee"):
        add("radicular_pain_below_knee", Choice.present, side_of(BELOW_KNEE))
    elif axial_only or es.absent("leg_pain"):
        add("radicular_pain", Choice.absent)
    for fid, ids in (
        ("upper_lumbar_pattern", UPPER_LUMBAR),
        ("lower_lumbar_pattern", LOWER_LUMBAR),
    ):
        if _any(es, ids):
            add(fid, Choice.present, side_of(ids))
    groups = (("motor_deficit", MOTOR), ("reflex_deficit", REFLEX), ("sensory_deficit", SENSORY))
    any_deficit = False
    for fid, ids in groups:
        if _any(es, ids):
            add(fid, Choice.present, side_of(ids))
            any_deficit = True
        elif neuro_normal or _all_absent(es, ids, at_least=2):
            add(fid, Choice.absent)
    if any_deficit:
        add("neuro_deficit", Choice.present, side_of(MOTOR + REFLEX + SENSORY))
    elif neuro_normal or _all_absent(es, MOTOR, at_least=3):
        add("neuro_deficit", Choice.absent)
    if _any(es, TENSION):
        add("tension_sign_positive", Choice.present, side_of(TENSION))
    elif _all_absent(es, TENSION):
        add("tension_sign_positive", Choice.absent)
    leg_weak = _any(es, MOTOR) or _any(
        es, ("leg_weakness_reported", "bilateral_leg_weakness", "severe_weakness")
    )
    if leg_weak:
        add("leg_weakness_any", Choice.present, side_of(MOTOR))
    motor_sides = _sides(es, MOTOR)
    if "bilateral" in motor_sides or {"left", "right"} <= motor_sides:
        add("bilateral_leg_weakness", Choice.present, "bilateral")

    age = es.value("age")
    if age is not None:
        for fid, test in (
            ("age_over_50", age > 50),
            ("age_over_65", age >= 65),
            ("age_over_70", age > 70),
            ("age_under_45", age < 45),
        ):
            add(fid, Choice.present if test else Choice.absent)
    days = es.value("symptom_duration_days")
    if days is not None:
        add("acute_course", Choice.present if days < 42 else Choice.absent)

    lateral_ids = RADICULAR_PAIN + MOTOR + REFLEX + SENSORY + TENSION + ("buttock_pain",)
    sides = _sides(es, lateral_ids)
    if (
        "bilateral" in sides
        or {"left", "right"} <= sides
        or _any(es, ("bilateral_leg_pain", "bilateral_leg_weakness"))
    ):
        add("bilateral_symptoms", Choice.present)
    reflex_sides = _sides(es, REFLEX)
    if "bilateral" in reflex_sides or {"left", "right"} <= reflex_sides:
        add("bilateral_reflex_loss", Choice.present)
    if _any(es, SPHINCTER):
        add("sphincter_or_saddle", Choice.present)
    elif _all_absent(es, SPHINCTER):
        add("sphincter_or_saddle", Choice.absent)
    if _any(es, ("crp", "esr")):
        add("inflammatory_markers_raised", Choice.present)
    elif _all_absent(es, ("crp", "esr")):
        add("inflammatory_markers_raised", Choice.absent)
    if _any(es, ("history_of_cancer", "metastatic_cancer")):
        add("known_cancer", Choice.present)
    if _any(es, ("fever", "night_sweats", "weight_loss")):
        add("systemic_features", Choice.present)
    elif _all_absent(es, ("fever", "night_sweats", "weight_loss"), at_least=2):
        add("systemic_features", Choice.absent)
    if _any(es, NONSPINAL):
        add("nonspinal_pattern", Choice.present)
    if imaging_present and imaging_present & set(SIGNIFICANT_IMAGING):
        add("imaging_significant", Choice.present)
    for img_id, fid in IMAGING_EVIDENCE.items():
        if imaging_present and img_id in imaging_present:
            add(fid, Choice.present)
    for lab, (fid, threshold) in VERY_HIGH.items():
        value = es.value(lab)
        if value is not None and value >= threshold:
            add(fid, Choice.present)
    if _bilateral_sciatica(es):
        add("bilateral_sciatica", Choice.present, "bilateral")
    if es.present("knee_extension_weakness") and es.absent("hip_adduction_weakness"):
        add("hip_adduction_preserved", Choice.present)
    return EvidenceSet(items=items)


def _bilateral_sciatica(es: EvidenceSet) -> bool:
    """Radicular pain or lower-lumbar root signs on both sides, outside a claudication pattern."""
    if _any(es, CLAUDICATION) or es.present("chronic_course"):
        return False
    sides = _sides(es, (*LOWER_LUMBAR, "leg_pain", "radicular_pain_below_knee", "buttock_pain"))
    both = "bilateral" in sides or {"left", "right"} <= sides
    return both or (es.present("bilateral_leg_pain") and _any(es, LOWER_LUMBAR))
