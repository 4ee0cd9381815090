"""The one entry point: a presentation in, an `Assessment` out (pure; no I/O)."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spineguide.errors import InputError, InputTooLargeError
from spineguide.reasoning.derive import derive_findings
from spineguide.reasoning.differential import (
    EXPLAINED_DIAGNOSES,
    DiagnosisResult,
    must_not_miss_section,
    rank_differential,
    subtype_for,
)
from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
from spineguide.reasoning.fastmodel import build_model, field_names
from spineguide.reasoning.localization import Localization, localize
from spineguide.reasoning.plan import CarePlan, build_plan
from spineguide.reasoning.questions import NextQuestion, next_questions
from spineguide.reasoning.triage import Triage, decide_urgency, evaluate_rules
from spineguide.reasoning.workup import Workup, build_workup
from spineguide.text.models import ImagingFinding
from spineguide.text.pipeline import imaging_segment  # noqa: F401  (kept importable from here)

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase

DISCLAIMER = (
    "SpineGuide supports, and does not replace, the judgement of a qualified clinician. "
    "Check every suggestion against the full clinical picture."
)
MAX_TEXT = 100_000
Setting = Literal["primary", "emergency", "spine-clinic"]


class PatientFactors(BaseModel):
    """Patient factors used by the medication checks."""

    model_config = ConfigDict(extra="forbid")

    age: float | None = Field(None, ge=0, le=120)
    sex: Literal["male", "female"] | None = None
    egfr: float | None = Field(None, ge=0, le=200)
    liver_disease: bool = False
    pregnant: bool = False
    trimester: int | None = Field(None, ge=1, le=3)
    conditions: list[str] = Field(default_factory=list)
    falls_history: bool = False


class CaseInput(BaseModel):
    """A presentation: free text and/or structured evidence, imaging text and medicines."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    imaging_report: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    age: float | None = Field(None, ge=0, le=120)
    sex: Literal["male", "female"] | None = None
    medications: list[Any] = Field(default_factory=list)
    patient: PatientFactors = Field(default_factory=PatientFactors)
    setting: Setting = "primary"

    @field_validator("text", "imaging_report")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_TEXT:
            raise ValueError(f"text longer than {MAX_TEXT} characters")
        return value

    @model_validator(mode="after")
    def _something(self) -> CaseInput:
        if (
            not (self.text and self.text.strip())
            and not self.evidence
            and not (self.imaging_report and self.imaging_report.strip())
        ):
            raise ValueError("give a presentation: `text`, `evidence` or `imaging_report`")
        return self


class SourceRef(BaseModel):
    """A cited source."""

    id: str
    title: str
    kind: str


_SOURCE_FIELDS = field_names(SourceRef)


class Assessment(BaseModel):
    """Everything SpineGuide concludes about one presentation (the only reasoning output)."""

    id: str
    created: datetime
    kb_version: str
    setting: str
    disclaimer: str = DISCLAIMER
    triage: Triage
    localization: Localization
    differential: list[DiagnosisResult]
    imaging: list[ImagingFinding] = Field(default_factory=list)
    workup: Workup
    plan: CarePlan
    medication_alerts: list[dict[str, Any]] = Field(default_factory=list)
    medication_report: dict[str, Any] | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    next_questions: list[NextQuestion] = Field(
        default_factory=list,
        description="unanswered findings that would most change the urgency or leading diagnosis",
    )
    medications_in_note: list[dict[str, Any]] = Field(
        default_factory=list,
        description="medicines named in the note (name, drug_id, classes, negated, historical)",
    )
    must_not_miss: list[str] = Field(
        default_factory=list,
        description="must-not-miss diagnosis ids still on the list, most urgent first "
        "(a view beside the probability ranking, which it does not reorder)",
    )


_NEGATION_BEFORE = re.compile(
    r"(?:\bno|\bnot|\bnil|\bdenies|\bdenied|\bwithout|\bnegative for|\bfree of)\b[^.;:\n]{0,40}$",
    re.I,
)


def _negated_mention(text: str, span: tuple[int, int]) -> bool:
    """True when an uninterpreted mention sits in a negated list ("no fever, no numbness")."""
    return bool(_NEGATION_BEFORE.search(text[max(0, span[0] - 45) : span[0]]))


def _structured_evidence(case: CaseInput) -> list[Evidence]:
    items = list(case.evidence)
    if case.age is not None:
        items.append(Evidence(id="age", value=case.age))
    if case.sex:
        items.append(Evidence(id=f"sex_{case.sex}"))
    return items


