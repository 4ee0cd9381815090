"""Medication safety: interactions, condition and organ rules, Beers criteria and dose ceilings.

Clinical content lives in ``knowledge/data/drugs.yaml`` (doses, organ rules, Beers rows) and
``knowledge/data/interactions.yaml`` (rules); this module only evaluates them. Every alert carries
source ids; nothing the checker cannot assess is dropped silently (see ``not_checked``).
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from spineguide.errors import InputError, KnowledgeBaseError
from spineguide.knowledge.loader import KnowledgeBase, get_kb, normalize_name
from spineguide.knowledge.schema import DoseLimit, Drug, OrganRule
from spineguide.text.sig import ParsedSig, parse_sig, resolve_drug

Severity = Literal["contraindicated", "major", "moderate", "minor"]
SEVERITY_RANK: dict[str, int] = {"contraindicated": 3, "major": 2, "moderate": 1, "minor": 0}
DoseStatus = Literal[
    "within_range",
    "above_article_dose",
    "above_label_default",
    "above_label_maximum",
    "renal_adjusted_max_exceeded",
    "hepatic_adjusted_max_exceeded",
    "duration_exceeded",
    "no_reference_limit",
]
_STATUS_RANK: dict[str, int] = {
    "no_reference_limit": 0,
    "within_range": 0,
    "above_article_dose": 1,
    "above_label_default": 2,
    "above_label_maximum": 3,
    "renal_adjusted_max_exceeded": 3,
    "hepatic_adjusted_max_exceeded": 3,
    "duration_exceeded": 3,
}
_STATUS_SEVERITY: dict[str, Severity] = {
    "above_article_dose": "minor",
    "above_label_default": "moderate",
    "above_label_maximum": "major",
    "renal_adjusted_max_exceeded": "major",
    "hepatic_adjusted_max_exceeded": "major",
    "duration_exceeded": "major",
}
MAX_MEDICATIONS = 50
# Gestational weeks spanned by each trimester (used when weeks are not given).
_TRIMESTER_WEEKS: dict[int, tuple[float, float]] = {1: (0, 13.9), 2: (14, 27.9), 3: (28, 42)}


# ---------------------------------------------------------------------------------------------
# Public input and output models
# ---------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatientFactors(_Model):
    """Patient facts that change which medicines and doses are safe."""

    age: float | None = Field(default=None, ge=0, le=130)
    weight_kg: float | None = Field(default=None, gt=0, le=500)
    egfr: float | None = Field(default=None, ge=0, le=250)  # mL/min/1.73 m2
    crcl: float | None = Field(default=None, ge=0, le=250)  # mL/min (preferred for dosing)
    liver_disease: bool = False
    child_pugh: Literal["A", "B", "C"] | None = None
    pregnant: bool = False
    trimester: int | None = Field(default=None, ge=1, le=3)
    gestational_weeks: float | None = Field(default=None, ge=0, le=45)
    falls: bool = False
    conditions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _imply(self) -> PatientFactors:
        if self.trimester is not None or self.gestational_weeks is not None:
            self.pregnant = True
        if self.child_pugh is not None:
            self.liver_disease = True
        return self

    def renal_function(self) -> float | None:
        """CrCl when given, else eGFR (used as the kidney-function value for all rules)."""
        return self.crcl if self.crcl is not None else self.egfr


class MedicationOrder(_Model):
    """One medication as structured data (or a sig string in ``sig``)."""

    name: str | None = None
    drug_id: str | None = None
    sig: str | None = None
    dose_mg: float | None = Field(default=None, ge=0)  # per administration, single ingredient
    strengths_mg: list[float] = Field(default_factory=list)  # per unit, combination products
    units_per_dose: float = Field(default=1, gt=0, le=100)
    frequency_per_day: float | None = Field(default=None, gt=0, le=48)
    daily_mg: float | None = Field(default=None, ge=0)
    prn: bool = False
    route: str | None = None
    duration_days: float | None = Field(default=None, ge=0, le=3650)

    @model_validator(mode="after")
    def _something(self) -> MedicationOrder:
        if not (self.name or self.drug_id or self.sig):
            raise ValueError("a medication needs a name, drug_id or sig")
        return self


class Alert(_Model):
    """One safety alert: what, how serious, which medicines, what to do, and the sources."""

    id: str
    rule: str
    kind: Literal[
        "interaction",
        "condition",
        "count",
        "cumulative",
        "same_drug",
        "organ",
        "beers",
        "pregnancy",
        "dose",
    ]
    severity: Severity
    title: str
    drugs: list[str]
    inputs: list[str] = Field(default_factory=list)
    message: str
    action: str
    sources: list[str]
    expert_estimate: bool = False


class DoseCheck(_Model):
    """The daily total of one ingredient (all products, one route) against its limits."""

    drug_id: str
    name: str
    route: str
    inputs: list[str]
    daily_mg: float
    incomplete: bool = False  # some products of this ingredient had no computable dose
    status: DoseStatus
    limit_mg: float | None = None
    limit_label: str | None = None
    source: str | None = None
    findings: list[str] = Field(default_factory=list)


class NotChecked(_Model):
    """Something that could not be checked, with the reason (never silently skipped)."""

    input: str
    scope: Literal["all", "dose", "condition", "renal"]
    reason: str


class ResolvedMedication(_Model):
    """How one input was understood."""

    input: str
    drug_id: str | None
    name: str | None
    route: str | None = None
    prn: bool = False
    daily_mg: dict[str, float] = Field(default_factory=dict)
    duration_days: float | None = None
    notes: list[str] = Field(default_factory=list)


class MedicationReport(_Model):
    """Result of a medication check."""

    medications: list[ResolvedMedication]
    alerts: list[Alert]
    dose_checks: list[DoseCheck]
    not_checked: list[NotChecked]
    sources: list[str]
    kb_version: str


# ---------------------------------------------------------------------------------------------
# Rule file models (interactions.yaml)
# ---------------------------------------------------------------------------------------------


class DrugMatch(_Model):
    """Which medications a rule slot accepts (any listed class or drug id)."""

    classes: list[str] = Field(default_factory=list)
    drugs: list[str] = Field(default_factory=list)


class PatientMatch(_Model):
    """Patient criteria a rule needs (all given fields must hold)."""

    age_at_least: float | None = None
    age_below: float | None = None
    egfr_below: float | None = None
    egfr_at_least: float | None = None
    conditions_any: list[str] = Field(default_factory=list)
    pregnant: bool | None = None
    gestational_weeks_at_least: float | None = None
    gestational_weeks_below: float | None = None
    stage_unknown_matches: bool = True  # does a pregnancy of unknown stage meet the week criteria?
    falls: bool | None = None


class SafetyRule(_Model):
    """One rule of interactions.yaml."""

    id: str
    kind: Literal["interaction", "condition", "count", "cumulative", "same_drug"]
    severity: Severity
    title: str
    match: list[DrugMatch] = Field(default_factory=list)
    patient: PatientMatch | None = None
    min_count: int | None = None
    ingredient: str | None = None
    min_products: int | None = None
    message: str
    action: str
    sources: list[str]
    expert_estimate: bool = False
    rationale: str | None = None
    supersedes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> SafetyRule:
        need = {"interaction": 2, "condition": 1, "count": 1}
        if self.kind in need and len(self.match) < need[self.kind]:
            raise ValueError(f"{self.kind} rule needs at least {need[self.kind]} match entries")
        if self.kind == "condition" and self.patient is None:
            raise ValueError("condition rule needs patient criteria")
        if self.kind == "count" and not self.min_count:
            raise ValueError("count rule needs min_count")
        if self.kind == "cumulative" and not (self.ingredient and self.min_products):
            raise ValueError("cumulative rule needs ingredient and min_products")
        if self.expert_estimate and not self.rationale:
            raise ValueError("expert_estimate needs a rationale")
        return self


class SourcedValue(_Model):
    """A number with a source id."""

    value: float
    source: str


class RuleFile(_Model):
    """The whole interactions.yaml file."""

    version: int
    low_dose_aspirin_max_mg: SourcedValue
    condition_vocabulary: dict[str, list[str]]
    rules: list[SafetyRule]


def load_rules(kb: KnowledgeBase) -> RuleFile:
    """Validate interactions.yaml against the KB (classes, drug ids, sources); cached on the KB."""
    cached = kb.raw.get("_medsafety_rules")
    if isinstance(cached, RuleFile):
        return cached
    raw = kb.raw.get("interactions")
    if raw is None:
        raise KnowledgeBaseError("interactions.yaml is missing from the knowledge base")
    try:
        rules = RuleFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError(f"interactions.yaml: {exc}") from exc
    classes = {c for d in kb.drugs.values() for c in d.classes}
    problems: list[str] = []
    seen: set[str] = set()
    ids = {r.id for r in rules.rules}
    for rule in rules.rules:
        if rule.id in seen:
            problems.append(f"duplicate rule id {rule.id}")
        seen.add(rule.id)
        for m in rule.match:
            problems += [f"{rule.id}: unknown class {c!r}" for c in m.classes if c not in classes]
            problems += [f"{rule.id}: unknown drug {d!r}" for d in m.drugs if d not in kb.drugs]
        problems += [
            f"{rule.id}: unknown source {s!r}" for s in rule.sources if s not in kb.sources
        ]
        problems += [
            f"{rule.id}: supersedes unknown {s!r}" for s in rule.supersedes if s not in ids
        ]
        if rule.ingredient and rule.ingredient not in kb.drugs:
            problems.append(f"{rule.id}: unknown ingredient {rule.ingredient!r}")
        if rule.patient:
            for c in rule.patient.conditions_any:
                if c not in rules.condition_vocabulary:
                    problems.append(f"{rule.id}: condition {c!r} not in condition_vocabulary")
    if rules.low_dose_aspirin_max_mg.source not in kb.sources:
        problems.append("low_dose_aspirin_max_mg: unknown source")
    if problems:
        raise KnowledgeBaseError("interactions.yaml: " + "; ".join(problems))
    kb.raw["_medsafety_rules"] = rules
    return rules


# ---------------------------------------------------------------------------------------------
# Internal working state
# ---------------------------------------------------------------------------------------------


class _Order:
    """One resolved medication with its rule-engine classes and daily dose per ingredient."""

    def __init__(self, index: int, label: str, drug: Drug, kb: KnowledgeBase) -> None:
        self.index = index
        self.label = label
        self.drug = drug
        self.route: str = drug.routes[0] if drug.routes else "oral"
        self.prn = False
        self.daily: dict[str, float] | None = None  # ingredient id -> mg/day
        self.single: dict[str, float] | None = None  # ingredient id -> mg per dose
        self.duration_days: float | None = None
        self.notes: list[str] = []
        self.set_drug(drug, kb)

    def set_drug(self, drug: Drug, kb: KnowledgeBase) -> None:
        self.drug = drug
        self.ingredients = list(drug.combination_of) or [drug.id]
        self.ids = {drug.id, *drug.combination_of}
        self.classes = set(drug.classes)
        for ing in drug.combination_of:
            if ing in kb.drugs:
                self.classes |= set(kb.drugs[ing].classes)

    def matches(self, m: DrugMatch) -> bool:
        return bool(self.classes.intersection(m.classes) or self.ids.intersection(m.drugs))


def _normalise_route(route: str | None) -> str | None:
    if not route:
        return None
    r = normalize_name(route).replace(" ", "_")
    aliases = {
        "po": "oral",
        "by_mouth": "oral",
        "iv": "iv_im",
        "im": "iv_im",
        "gel": "topical",
        "patch": "transdermal",
        "intravenous": "iv_im",
        "intramuscular": "iv_im",
    }
    return aliases.get(r, r)


def _from_sig(order: _Order, sig: ParsedSig, report: MedicationReport) -> None:
    order.prn = sig.prn
    order.duration_days = sig.duration_days
    if sig.route:
        order.route = sig.route
    daily = sig.max_daily_mg()
    single = sig.max_single_dose_mg()
    ingredients = order.ingredients
    if daily is None:
        reason = "; ".join(sig.problems) or "dose could not be computed"
        if sig.unit == "%":
            reason = "strength given as a percentage; no mg dose to check"
        report.not_checked.append(NotChecked(input=order.label, scope="dose", reason=reason))
        return
    if len(daily) != len(ingredients):
        if len(ingredients) > 1:
            reason = (
                f"{order.drug.name} has {len(ingredients)} ingredients; give each strength "
                "(e.g. 5/325 mg) to check the dose"
            )
        else:
            reason = "two strengths given for a single-ingredient drug"
        report.not_checked.append(NotChecked(input=order.label, scope="dose", reason=reason))
        return
    order.daily = dict(zip(ingredients, daily, strict=True))
    if single is not None:
        order.single = dict(zip(ingredients, single, strict=True))
    if sig.unit_assumed:
        order.notes.append("no unit given; the number was read as mg")


def _from_structured(order: _Order, med: MedicationOrder, report: MedicationReport) -> None:
    order.prn = med.prn
    order.duration_days = med.duration_days
    if med.route:
        order.route = _normalise_route(med.route) or order.route
    ingredients = order.ingredients
    if med.strengths_mg:
        if len(med.strengths_mg) != len(ingredients):
            report.not_checked.append(
                NotChecked(
                    input=order.label,
                    scope="dose",
                    reason="number of strengths does not match the drug's ingredients",
                )
            )
            return
        per_dose = [s * med.units_per_dose for s in med.strengths_mg]
    elif med.dose_mg is not None and len(ingredients) == 1:
        per_dose = [med.dose_mg * med.units_per_dose]
    else:
        per_dose = []
    if med.daily_mg is not None and len(ingredients) == 1:
        order.daily = {ingredients[0]: med.daily_mg}
    elif per_dose and med.frequency_per_day:
        order.daily = {
            i: d * med.frequency_per_day for i, d in zip(ingredients, per_dose, strict=True)
        }
    if per_dose:
        order.single = dict(zip(ingredients, per_dose, strict=True))
    if order.daily is None:
        report.not_checked.append(
            NotChecked(
                input=order.label,
                scope="dose",
                reason="no daily dose: give dose_mg and frequency_per_day, or daily_mg",
            )
        )


def _resolve(
    medications: list[str | MedicationOrder], kb: KnowledgeBase, report: MedicationReport
) -> list[_Order]:
    orders: list[_Order] = []
    for i, med in enumerate(medications):
        if isinstance(med, str):
            label = med.strip()
            if not label:
                report.not_checked.append(
                    NotChecked(input=med, scope="all", reason="empty medication text")
                )
                continue
            sig = parse_sig(label, kb)
            drug = kb.drugs.get(sig.drug_id) if sig.drug_id else None
            structured = None
        else:
            label = med.sig or med.name or med.drug_id or ""
            structured = med
            sig = parse_sig(med.sig, kb) if med.sig else None
            drug = None
            if med.drug_id:
                drug = kb.drugs.get(med.drug_id)
            if drug is None and med.name:
                drug, _ = resolve_drug(med.name, kb)
            if drug is None and sig is not None and sig.drug_id:
                drug = kb.drugs.get(sig.drug_id)
        if drug is None:
            report.medications.append(ResolvedMedication(input=label, drug_id=None, name=None))
            report.not_checked.append(
                NotChecked(
                    input=label,
                    scope="all",
                    reason="unknown drug, not checked: not in the SpineGuide drug list",
                )
            )
            continue
        order = _Order(i, label, drug, kb)
        if structured is not None and (
            structured.dose_mg is not None
            or structured.strengths_mg
            or structured.daily_mg is not None
            or not sig
        ):
            _from_structured(order, structured, report)
        elif sig is not None:
            _from_sig(order, sig, report)
        orders.append(order)
    # Aspirin at 325 mg/day or less is low-dose (antiplatelet), not an analgesic NSAID dose.
    threshold = load_rules(kb).low_dose_aspirin_max_mg.value
    low = kb.drugs.get("aspirin-low-dose")
    for o in orders:
        if (
            o.drug.id == "aspirin"
            and low is not None
            and o.daily
            and o.daily["aspirin"] <= threshold
        ):
            o.set_drug(low, kb)
            o.daily = {"aspirin-low-dose": o.daily["aspirin"]}
            o.single = {"aspirin-low-dose": o.single["aspirin"]} if o.single else None
    for o in orders:
        report.medications.append(
            ResolvedMedication(
                input=o.label,
                drug_id=o.drug.id,
                name=o.drug.name,
                route=o.route,
                prn=o.prn,
                daily_mg=dict(o.daily or {}),
                duration_days=o.duration_days,
                notes=list(o.notes),
            )
        )
    return orders


# ---------------------------------------------------------------------------------------------
# Patient criteria
# ---------------------------------------------------------------------------------------------


def _normalise_conditions(
    patient: PatientFactors, rules: RuleFile, report: MedicationReport | None
) -> set[str]:
    lookup: dict[str, str] = {}
    for canon, aliases in rules.condition_vocabulary.items():
        lookup[normalize_name(canon)] = canon
        for a in aliases:
            lookup[normalize_name(a)] = canon
    out: set[str] = set()
    for c in patient.conditions:
        canon = lookup.get(normalize_name(c))
        if canon:
            out.add(canon)
        elif report is not None:
            report.not_checked.append(
                NotChecked(
                    input=c,
                    scope="condition",
                    reason="condition not recognised; known: "
                    + ", ".join(sorted(rules.condition_vocabulary)),
                )
            )
    if patient.liver_disease:
        out.add("liver_disease")
    if patient.falls:
        out.add("falls")
    return out


def _with_condition_flags(patient: PatientFactors, conds: set[str]) -> PatientFactors:
    """Set the liver-disease and falls flags when they were given as named conditions."""
    update = {}
    if "liver_disease" in conds and not patient.liver_disease:
        update["liver_disease"] = True
    if "falls" in conds and not patient.falls:
        update["falls"] = True
    return patient.model_copy(update=update) if update else patient


def _week_bounds(patient: PatientFactors) -> tuple[float, float] | None:
    if patient.gestational_weeks is not None:
        return patient.gestational_weeks, patient.gestational_weeks
    if patient.trimester is not None:
        return _TRIMESTER_WEEKS[patient.trimester]
    return None


def _patient_matches(pm: PatientMatch | None, patient: PatientFactors, conds: set[str]) -> bool:
    if pm is None:
        return True
    age = patient.age
    if pm.age_at_least is not None and (age is None or age < pm.age_at_least):
        return False
    if pm.age_below is not None and age is not None and age >= pm.age_below:
        return False
    renal = patient.renal_function()
    if pm.egfr_below is not None:
        if renal is None:
            if not ("ckd" in conds and pm.egfr_below >= 60 and pm.egfr_at_least is None):
                return False
        elif renal >= pm.egfr_below:
            return False
    if pm.egfr_at_least is not None and (renal is None or renal < pm.egfr_at_least):
        return False
    if pm.conditions_any and not conds.intersection(pm.conditions_any):
        return False
    if pm.falls is not None and pm.falls != ("falls" in conds):
        return False
    if pm.pregnant is not None and pm.pregnant != patient.pregnant:
        return False
    bounds = _week_bounds(patient)
    if pm.gestational_weeks_at_least is not None:
        if not patient.pregnant:
            return False
        if bounds is None and not pm.stage_unknown_matches:
            return False
        if bounds is not None and bounds[1] < pm.gestational_weeks_at_least:
            return False
    below = pm.gestational_weeks_below
    return below is None or (patient.pregnant and bounds is not None and bounds[1] < below)


# ---------------------------------------------------------------------------------------------
# Rule evaluation
# ---------------------------------------------------------------------------------------------


def _alert(rule: SafetyRule, involved: list[_Order], extra: str = "") -> Alert:
    drugs = sorted({o.drug.id for o in involved})
    return Alert(
        id=f"{rule.id}:{'+'.join(drugs)}",
        rule=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        title=rule.title,
        drugs=drugs,
        inputs=[o.label for o in sorted(involved, key=lambda o: o.index)],
        message=rule.message.strip() + extra,
        action=rule.action.strip(),
        sources=list(rule.sources),
        expert_estimate=rule.expert_estimate,
    )


def _interaction(rule: SafetyRule, orders: list[_Order]) -> list[_Order]:
    candidates = [[o for o in orders if o.matches(m)] for m in rule.match]
    if any(not c for c in candidates):
        return []
    involved: dict[int, _Order] = {}
    for combo in itertools.product(*candidates):
        if len({o.index for o in combo}) < len(combo):
            continue
        if len({o.drug.id for o in combo}) < len(combo):
            continue
        involved.update({o.index: o for o in combo})
    return list(involved.values())


def _evaluate_rules(
    rules: RuleFile,
    orders: list[_Order],
    patient: PatientFactors,
    conds: set[str],
    kinds: set[str],
    kb: KnowledgeBase,
) -> list[tuple[Alert, set[int]]]:
    fired: list[tuple[Alert, set[int]]] = []
    for rule in rules.rules:
        if rule.kind not in kinds or not _patient_matches(rule.patient, patient, conds):
            continue
        if rule.kind == "interaction":
            involved = _interaction(rule, orders)
            if involved:
                fired.append((_alert(rule, involved), {o.index for o in involved}))
        elif rule.kind == "condition":
            for o in orders:
                if o.matches(rule.match[0]):
                    fired.append((_alert(rule, [o]), {o.index}))
        elif rule.kind == "count":
            hits = [o for o in orders if o.matches(rule.match[0])]
            if len({o.drug.id for o in hits}) >= (rule.min_count or 0):
                names = ", ".join(sorted({o.drug.name for o in hits}))
                fired.append((_alert(rule, hits, f" Here: {names}."), {o.index for o in hits}))
        elif rule.kind == "cumulative" and rule.ingredient:
            hits = [o for o in orders if rule.ingredient in o.ingredients]
            if len(hits) >= (rule.min_products or 2):
                total = sum((o.daily or {}).get(rule.ingredient, 0.0) for o in hits)
                unknown = any(o.daily is None for o in hits)
                extra = f" Total: {total:,.0f} mg/day" + (
                    " (at least; some doses unknown)." if unknown else "."
                )
                fired.append((_alert(rule, hits, extra), {o.index for o in hits}))
        elif rule.kind == "same_drug":
            by_id: dict[str, list[_Order]] = {}
            for o in orders:
                by_id.setdefault(o.drug.id, []).append(o)
            for group in by_id.values():
                if len(group) > 1:
                    fired.append((_alert(rule, group), {o.index for o in group}))
    # Drop alerts superseded by a stronger rule that fired on a superset of the same medications.
    rule_by_id = {r.id: r for r in rules.rules}
    keep: list[tuple[Alert, set[int]]] = []
    for alert, idx in fired:
        superseded = any(
            alert.rule in rule_by_id[other.rule].supersedes and idx <= other_idx
            for other, other_idx in fired
            if other is not alert
        )
        if not superseded:
            keep.append((alert, idx))
    return keep


def _organ_applies(rule: OrganRule, patient: PatientFactors) -> bool:
    if rule.kind == "renal":
        value = patient.renal_function()
        if value is None:
            return False
        if rule.crcl_below is not None and value >= rule.crcl_below:
            return False
        return not (rule.crcl_at_least is not None and value < rule.crcl_at_least)
    if not patient.liver_disease:
        return False
    if rule.child_pugh is not None:
        return patient.child_pugh == rule.child_pugh
    return rule.liver_disease


def _rule_sources(rule: OrganRule | DoseLimit) -> list[str]:
    return [rule.source] if rule.source else ["expert-team"]


def _drug_level_alerts(
    orders: list[_Order], patient: PatientFactors, conds: set[str], fired_rules: set[str]
) -> list[Alert]:
    """Organ (renal/hepatic) rules, Beers rows and pregnancy warnings for each medication."""
    alerts: list[Alert] = []
    seen: set[str] = set()
    for o in orders:
        drug = o.drug
        if drug.id in seen:
            continue
        seen.add(drug.id)
        labels = [x.label for x in orders if x.drug.id == drug.id]
        graded_unknown: list[OrganRule] = []
        for rule in drug.organ_rules:
            if (
                rule.kind == "hepatic"
                and rule.child_pugh
                and patient.liver_disease
                and not patient.child_pugh
            ):
                graded_unknown.append(rule)
                continue
            if not _organ_applies(rule, patient):
                continue
            if rule.action == "max_dose" and o.daily is not None:
                continue  # checked against the dose in _dose_checks
            severity: Severity = {"contraindicated": "contraindicated", "avoid": "major"}.get(
                rule.action, "moderate"
            )  # type: ignore[assignment]
            what = "kidney" if rule.kind == "renal" else "liver"
            alerts.append(
                Alert(
                    id=f"organ-{rule.kind}:{drug.id}",
                    rule=f"{drug.id}.organ_rules",
                    kind="organ",
                    severity=severity,
                    title=f"{drug.name}: {what} function rule ({rule.action.replace('_', ' ')})",
                    drugs=[drug.id],
                    inputs=labels,
                    message=rule.text,
                    action=_organ_action(rule),
                    sources=_rule_sources(rule),
                    expert_estimate=rule.expert_estimate,
                )
            )
        if graded_unknown:
            alerts.append(
                Alert(
                    id=f"organ-hepatic-grade:{drug.id}",
                    rule=f"{drug.id}.organ_rules",
                    kind="organ",
                    severity="moderate",
                    title=f"{drug.name}: dose depends on liver-disease severity",
                    drugs=[drug.id],
                    inputs=labels,
                    message=" ".join(r.text for r in graded_unknown),
                    action=(
                        "Give the Child-Pugh class to check the dose; "
                        "until then use the stricter limit."
                    ),
                    sources=sorted({s for r in graded_unknown for s in _rule_sources(r)}),
                    expert_estimate=any(r.expert_estimate for r in graded_unknown),
                )
            )
        if patient.age is not None and patient.age >= 65:
            for row in drug.beers:
                cond = (row.condition or "").lower()
                if row.table == "2":
                    severity = "moderate"
                elif row.table == "3":
                    needed = (
                        "falls" if "fall" in cond else "delirium" if "delirium" in cond else None
                    )
                    if needed is None or needed not in conds:
                        continue
                    severity = "major"
                elif row.table == "4":
                    severity = "minor"
                else:
                    continue  # tables 5 and 6 are applied as interaction and organ rules
                alerts.append(
                    Alert(
                        id=f"beers-{row.table}:{drug.id}"
                        + (f":{cond[:12]}" if row.table == "3" else ""),
                        rule=f"{drug.id}.beers",
                        kind="beers",
                        severity=severity,
                        title=f"{drug.name}: Beers criteria (age 65+), table {row.table}",
                        drugs=[drug.id],
                        inputs=labels,
                        message=row.recommendation,
                        action=(
                            "Prefer a safer alternative for an older adult, "
                            "or document why it is needed."
                        ),
                        sources=[row.source],
                    )
                )
        if patient.pregnant and not any(
            a.startswith("pregnancy-") for a in fired_rules_for(drug.id, fired_rules)
        ):
            for w in drug.warnings:
                if w.kind == "pregnancy":
                    alerts.append(
                        Alert(
                            id=f"pregnancy-warning:{drug.id}",
                            rule=f"{drug.id}.warnings",
                            kind="pregnancy",
                            severity="minor",
                            title=f"{drug.name}: pregnancy caution",
                            drugs=[drug.id],
                            inputs=labels,
                            message=w.text,
                            action="Discuss with the prescriber or midwife before use.",
                            sources=[w.source],
                        )
                    )
    return alerts


def fired_rules_for(drug_id: str, fired: set[str]) -> list[str]:
    """Rule ids (from ``rule:drug+drug`` alert ids) that fired for one drug."""
    return [a.split(":", 1)[0] for a in fired if drug_id in a.split(":", 1)[-1].split("+")]


def _organ_action(rule: OrganRule) -> str:
    return {
        "contraindicated": "Do not use; choose an alternative.",
        "avoid": "Avoid; choose an alternative.",
        "max_dose": f"Keep the daily dose at or below {rule.max_daily_mg:g} mg."
        if rule.max_daily_mg
        else "Reduce the dose.",
        "reduce": "Reduce the dose.",
        "monitor": "Monitor as described.",
        "caution": "Use with caution and monitor.",
    }[rule.action]


# ---------------------------------------------------------------------------------------------
# Dose checks
# ---------------------------------------------------------------------------------------------


def _applicable_limits(
    drug: Drug, route: str, patient: PatientFactors
) -> dict[str, list[DoseLimit]]:
    out: dict[str, list[DoseLimit]] = {"hard": [], "default": [], "hepatic": [], "article": []}
    for lim in drug.dose_limits:
        if lim.route not in (route, "any"):
            continue
        pop = lim.population
        age = patient.age if patient.age is not None else -1.0
        older = (pop == "age_65_plus" and age >= 65) or (pop == "age_over_75" and age > 75)
        if pop == "adult" or older:
            out["hard"].append(lim)
        elif pop == "adult_label_default":
            out["default"].append(lim)
        elif pop == "liver_disease" and patient.liver_disease:
            out["hepatic"].append(lim)
        elif pop == "article":
            out["article"].append(lim)
    return out


def _dose_checks(
    orders: list[_Order], patient: PatientFactors, kb: KnowledgeBase
) -> tuple[list[DoseCheck], list[Alert]]:
    # Group daily totals by ingredient and route ("any"-route limits use every route's total).
    groups: dict[tuple[str, str], list[_Order]] = {}
    for o in orders:
        for ing in o.ingredients:
            ing_drug = kb.drugs.get(ing)
            if ing_drug is None:
                continue
            any_route = any(lim.route == "any" for lim in ing_drug.dose_limits)
            groups.setdefault((ing, "any" if any_route else o.route), []).append(o)
    checks: list[DoseCheck] = []
    alerts: list[Alert] = []
    for (ing, route), members in groups.items():
        known = [o for o in members if o.daily is not None and ing in o.daily]
        if not known:
            continue
        drug = kb.drugs[ing]
        total = sum(o.daily[ing] for o in known)  # type: ignore[index]
        single = max((o.single or {}).get(ing, 0.0) for o in known)
        duration = max((o.duration_days or 0.0) for o in members)
        limits = _applicable_limits(drug, route, patient)
        findings: list[tuple[str, float | None, str, str | None]] = []  # status, limit, label, src

        def over(lims: list[DoseLimit], total: float = total) -> DoseLimit | None:
            capped = [lim for lim in lims if lim.max_daily_mg is not None]
            if not capped:
                return None
            strict = min(capped, key=lambda lim: lim.max_daily_mg or 0.0)
            return strict if total > (strict.max_daily_mg or 0.0) + 1e-6 else None

        if (lim := over(limits["hard"])) is not None:
            findings.append(
                (
                    "above_label_maximum",
                    lim.max_daily_mg,
                    lim.label or "label maximum",
                    _rule_sources(lim)[0],
                )
            )
        for lim in limits["hard"]:
            if lim.max_single_mg is not None and single > lim.max_single_mg + 1e-6:
                findings.append(
                    (
                        "above_label_maximum",
                        lim.max_single_mg,
                        f"single dose above {lim.max_single_mg:g} mg",
                        _rule_sources(lim)[0],
                    )
                )
                break
        hard_days = [lim.max_days for lim in limits["hard"] if lim.max_days is not None]
        if duration and hard_days and duration > min(hard_days):
            src = next(
                _rule_sources(lim)[0] for lim in limits["hard"] if lim.max_days == min(hard_days)
            )
            findings.append(
                (
                    "duration_exceeded",
                    None,
                    f"day {duration:g} exceeds the {min(hard_days):g}-day limit",
                    src,
                )
            )
        if (lim := over(limits["hepatic"])) is not None:
            findings.append(
                (
                    "hepatic_adjusted_max_exceeded",
                    lim.max_daily_mg,
                    lim.label or "liver disease",
                    _rule_sources(lim)[0],
                )
            )
        for rule in drug.organ_rules:
            if (
                rule.action == "max_dose"
                and rule.max_daily_mg is not None
                and _organ_applies(rule, patient)
                and total > rule.max_daily_mg + 1e-6
            ):
                status = (
                    "renal_adjusted_max_exceeded"
                    if rule.kind == "renal"
                    else "hepatic_adjusted_max_exceeded"
                )
                findings.append((status, rule.max_daily_mg, rule.text, _rule_sources(rule)[0]))
        if (lim := over(limits["default"])) is not None:
            findings.append(
                (
                    "above_label_default",
                    lim.max_daily_mg,
                    lim.label or "label default",
                    _rule_sources(lim)[0],
                )
            )
        article = [lim for lim in limits["article"] if lim.max_daily_mg is not None]
        if article:
            top = max(article, key=lambda lim: lim.max_daily_mg or 0.0)
            if total > (top.max_daily_mg or 0.0) + 1e-6:
                findings.append(
                    (
                        "above_article_dose",
                        top.max_daily_mg,
                        "highest seed-article dose",
                        top.source,
                    )
                )
        has_reference = any(
            lim.max_daily_mg is not None
            for key in ("hard", "default", "hepatic", "article")
            for lim in limits[key]
        ) or any(r.max_daily_mg is not None for r in drug.organ_rules)
        incomplete = len(known) < len(members)
        labels = [o.label for o in sorted(members, key=lambda o: o.index)]
        if findings:
            worst = max(findings, key=lambda f: _STATUS_RANK[f[0]])
            status, limit, label, src = worst
        else:
            status = "within_range" if has_reference else "no_reference_limit"
            limit, label, src = None, None, None
        check = DoseCheck(
            drug_id=ing,
            name=drug.name,
            route=route,
            inputs=labels,
            daily_mg=round(total, 3),
            incomplete=incomplete,
            status=status,
            limit_mg=limit,
            limit_label=label,
            source=src,  # type: ignore[arg-type]
            findings=[
                f"{f[0]}: {f[2]}" + (f" ({f[1]:g} mg)" if f[1] is not None else "")
                for f in findings
            ],
        )
        checks.append(check)
        for f_status, f_limit, f_label, f_src in findings:
            limit_text = (
                f" (limit {f_limit:,.0f} mg/day)"
                if f_limit is not None and "single" not in f_label
                else ""
            )
            alerts.append(
                Alert(
                    id=f"dose-{f_status}:{ing}",
                    rule="dose",
                    kind="dose",
                    severity=_STATUS_SEVERITY[f_status],
                    title=f"{drug.name}: {f_status.replace('_', ' ')}",
                    drugs=[ing],
                    inputs=labels,
                    message=f"{drug.name} {total:,.0f} mg/day{' (at least)' if incomplete else ''}"
                    f" from {len(members)} product(s): {f_label}{limit_text}.",
                    action="Lower the dose or stop one of the products."
                    if f_status != "duration_exceeded"
                    else "Stop or switch; do not extend beyond the limit.",
                    sources=[f_src or "expert-team"],
                )
            )
    return checks, alerts


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _finish(report: MedicationReport, alerts: list[Alert]) -> MedicationReport:
    uniq: dict[str, Alert] = {}
    for a in alerts:
        uniq.setdefault(a.id, a)
    report.alerts = sorted(uniq.values(), key=lambda a: (-SEVERITY_RANK[a.severity], a.id))
    srcs = {s for a in report.alerts for s in a.sources}
    srcs |= {c.source for c in report.dose_checks if c.source}
    report.sources = sorted(srcs)
    return report


def check_medications(
    medications: list[str | MedicationOrder],
    patient: PatientFactors,
    kb: KnowledgeBase | None = None,
) -> MedicationReport:
    """Check a medication list for interactions, patient-specific risks and dose ceilings."""
    kb = kb or get_kb()
    if not isinstance(medications, list):
        raise InputError("medications must be a list", "pass a list of sig strings or orders")
    if len(medications) > MAX_MEDICATIONS:
        raise InputError(
            f"too many medications ({len(medications)})", f"check at most {MAX_MEDICATIONS} at once"
        )
    rules = load_rules(kb)
    report = MedicationReport(
        medications=[], alerts=[], dose_checks=[], not_checked=[], sources=[], kb_version=kb.version
    )
    conds = _normalise_conditions(patient, rules, report)
    patient = _with_condition_flags(patient, conds)
    orders = _resolve(medications, kb, report)
    if "ckd" in conds and patient.renal_function() is None and orders:
        report.not_checked.append(
            NotChecked(
                input="patient",
                scope="renal",
                reason="kidney disease given without eGFR or CrCl: renal dose bands not checked",
            )
        )
    fired = _evaluate_rules(
        rules,
        orders,
        patient,
        conds,
        {"interaction", "condition", "count", "cumulative", "same_drug"},
        kb,
    )
    alerts = [a for a, _ in fired]
    alerts += _drug_level_alerts(orders, patient, conds, {a.id for a in alerts})
    report.dose_checks, dose_alerts = _dose_checks(orders, patient, kb)
    return _finish(report, alerts + dose_alerts)


def drug_tier_alerts(
    drug_ids: list[str], patient: PatientFactors, kb: KnowledgeBase | None = None
) -> list[Alert]:
    """Patient-specific alerts for candidate drugs (no doses or drug pairs), for care plans."""
    kb = kb or get_kb()
    rules = load_rules(kb)
    conds = _normalise_conditions(patient, rules, None)
    patient = _with_condition_flags(patient, conds)
    orders: list[_Order] = []
    for i, ident in enumerate(drug_ids):
        drug = kb.drugs.get(ident) or kb.drug(ident)
        if drug is None:
            raise InputError(
                f"unknown drug id {ident!r}", "use ids from `spineguide kb list drugs`"
            )
        orders.append(_Order(i, drug.id, drug, kb))
    fired = _evaluate_rules(rules, orders, patient, conds, {"condition"}, kb)
    alerts = [a for a, _ in fired]
    alerts += _drug_level_alerts(orders, patient, conds, {a.id for a in alerts})
    uniq: dict[str, Alert] = {}
    for a in alerts:
        uniq.setdefault(a.id, a)
    return sorted(uniq.values(), key=lambda a: (-SEVERITY_RANK[a.severity], a.id))


def parse_request(data: Any) -> tuple[list[str | MedicationOrder], PatientFactors]:
    """Validate a JSON request {"medications": [...], "patient": {...}} into typed inputs."""
    if not isinstance(data, dict):
        raise InputError(
            "request must be a JSON object", 'use {"medications": [...], "patient": {...}}'
        )
    meds_raw = data.get("medications")
    if not isinstance(meds_raw, list) or not meds_raw:
        raise InputError(
            "request needs a non-empty 'medications' list",
            'e.g. {"medications": ["ibuprofen 400 mg tds"]}',
        )
    meds: list[str | MedicationOrder] = []
    try:
        for m in meds_raw:
            meds.append(m if isinstance(m, str) else MedicationOrder.model_validate(m))
        patient = PatientFactors.model_validate(data.get("patient") or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"invalid request: {where}: {first['msg']}",
            "see docs/MEDICATION_SAFETY.md for the input fields",
        ) from None
    extra = set(data) - {"medications", "patient"}
    if extra:
        raise InputError(
            f"unknown request field(s): {', '.join(sorted(extra))}",
            "only 'medications' and 'patient' are accepted",
        )
    return meds, patient
