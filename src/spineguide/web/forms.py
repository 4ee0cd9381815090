"""The clinician assessment form: its fields, form data -> CaseInput, and free text -> form values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spineguide.reasoning.evidence import Choice, Evidence

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.assess import CaseInput

SIDES = ("left", "right")
# Finding ids the form offers (labels come from the knowledge base).
RED_FLAGS = (
    "saddle_anesthesia", "urinary_retention", "urinary_incontinence", "bladder_dysfunction",
    "bowel_incontinence", "sexual_dysfunction", "bilateral_sciatica", "rapidly_progressive_weakness",
    "reduced_anal_tone", "fever", "night_sweats", "weight_loss", "night_pain", "constant_pain",
    "thoracic_pain", "severe_trauma", "history_of_cancer", "immunosuppression", "injecting_drug_use",
    "anticoagulant_use", "long_term_steroid_use", "osteoporosis", "tearing_pain",
)  # fmt: skip
HISTORY = (
    "low_back_pain", "onset_after_lifting", "pain_worse_sitting", "pain_cough_sneeze",
    "neurogenic_claudication", "foot_drop",
)  # fmt: skip
PAIN_AREAS = (
    "groin_pain", "anterior_thigh_pain", "medial_thigh_pain", "knee_pain_anterior",
    "medial_leg_pain", "buttock_pain", "posterior_thigh_pain", "lateral_leg_pain",
    "posterior_calf_pain", "dorsal_foot_pain", "sole_lateral_foot_pain",
)  # fmt: skip
SENSORY_AREAS = (
    "sensory_loss_groin", "sensory_loss_anterior_thigh", "sensory_loss_medial_knee",
    "sensory_loss_medial_leg", "sensory_loss_lateral_leg", "sensory_loss_dorsal_foot",
    "sensory_loss_lateral_foot", "sensory_loss_posterior_leg",
)  # fmt: skip
MUSCLES = (
    "hip_flexion_weakness", "hip_adduction_weakness", "knee_extension_weakness",
    "ankle_dorsiflexion_weakness", "great_toe_extension_weakness", "foot_eversion_weakness",
    "hip_abduction_weakness", "knee_flexion_weakness", "plantarflexion_weakness",
)  # fmt: skip
REFLEXES = ("patellar_reflex_reduced", "achilles_reflex_reduced")
TENSION = (("slr", "slr_positive", "Straight leg raise"),
           ("femoral", "femoral_stretch_positive", "Femoral nerve stretch"))  # fmt: skip
LABS = ("crp", "esr", "wbc", "hemoglobin", "egfr")
MRC_OPTIONS = ("", "5", "4", "3", "2", "1", "0", "weak")
REFLEX_OPTIONS = ("", "normal", "reduced", "absent")
TENSION_OPTIONS = ("", "negative", "positive")
AREA_OPTIONS = ("", "left", "right", "bilateral")


@dataclass
class FormSpec:
    """Field definitions with knowledge-base labels, for the template."""

    red_flags: list[tuple[str, str]] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    pain_areas: list[tuple[str, str]] = field(default_factory=list)
    sensory_areas: list[tuple[str, str]] = field(default_factory=list)
    muscles: list[tuple[str, str]] = field(default_factory=list)
    reflexes: list[tuple[str, str]] = field(default_factory=list)
    tension: list[tuple[str, str, str]] = field(default_factory=list)
    labs: list[tuple[str, str, str]] = field(default_factory=list)


def _label(kb: KnowledgeBase, fid: str) -> str:
    f = kb.findings[fid]
    return f.name


def form_spec(kb: KnowledgeBase) -> FormSpec:
    """The form's fields, limited to finding ids the knowledge base knows."""

    def pick(ids: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(i, _label(kb, i)) for i in ids if i in kb.findings]

    muscles = []
    for fid in MUSCLES:
        if fid in kb.findings:
            name = kb.findings[fid].name.split(" weakness")[0].split(" (")[0]
            muscles.append((fid, name))
    return FormSpec(
        red_flags=pick(RED_FLAGS),
        history=pick(HISTORY),
        pain_areas=pick(PAIN_AREAS),
        sensory_areas=pick(SENSORY_AREAS),
        muscles=muscles,
        reflexes=[
            (i, _label(kb, i).replace("Reduced or absent ", "").capitalize())
            for i in REFLEXES
            if i in kb.findings
        ],
        tension=[t for t in TENSION if t[1] in kb.findings],
        labs=[
            (i, kb.findings[i].name, kb.findings[i].value_unit or "")
            for i in LABS
            if i in kb.findings
        ],
    )