def assess(
    case: CaseInput | dict[str, Any] | str,
    kb: KnowledgeBase | None = None,
    detail: Literal["summary", "full"] = "summary",
) -> Assessment:
    """Assess one presentation: triage, localisation, differential, work-up, plan and med checks.

    `detail="summary"` (the default) ranks every diagnosis but explains (evidence for and
    against) only the leading ones and the must-not-miss ones; `"full"` explains all of them.
    """
    from spineguide.knowledge.loader import get_kb
    from spineguide.text.pipeline import extract

    if detail not in ("summary", "full"):
        raise InputError(f"unknown detail {detail!r}", "use 'summary' or 'full'")
    kb = kb or get_kb()
    if isinstance(case, str):
        case = CaseInput(text=case)
    elif isinstance(case, dict):
        try:
            case = CaseInput.model_validate(case)
        except Exception as exc:  # pydantic ValidationError → actionable message
            raise InputError(f"invalid case: {exc}", "see `spineguide assess --help`") from exc
    warnings: list[str] = []
    for e in case.evidence:
        if e.id not in kb.findings:
            raise InputError(
                f"unknown evidence id {e.id!r}",
                "use finding ids from `spineguide kb list findings`",
            )
    items = _structured_evidence(case)
    text = case.text or ""
    if len(text) > MAX_TEXT:
        raise InputTooLargeError(f"text is {len(text)} characters; limit {MAX_TEXT}")
    imaging: list[ImagingFinding] = []
    note_meds: list[Any] = []
    uninterpreted = False
    if text.strip():
        extraction = extract(text, kind="note")
        if extraction.setting and "setting" not in case.model_fields_set:
            # "seen in ED", "A&E": the note says where the patient is; a stated setting wins.
            case = case.model_copy(update={"setting": extraction.setting})
        answered = {
            e.id for e in case.evidence
        }  # a clinician's explicit answer wins over the reader
        items += [e for e in extraction.evidence if e.id not in answered]
        imaging += extraction.imaging
        note_meds = list(extraction.medications)
        if note_meds:
            items += _medication_evidence(note_meds, {e.id for e in items})
        for u in extraction.uninterpreted:
            if _negated_mention(text, u.span):
                continue  # "no numbness": nothing to act on, and no finding to misread
            uninterpreted = True
            warnings.append(f'Not interpreted ({u.reason}): "{u.text}" — check it yourself.')
    if case.imaging_report and case.imaging_report.strip():
        report = extract(case.imaging_report, kind="report")
        imaging += report.imaging
        for u in report.uninterpreted:
            uninterpreted = True
            warnings.append(f'Not interpreted in the report ({u.reason}): "{u.text}".')
    imaging_present = {f"img:{f.finding}" for f in imaging if not f.negated}
    es = derive_findings(EvidenceSet(items=items), imaging_present, imaging=imaging, text=text)
    if not any(e.choice == Choice.present for e in es.items) and not imaging:
        warnings.append(
            "No clinical findings were recognised; the assessment rests on priors only. "
            "Add history, examination and red-flag answers."
        )
    fired = evaluate_rules(es, kb)
    loc = localize(es, imaging, kb)
    fired_conditions = {r.condition: r.urgency.value for r in fired if r.condition}
    explain = EXPLAINED_DIAGNOSES if detail == "summary" else None
    differential = rank_differential(
        es, imaging, loc, case.setting, fired_conditions, kb, explain=explain
    )
    if imaging:  # without imaging every diagnosis keeps the subtype it has
        for dx in differential[:5]:
            dx.subtype, dx.subtype_reason = subtype_for(dx, imaging, kb)
    triage = decide_urgency(fired, differential, es, kb, uninterpreted=uninterpreted)
    workup = build_workup(differential, triage, es, bool(imaging), kb)
    med_alerts, med_report, drug_alerts = _medications(case, es, kb, note_meds)
    leading = next((d for d in differential if not d.must_not_miss), None)
    plan_dx = differential[0].id if differential and differential[0].must_not_miss else (
        leading.id if leading else None
    )  # fmt: skip
    plan = build_plan(plan_dx, kb, drug_alerts)
    sources = _collect_sources(triage, differential, workup, kb)
    return Assessment(
        id=str(uuid.uuid4()),
        created=datetime.now(UTC),
        kb_version=kb.version,
        setting=case.setting,
        triage=triage,
        localization=loc,
        differential=differential,
        imaging=imaging,
        workup=workup,
        plan=plan,
        medication_alerts=med_alerts,
        medication_report=med_report,
        evidence=[e for e in es.items if e.source != "derived"],
        sources=sources,
        warnings=warnings,
        next_questions=next_questions(es, triage, differential, kb),
        medications_in_note=[m.model_dump(mode="json") for m in note_meds],
        must_not_miss=[d.id for d in must_not_miss_section(differential, fired_conditions)],
    )


