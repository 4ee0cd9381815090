"""Derived findings: composite evidence computed from the extracted items (see findings/derived.yaml).

Composites keep the differential from counting one observation several times (e.g. four
dermatomal pain words are one piece of evidence for radicular pain). Every cut-off comes from
knowledge/data/thresholds.yaml (with its source), never from this file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import read_yaml
from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
from spineguide.reasoning.fastmodel import build_models, field_names
from spineguide.reasoning.imaging_evidence import imaging_evidence_ids

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.text.models import ImagingFinding

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
THIGH_ONLY = ("posterior_thigh_pain", "thigh_pain")  # leg regions above the knee, at the back
# pain that reaches below the knee (calf pain too: "the pain goes on into the calf") or names
# another part of the leg
_BEYOND_THIGH = (*(x for x in RADICULAR_PAIN if x not in THIGH_ONLY), "calf_pain")
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
    "img:epidural_collection", "img:hematoma", "img:discitis", "img:intradural_mass",
    "img:epidural_lipomatosis",
)  # fmt: skip
CLAUDICATION = ("neurogenic_claudication", "pain_relieved_flexion", "vascular_claudication")
SPINAL_PAIN = (
    "low_back_pain",
    "thoracic_pain",
    "flank_pain",
    "spinal_tenderness",
    "axial_pain_only",
)
ANTITHROMBOTIC = (
    "anticoagulant_use",
    "antiplatelet_use",
    "supratherapeutic_inr",
    "bleeding_disorder",
)
LEG_WEAK_WORDS = ("leg_weakness_reported", "bilateral_leg_weakness", "severe_weakness")
SENSORY_SYMPTOMS = ("leg_numbness", "sensory_level")
FEVER = ("fever", "persistent_fever")
# The neurological part of the epidural-abscess pattern: weakness, numbness, a deficit on
# examination, a sensory level or a sphincter or saddle disturbance (not pain, tingling or a
# reflex change alone, which are common in febrile people with ordinary sciatica or neuropathy).
FEVER_NEURO = MOTOR + SENSORY + LEG_WEAK_WORDS + SENSORY_SYMPTOMS + SPHINCTER
# Bilateral sciatica counts pain, weakness, sensory loss and tension signs — never reflexes alone:
# symmetric loss of ankle jerks is common with age and in neuropathy.
SCIATICA_SIDES = (
    "lateral_leg_pain", "dorsal_foot_pain", "posterior_calf_pain", "sole_lateral_foot_pain",
    "sensory_loss_lateral_leg", "sensory_loss_dorsal_foot", "sensory_loss_lateral_foot",
    "great_toe_extension_weakness", "plantarflexion_weakness", "foot_eversion_weakness",
    "slr_positive", "crossed_slr_positive", "foot_drop", "leg_pain", "radicular_pain_below_knee",
    "buttock_pain",
)  # fmt: skip

_EVIDENCE_FIELDS = field_names(Evidence)
THRESHOLDS_PATH = Path(__file__).resolve().parents[1] / "knowledge" / "data" / "thresholds.yaml"
Op = Literal["gt", "ge", "lt", "le"]


class _Cited(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(default_factory=list)
    expert_estimate: bool = False
    rationale: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> _Cited:
        if not self.sources and not (self.expert_estimate and self.rationale):
            raise ValueError("give `sources` or `expert_estimate: true` with a `rationale`")
        return self


class Cutoff(_Cited):
    """One cut-off: the derived finding `id` is present when `value <op> threshold` holds."""

    id: str
    op: Op
    value: float
    lab: str | None = None

    def holds(self, x: float) -> bool:
        """Whether a measured value meets the cut-off."""
        op = self.op
        if op == "gt":
            return x > self.value
        if op == "ge":
            return x >= self.value
        if op == "lt":
            return x < self.value
        return x <= self.value  # "le" (the only other value the schema allows)


class Value(_Cited):
    """A single number used by the reasoning."""

    value: float


class WordList(_Cited):
    """Words that classify a mention (e.g. tumour types)."""

    words: list[str]


class ScreenDomain(BaseModel):
    """One domain of the red-flag screen and how it is answered."""

    model_config = ConfigDict(extra="forbid")

    label: str
    negative_if_absent: list[str]
    negative_if_present: list[str] = Field(default_factory=list)
    positive: list[str] = Field(default_factory=list)
    ask: list[str]


class Screen(_Cited):
    """The red-flag screen that must be recorded negative before self-care."""

    required: list[str]
    others: list[str]
    domains: dict[str, ScreenDomain]

    @model_validator(mode="after")
    def _known_domains(self) -> Screen:
        missing = [d for d in self.required + self.others if d not in self.domains]
        if missing:
            raise ValueError(f"unknown screen domain(s): {', '.join(missing)}")
        return self


class Thresholds(BaseModel):
    """knowledge/data/thresholds.yaml: every cut-off the triage and derived findings use."""

    model_config = ConfigDict(extra="forbid")

    age: list[Cutoff]
    duration: list[Cutoff]
    labs: list[Cutoff]
    values: dict[str, Value]
    cancer_types: dict[str, WordList]
    red_flag_screen: Screen

    def number(self, key: str) -> float:
        """A named single value (KeyError names the missing key)."""
        return self.values[key].value

    def referenced_ids(self) -> tuple[set[str], set[str]]:
        """(finding ids, source ids) this file refers to, for validation against the KB."""
        findings: set[str] = set()
        sources: set[str] = set(self.red_flag_screen.sources)
        for c in self.age + self.duration + self.labs:
            findings.add(c.id)
            if c.lab:
                findings.add(c.lab)
            sources.update(c.sources)
        for v in self.values.values():
            sources.update(v.sources)
        for w in self.cancer_types.values():
            sources.update(w.sources)
        for d in self.red_flag_screen.domains.values():
            findings.update(d.negative_if_absent + d.negative_if_present + d.positive + d.ask)
        return findings, sources


@lru_cache(maxsize=4)
def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    """Read and validate thresholds.yaml (cached)."""
    try:
        raw = read_yaml(path)
        return Thresholds.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot read ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KnowledgeBaseError(f"{path.name}: {where}: {first['msg']}") from exc


def check_thresholds(kb: KnowledgeBase, thresholds: Thresholds | None = None) -> list[str]:
    """Problems with thresholds.yaml against the knowledge base (unknown finding or source ids)."""
    t = thresholds or load_thresholds()
    findings, sources = t.referenced_ids()
    problems = [
        f"thresholds.yaml: unknown finding {f!r}" for f in sorted(findings - set(kb.findings))
    ]
    problems += [
        f"thresholds.yaml: unknown source {s!r}" for s in sorted(sources - set(kb.sources))
    ]
    return problems


@lru_cache(maxsize=64)
def _idset(ids: tuple[str, ...]) -> frozenset[str]:
    """A group of finding ids as a set (once per group; the groups are module constants)."""
    return frozenset(ids)


def _sides(es: EvidenceSet, ids: tuple[str, ...]) -> set[str]:
    return es.sides_of(_idset(ids))


def _any(es: EvidenceSet, ids: tuple[str, ...]) -> bool:
    return es.any_present(ids)


def _all_absent(es: EvidenceSet, ids: tuple[str, ...], at_least: int = 1) -> bool:
    return es.count_absent(_idset(ids)) >= at_least and not es.any_present(ids)


def _both(sides: set[str]) -> bool:
    return "bilateral" in sides or {"left", "right"} <= sides


def _cancer_risk(es: EvidenceSet, text: str | None, t: Thresholds) -> str | None:
    """'bone_tropic', 'low_risk' or 'unspecified' for a present cancer history (None if none)."""
    items = [e for e in es.items if e.id in ("history_of_cancer", "metastatic_cancer")
             and e.choice == Choice.present]  # fmt: skip
    if not items:
        return None
    if any(e.id == "metastatic_cancer" for e in items):
        return "bone_tropic"
    kinds = set()
    for e in items:
        window = (e.text or "").lower()
        if text and e.span:
            window = text[max(0, e.span[0] - 60) : e.span[1] + 40].lower()
        if _has_word(window, t.cancer_types["bone_tropic"].words):
            kinds.add("bone_tropic")
        elif _has_word(window, t.cancer_types["low_risk"].words):
            kinds.add("low_risk")
        else:
            kinds.add("unspecified")
    if "bone_tropic" in kinds:
        return "bone_tropic"
    return "unspecified" if "unspecified" in kinds else "low_risk"


@lru_cache(maxsize=64)
def _word_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")", re.I)


def _has_word(window: str, words: list[str]) -> bool:
    return bool(_word_regex(tuple(words)).search(window))


def derive_findings(
    es: EvidenceSet,
    imaging_present: set[str] | None = None,
    *,
    imaging: list[ImagingFinding] | None = None,
    text: str | None = None,
) -> EvidenceSet:
    """Add derived (composite) findings to an evidence set and return a new set."""
    t = load_thresholds()
    derived: list[dict[str, Any]] = []  # the derived items' fields, built as models at the end
    present = es.present_ids()

    def add(fid: str, choice: Choice, side: str | None = None) -> None:
        # ids and sides here are already valid, and this runs ~40 times a case
        # ids, choices and sides here are already valid (sides come from validated evidence)
        derived.append(
            {
                "id": fid,
                "choice": choice,
                "side": side,
                "value": None,
                "span": None,
                "text": None,
                "source": "derived",
                "history": False,
                "cue_spans": [],
                "confidence": None,
            }
        )

    def side_of(ids: tuple[str, ...]) -> str | None:
        sides = _sides(es, ids)
        if not sides:
            return None
        if _both(sides):
            return "bilateral"
        return next(iter(sides))

    neuro_normal = "neuro_exam_normal" in present
    axial_only = "axial_pain_only" in present

    # Pain in the thigh alone, above the knee, with no root sign is referred (somatic) pain from
    # the spine (Quebec Task Force class 2), not radicular: "P2 buttock to posterior thigh".
    referred_only = not _any(es, _BEYOND_THIGH) and not _any(es, TENSION + MOTOR + REFLEX + SENSORY)
    if _any(es, RADICULAR_PAIN) and not referred_only:
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
    leg_weak = _any(es, MOTOR) or _any(es, LEG_WEAK_WORDS)
    if leg_weak:
        add("leg_weakness_any", Choice.present, side_of(MOTOR + LEG_WEAK_WORDS))
    elif neuro_normal or _all_absent(es, ("leg_weakness_reported", "bilateral_leg_weakness")):
        add("leg_weakness_any", Choice.absent)
    motor_sides = _sides(es, (*MOTOR, "leg_weakness_reported"))
    if _both(motor_sides) and not es.present("bilateral_leg_weakness"):
        add("bilateral_leg_weakness", Choice.present, "bilateral")

    age = es.value("age")
    if age is not None:
        for cut in t.age:
            add(cut.id, Choice.present if cut.holds(age) else Choice.absent)
    days = es.value("symptom_duration_days")
    if days is not None:
        for cut in t.duration:
            add(cut.id, Choice.present if cut.holds(days) else Choice.absent)

    # numbness or tingling the patient reports counts too ("numb legs", "pins and needles in both feet")
    lateral_ids = RADICULAR_PAIN + MOTOR + REFLEX + SENSORY + TENSION + (
        "buttock_pain", "leg_numbness", "paresthesia"
    )  # fmt: skip
    sides = _sides(es, lateral_ids)
    if _both(sides) or _any(es, ("bilateral_leg_pain", "bilateral_leg_weakness")):
        add("bilateral_symptoms", Choice.present)
    if _both(_sides(es, REFLEX)):
        add("bilateral_reflex_loss", Choice.present)
    if _any(es, SPHINCTER):
        add("sphincter_or_saddle", Choice.present)
    elif _all_absent(es, SPHINCTER):
        add("sphincter_or_saddle", Choice.absent)
    if _any(es, ("crp", "esr")):
        add("inflammatory_markers_raised", Choice.present)
    elif _all_absent(es, ("crp", "esr")):
        add("inflammatory_markers_raised", Choice.absent)
    cancer = _cancer_risk(es, text, t)
    if cancer is not None:
        add("known_cancer", Choice.present)
        if cancer != "low_risk":
            add("cancer_history_relevant", Choice.present)
        if cancer == "bone_tropic":
            add("cancer_bone_tropic", Choice.present)
    elif es.absent("history_of_cancer"):
        add("known_cancer", Choice.absent)
    if _any(es, ("fever", "night_sweats", "weight_loss")):
        add("systemic_features", Choice.present)
    elif _all_absent(es, ("fever", "night_sweats", "weight_loss"), at_least=2):
        add("systemic_features", Choice.absent)
    if _any(es, NONSPINAL):
        add("nonspinal_pattern", Choice.present)
    if _any(es, FEVER) and _any(es, FEVER_NEURO):
        add("fever_with_neuro_deficit", Choice.present)

    img_ids: set[str] = set(imaging_present or ())
    derived_img: set[str] = set()
    if imaging is not None:
        derived_img = imaging_evidence_ids(imaging, t.number("aneurysm_large_mm"), text)
        img_ids |= {f"img:{f.finding}" for f in imaging if not f.negated}
    else:
        derived_img = {
            f"img_{i[4:]}" for i in img_ids if i.startswith("img:")
        }  # legacy callers pass only the ids
    if img_ids & set(SIGNIFICANT_IMAGING):
        add("imaging_significant", Choice.present)
    for fid in sorted(derived_img):
        add(fid, Choice.present)

    for cut in t.labs:
        value = es.value(cut.lab or "")
        if value is not None and cut.holds(value):
            add(cut.id, Choice.present)
    if _bilateral_sciatica(es):
        add("bilateral_sciatica", Choice.present, "bilateral")
    if es.present("knee_extension_weakness") and es.absent("hip_adduction_weakness"):
        add("hip_adduction_preserved", Choice.present)

    # Triage composites (red_flags.yaml): a deficit that is new, and weakness that is worsening.
    chronic = es.present("chronic_course") or es.present("improving_course")
    deficit = leg_weak or _any(es, SENSORY_SYMPTOMS) or any_deficit
    if deficit and not chronic:
        add("new_deficit", Choice.present)
    # Worsening weakness: stated as such, or weakness the patient reports with a worsening course
    # (progressive pain alone beside a stable graded weakness does not count).
    worsening = es.present("progressive_symptoms") and not es.present("improving_course")
    if worsening:
        add("worsening_course", Choice.present)
    if es.present("rapidly_progressive_weakness") or (
        es.present("leg_weakness_reported") and worsening
    ):
        add("progressive_weakness", Choice.present)
    max_days = t.number("rapid_progression_max_days")
    if (
        es.present("rapidly_progressive_weakness")
        and not chronic
        and (days is None or days <= max_days)
    ):
        add("weakness_worsening_over_days", Choice.present)
    spinal_pain = _any(es, (*SPINAL_PAIN, "abdominal_pain", "loin_to_groin_pain"))
    explained = _any(
        es, ("radicular_pain_below_knee", "nonspinal_pattern", *TENSION, *MOTOR, *REFLEX)
    ) or bool(
        img_ids & set(SIGNIFICANT_IMAGING)
    )  # a sensory change alone does not explain new pain (an aneurysm can compress a nerve)
    new_episode = not es.present("chronic_course") or es.present("sudden_onset")
    if spinal_pain and not explained and new_episode:
        add("back_pain_without_spinal_cause", Choice.present)
    if _any(es, ANTITHROMBOTIC) and _any(es, ("severe_pain", "sudden_onset", "tearing_pain")):
        add("antithrombotic_acute_severe_pain", Choice.present)
    return EvidenceSet(items=es.items + build_models(Evidence, derived, _EVIDENCE_FIELDS))


def _bilateral_sciatica(es: EvidenceSet) -> bool:
    """Radicular pain or root signs on both sides (not reflexes alone), outside claudication."""
    if _any(es, CLAUDICATION):
        return False
    # New, or an acute worsening of long-standing leg pain, counts; stable chronic pain does not.
    if es.present("chronic_course") and not _any(
        es, ("sudden_onset", "rapidly_progressive_weakness")
    ):
        return False
    return _both(_sides(es, SCIATICA_SIDES)) or es.present("bilateral_leg_pain")