class FormError(ValueError):
    """A form value that cannot be used (shown next to the form and next to its field)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _number(data: dict[str, str], key: str, lo: float, hi: float, label: str) -> float | None:
    raw = (data.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FormError(f"{label} must be a number (got {raw[:20]!r}).", key) from None
    if not lo <= value <= hi:
        raise FormError(f"{label} must be between {lo:g} and {hi:g}.", key)
    return value


def _area_evidence(fid: str, value: str) -> list[Evidence]:
    if value in ("left", "right", "bilateral"):
        return [Evidence(id=fid, side=value)]
    if value == "present":
        return [Evidence(id=fid)]
    return []


def case_from_form(data: dict[str, str], kb: KnowledgeBase) -> CaseInput:
    """Build the CaseInput from submitted form values (raises FormError on bad values)."""
    from spineguide.reasoning.assess import CaseInput

    spec = form_spec(kb)
    ev: list[Evidence] = []
    for fid, _ in spec.red_flags + spec.history:
        if data.get(f"f__{fid}"):
            ev.append(Evidence(id=fid))
    weeks = _number(data, "duration_weeks", 0, 520, "Duration")
    if weeks is not None:
        ev.append(Evidence(id="symptom_duration_days", value=weeks * 7))
    for fid, _ in spec.pain_areas + spec.sensory_areas:
        ev += _area_evidence(fid, data.get(f"area__{fid}", ""))
    for fid, label in spec.muscles:
        for side in SIDES:
            grade = data.get(f"mrc__{fid}__{side}", "")
            if grade == "weak":
                ev.append(Evidence(id=fid, side=side))
            elif grade in ("0", "1", "2", "3", "4"):
                ev.append(Evidence(id=fid, side=side, value=float(grade)))
                if int(grade) <= 3 and "severe_weakness" in kb.findings:
                    ev.append(Evidence(id="severe_weakness", side=side))
            elif grade == "5":
                ev.append(Evidence(id=fid, side=side, choice=Choice.absent))
            elif grade:
                raise FormError(f"{label} ({side}): unknown MRC grade.", f"mrc__{fid}__{side}")
    for fid, _ in spec.reflexes:
        for side in SIDES:
            val = data.get(f"reflex__{fid}__{side}", "")
            if val in ("reduced", "absent"):
                ev.append(Evidence(id=fid, side=side))
            elif val == "normal":
                ev.append(Evidence(id=fid, side=side, choice=Choice.absent))
    for key, fid, label in spec.tension:
        for side in SIDES:
            val = data.get(f"{key}__{side}", "")
            if val == "positive":
                angle = _number(data, f"{key}_angle__{side}", 0, 120, f"{label} angle")
                ev.append(Evidence(id=fid, side=side, value=angle))
            elif val == "negative":
                ev.append(Evidence(id=fid, side=side, choice=Choice.absent))
    egfr = None
    for fid, name, _ in spec.labs:
        value = _number(data, f"lab__{fid}", 0, 10_000, name)
        if value is not None:
            ev.append(Evidence(id=fid, value=value))
            if fid == "egfr":
                egfr = value
    age = _number(data, "age", 0, 120, "Age")
    sex = data.get("sex") or None
    if sex not in (None, "male", "female"):
        raise FormError("Sex must be male or female.", "sex")
    setting = data.get("setting") or "primary"
    if setting not in ("primary", "emergency", "spine-clinic"):
        raise FormError("Unknown care setting.", "setting")
    meds = [line.strip() for line in (data.get("meds") or "").splitlines() if line.strip()]
    imaging = (data.get("imaging_report") or "").strip() or None
    note = (data.get("note") or "").strip()
    if not meds and note:
        meds = note_medicines(note, kb)  # the note's medicines reach the medication check
    text = None
    if not ev and note:
        text = note  # nothing structured: assess the free text itself
    if not ev and not imaging and not text:
        raise FormError(
            "Enter at least one finding, an imaging report, or a free-text presentation.", "note"
        )
    try:
        return CaseInput(
            text=text,
            imaging_report=imaging,
            evidence=ev,
            age=age,
            sex=sex,
            medications=meds,
            setting=setting,
            patient={"egfr": egfr} if egfr is not None else {},
        )
    except ValueError as exc:
        raise FormError(f"The form could not be read: {exc}") from None


def form_values_from_text(text: str, kb: KnowledgeBase) -> tuple[dict[str, str], list[str]]:
    """Run the clinical extractor on free text; return form values and what was recognised."""
    from spineguide.text.pipeline import extract, imaging_segment

    spec = form_spec(kb)
    flags = {fid for fid, _ in spec.red_flags + spec.history}
    areas = {fid for fid, _ in spec.pain_areas + spec.sensory_areas}
    muscles = {fid for fid, _ in spec.muscles}
    reflexes = {fid for fid, _ in spec.reflexes}
    tension = {fid: key for key, fid, _ in spec.tension}
    labs = {fid for fid, _, _ in spec.labs}
    values: dict[str, str] = {}
    recognised: list[str] = []
    for e in extract(text).evidence:
        if e.history:
            continue
        present = e.choice == Choice.present
        sides = ["left", "right"] if e.side in (None, "bilateral") else [e.side]
        used = True
        if e.id == "age" and e.value is not None:
            values["age"] = f"{e.value:g}"
        elif e.id in ("sex_male", "sex_female") and present:
            values["sex"] = e.id[4:]
        elif e.id == "symptom_duration_days" and e.value is not None:
            values["duration_weeks"] = f"{round(e.value / 7, 1):g}"
        elif e.id in flags and present:
            values[f"f__{e.id}"] = "on"
        elif e.id in areas and present:
            values[f"area__{e.id}"] = e.side or "bilateral"
        elif e.id in muscles:
            for side in sides:
                if not present:
                    values[f"mrc__{e.id}__{side}"] = "5"
                else:
                    values[f"mrc__{e.id}__{side}"] = (
                        f"{e.value:g}" if e.value is not None else "weak"
                    )
        elif e.id in reflexes:
            for side in sides:
                values[f"reflex__{e.id}__{side}"] = "reduced" if present else "normal"
        elif e.id in tension:
            key = tension[e.id]
            for side in sides:
                values[f"{key}__{side}"] = "positive" if present else "negative"
                if present and e.value is not None:
                    values[f"{key}_angle__{side}"] = f"{e.value:g}"
        elif e.id in labs and e.value is not None:
            values[f"lab__{e.id}"] = f"{e.value:g}"
        else:
            used = False
        if used:
            f = kb.findings.get(e.id)
            label = f.name if f else e.id
            side = f" ({e.side})" if e.side else ""
            recognised.append(("no " if not present else "") + label + side)
    segment = imaging_segment(text)
    if segment and segment.strip():
        values["imaging_report"] = segment.strip()
        recognised.append("imaging report text")
    meds = note_medicines(text, kb)
    if meds:
        values["meds"] = "\n".join(meds)
        recognised.append("medicines: " + "; ".join(meds))
    return values, recognised


_CLAUSE_SPLIT = re.compile(r"[.;\n]+|,\s*(?![\d/])|\band\b|\bplus\b|\+")
_NOT_TAKING = re.compile(
    r"\b(?:no|not on|not taking|nil|stopped|off|allerg\w*|intoleran\w*|previously|used to|"
    r"past|formerly|tried|failed|declined|avoid\w*|never)\b",
    re.IGNORECASE,
)


def note_medicines(text: str, kb: KnowledgeBase) -> list[str]:
    """Medicines the note says the patient takes now, as sig lines (negated and past ones left out).

    The one note reader (`text.pipeline.extract`) finds and qualifies the medicines; each sig
    runs from the medicine's name to the end of its clause ("ibuprofen 400 mg tds").
    """
    from spineguide.text.pipeline import extract

    out: list[str] = []
    seen: set[str] = set()
    for m in extract(text).medications:
        if m.negated or m.historical or m.drug_id is None or m.drug_id in seen:
            continue
        if m.drug_id not in kb.drugs:
            continue
        stop = _CLAUSE_SPLIT.search(text, m.span[1])
        end = stop.start() if stop else len(text)
        start = max((b.end() for b in _CLAUSE_SPLIT.finditer(text, 0, m.span[0])), default=0)
        if _NOT_TAKING.search(text, start, end):
            continue  # "allergic to", "tried … failed": not a medicine taken now
        seen.add(m.drug_id)
        out.append(text[m.span[0] : end].strip())
    return out