# Medicine class (text pipeline) → the history finding it establishes for triage.
MED_CLASS_EVIDENCE = {
    "anticoagulant": "anticoagulant_use",
    "antiplatelet": "antiplatelet_use",
    "corticosteroid": "long_term_steroid_use",
    "immunosuppressant": "immunosuppression",
}


def _current(m: Any) -> bool:
    return not getattr(m, "negated", False) and not getattr(m, "historical", False)


def _medication_evidence(meds: list[Any], already: set[str]) -> list[Evidence]:
    """History findings implied by current medicines named in the note (e.g. an anticoagulant)."""
    out: list[Evidence] = []
    for m in meds:
        if not _current(m):
            continue
        for cls in m.classes:
            fid = MED_CLASS_EVIDENCE.get(cls)
            if fid and fid not in already:
                already.add(fid)
                out.append(Evidence(id=fid, span=m.span, text=m.name, source="text"))
    return out


def _medications(
    case: CaseInput, es: EvidenceSet, kb: KnowledgeBase, note_meds: list[Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, list[str]]]:
    """Run the medication safety checks for the patient in hand (listed and note medicines)."""
    from spineguide.reasoning import medsafety

    patient = case.patient
    age = patient.age
    if age is None:
        age = case.age if case.age is not None else es.value("age")
    egfr = patient.egfr if patient.egfr is not None else es.value("egfr")
    factors = medsafety.PatientFactors(  # the factors both models share, validated once
        age=age,
        egfr=egfr,
        liver_disease=patient.liver_disease,
        pregnant=patient.pregnant,
        trimester=patient.trimester,
        conditions=list(patient.conditions),
        falls=patient.falls_history,
    )
    report = None
    alerts: list[dict[str, Any]] = []
    listed = list(case.medications)
    taking: dict[str, str] = {}  # drug id → how we know the patient takes it
    for m in note_meds or []:
        if not _current(m):
            continue
        if m.drug_id:
            taking.setdefault(m.drug_id, "named in the note")
        if not any(_same_drug(m.name, x) for x in listed):
            listed.append(m.name)
    if listed:
        meds = []
        for i, m in enumerate(listed):
            if isinstance(m, str):
                meds.append(m)
                continue
            try:
                meds.append(medsafety.MedicationOrder.model_validate(m))
            except ValidationError as exc:
                raise InputError(
                    f"medications[{i}] is not a valid medication: {exc.errors()[0]['msg']}",
                    'give a sig string ("naproxen 500 mg bd") or an object with "name"',
                ) from exc
        result = medsafety.check_medications(meds, factors, kb)
        report = result.model_dump(mode="json")
        alerts = report.get("alerts", [])
    # Cache key: whole years of age and whole mL/min of kidney function (floored, so a value just
    # under a threshold stays under it); the other factors are exact.
    floored = {
        k: float(math.floor(v))
        for k in ("age", "egfr", "crcl")
        if (v := getattr(factors, k, None)) is not None
    }
    # every factor's value (lists as tuples), the floored ones floored: equal keys, equal profiles
    keyed = tuple(
        floored.get(k, tuple(v) if isinstance(v, list) else v) for k, v in factors.__dict__.items()
    )

    def keyed_factors() -> medsafety.PatientFactors:
        return factors.model_copy(update=floored)

    tier = _tier_alerts(keyed, keyed_factors, kb)
    for m in case.medications:
        name = m if isinstance(m, str) else (m.get("name") if isinstance(m, dict) else None)
        drug_id = _resolve_drug(name, kb) if name else None
        if drug_id:
            taking.setdefault(drug_id, "on the medication list")
    if taking:
        tier = {k: list(v) for k, v in tier.items()}
        for drug_id, how in taking.items():
            tier.setdefault(drug_id, []).insert(0, f"The patient already takes this ({how}).")
        for drug_id, messages in _current_drug_interactions(
            keyed, keyed_factors, frozenset(taking), kb
        ).items():
            tier.setdefault(drug_id, []).extend(messages)
    return alerts, report, tier


_INTERACTION_CACHE: dict[tuple[str, tuple[Any, ...], frozenset[str]], dict[str, list[str]]] = {}


def _plan_candidates(kb: KnowledgeBase) -> list[str]:
    seeds = {s.id for s in kb.sources.values() if s.kind.value == "seed_article"}
    return [
        d.id for d in kb.drugs.values() if any(st.source in seeds for st in d.article_statements)
    ]


def _current_drug_interactions(
    key: tuple[Any, ...],
    keyed_factors: Callable[[], Any],
    current: frozenset[str],
    kb: KnowledgeBase,
) -> dict[str, list[str]]:
    """Plan drug id → interaction alerts with the medicines the patient already takes (cached)."""
    from spineguide.reasoning import medsafety

    cache_key = (kb.version, key, current)
    cached = _INTERACTION_CACHE.get(cache_key)
    if cached is not None:
        return cached
    candidates = [d for d in _plan_candidates(kb) if d not in current]
    names = [kb.drugs[d].name for d in sorted(current) if d in kb.drugs]
    out: dict[str, list[str]] = {}
    if names and candidates:
        orders = names + [kb.drugs[d].name for d in candidates]
        factors = keyed_factors()
        try:
            report = medsafety.check_medications(orders[: medsafety.MAX_MEDICATIONS], factors, kb)
        except InputError:
            report = None
        for alert in report.alerts if report else []:
            if alert.kind not in ("interaction", "same_drug", "count", "cumulative"):
                continue
            involved = set(alert.drugs)
            taken = involved & current
            if not taken:
                continue
            with_names = ", ".join(kb.drugs[t].name for t in sorted(taken) if t in kb.drugs)
            for drug_id in involved - current:
                out.setdefault(drug_id, []).append(
                    f"With {with_names}, which the patient takes: {alert.message}"
                )
    if len(_INTERACTION_CACHE) > 256:
        _INTERACTION_CACHE.clear()
    _INTERACTION_CACHE[cache_key] = out
    return out


def _same_drug(name: str, listed: Any) -> bool:
    other = listed if isinstance(listed, str) else (
        listed.get("name", "") if isinstance(listed, dict) else ""
    )  # fmt: skip
    return bool(other) and name.lower().split()[0] in other.lower()


def _resolve_drug(name: str, kb: KnowledgeBase) -> str | None:
    """The knowledge-base drug id for a medicine name or sig string (None when unknown)."""
    first = name.strip().lower().split()[0] if name.strip() else ""
    for d in kb.drugs.values():
        names = {d.id.lower(), d.name.lower(), *(x.lower() for x in d.aliases)}
        if first in names:
            return d.id
    return None


_TIER_CACHE: dict[tuple[str, tuple[Any, ...]], dict[str, list[str]]] = {}


def _tier_alerts(
    key: tuple[Any, ...], keyed_factors: Callable[[], Any], kb: KnowledgeBase
) -> dict[str, list[str]]:
    """Drug id → alert messages for the plan's drug tier (cached per patient-factor profile)."""
    from spineguide.reasoning import medsafety

    cache_key = (kb.version, key)
    cached = _TIER_CACHE.get(cache_key)
    if cached is not None:
        return cached
    factors = keyed_factors()
    seeds = {s.id for s in kb.sources.values() if s.kind.value == "seed_article"}
    drug_ids = [
        d.id for d in kb.drugs.values() if any(st.source in seeds for st in d.article_statements)
    ]
    tier: dict[str, list[str]] = {}
    for alert in medsafety.drug_tier_alerts(drug_ids, factors, kb):
        for drug_id in alert.drugs:
            tier.setdefault(drug_id, []).append(alert.message)
    if len(_TIER_CACHE) > 1024:
        _TIER_CACHE.clear()
    _TIER_CACHE[cache_key] = tier
    return tier


def _collect_sources(
    triage: Triage, differential: list[DiagnosisResult], workup: Workup, kb: KnowledgeBase
) -> list[SourceRef]:
    ids: list[str] = []
    for r in triage.red_flags:
        ids += r.sources
    for d in differential[:5]:
        ids += [c.source for c in d.evidence_for + d.evidence_against if c.source]
        cond = kb.conditions.get(d.id)
        if cond:
            ids += cond.sources[:3]
    for bucket in (workup.now, workup.if_no_improvement, workup.not_recommended):
        for item in bucket:
            ids += item.sources
    info = _source_info(kb)
    out = []
    for sid in dict.fromkeys(ids):
        got = info.get(sid)
        if got:  # values from the validated KB: no second validation
            out.append(
                build_model(SourceRef, {"id": sid, "title": got[0], "kind": got[1]}, _SOURCE_FIELDS)
            )
    return out


_SOURCE_INFO: dict[str, dict[str, tuple[str, str]]] = {}


def _source_info(kb: KnowledgeBase) -> dict[str, tuple[str, str]]:
    """Source id → (title, kind), once per KB version (an enum's value is a Python property)."""
    got = _SOURCE_INFO.get(kb.version)
    if got is None:
        got = _SOURCE_INFO[kb.version] = {
            sid: (src.title, src.kind.value) for sid, src in kb.sources.items()
        }
    return got
