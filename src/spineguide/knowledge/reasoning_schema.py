"""Schemas for the reasoning models (differential, localization, workup, plan), checked at load.

The reasoning models are YAML files the engine reads as plain dictionaries for speed. This module
validates them once, when the knowledge base is loaded (and so by ``spineguide kb validate``): the
shape of every entry (unknown keys are errors), the numbers (probabilities in range, likelihood
ratios positive), their provenance (a source or an expert estimate with a rationale), and every
cross-reference (finding ids, diagnosis ids, imaging finding ids, test ids, red-flag rules and
sources). Errors name the FILE and LINE of the offending entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.schema import IMAGING_FINDING_IDS, ROOTS

Prob = float
SETTINGS = ("primary", "emergency", "spine-clinic")


class _Strict(BaseModel):
    """Unknown keys are errors, so a misspelt key fails instead of being ignored."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use (schema.py)


class _Provenance(_Strict):
    """A number's provenance: a source id, or an expert estimate with its rationale."""

    source: str | None = None
    expert_estimate: bool = False
    rationale: str | None = None

    def has_provenance(self) -> bool:
        """True when a source or an explained expert estimate backs the numbers."""
        return bool(self.source) or (self.expert_estimate and bool(self.rationale))


# -- differential -------------------------------------------------------------------------------


class Estimate(_Strict):
    """A diagnosis-level expert estimate covering the numbers without their own source."""

    expert_estimate: Literal[True]
    rationale: str = Field(min_length=10)


class DxFeature(_Provenance):
    """One feature: a clinical finding, an imaging finding, or an imaging group not seen."""

    finding: str | None = None
    imaging: str | None = None
    imaging_group: list[str] | None = None
    lr: float | None = Field(None, gt=0)
    lr_absent: float | None = Field(None, gt=0)
    not_seen: float | None = Field(None, gt=0)
    one_of: str | None = None
    concordant: float | None = Field(None, gt=0)
    discordant: float | None = Field(None, gt=0)
    unlocalized: float | None = Field(None, gt=0)
    present: float | None = Field(None, gt=0)
    negated: float | None = Field(None, gt=0)
    central_severe: float | None = Field(None, gt=0)
    severity: bool = False
    present_only: bool = False
    diagnostic: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> DxFeature:
        kinds = [k for k in ("finding", "imaging", "imaging_group") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("a feature names exactly one of finding, imaging or imaging_group")
        if self.finding and self.lr is None and self.lr_absent is None:
            raise ValueError("a finding feature needs lr or lr_absent")
        if self.imaging_group and self.not_seen is None:
            raise ValueError("an imaging_group feature needs not_seen")
        if self.imaging and not (
            self.diagnostic
            or any(
                getattr(self, k) is not None
                for k in ("concordant", "discordant", "unlocalized", "present", "negated")
            )
        ):
            raise ValueError("an imaging feature needs a likelihood ratio or diagnostic: true")
        return self


class Gate(_Provenance):
    """A diagnosis-level pattern: a required finding set or an excluding pattern."""

    id: str
    any: list[str] = Field(min_length=1)
    label: str
    lr: float | None = Field(None, gt=0)
    lr_missing: float | None = Field(None, gt=0)


class ImagingGate(_Provenance):
    """A diagnosis defined by imaging: its odds fall when no imaging was provided."""

    lr_missing: float = Field(gt=0, le=1)
    label: str


class DxSpec(_Strict):
    """One diagnosis: priors per care setting, gates and features."""

    prior: dict[str, Prob]
    estimate: Estimate | None = None
    source: str | None = None
    requires: list[Gate] = Field(default_factory=list)
    requires_imaging: ImagingGate | None = None
    excluded_by: list[Gate] = Field(default_factory=list)
    features: list[DxFeature] = Field(min_length=1)

    @field_validator("prior")
    @classmethod
    def _priors(cls, prior: dict[str, Prob]) -> dict[str, Prob]:
        if "primary" not in prior:
            raise ValueError("prior needs at least a primary-care value")
        for setting, p in prior.items():
            if setting not in SETTINGS:
                raise ValueError(f"unknown care setting {setting!r} (use {', '.join(SETTINGS)})")
            if not 0 < p < 1:
                raise ValueError(f"prior for {setting} must be between 0 and 1")
        return prior

    @model_validator(mode="after")
    def _gates(self) -> DxSpec:
        for g in self.requires:
            if g.lr_missing is None:
                raise ValueError(f"requires {g.id}: lr_missing is needed")
        for g in self.excluded_by:
            if g.lr is None:
                raise ValueError(f"excluded_by {g.id}: lr is needed")
        return self


class MustNotMiss(_Provenance):
    """When a red-flag diagnosis is flagged must-not-miss."""

    min_probability: Prob = Field(gt=0, lt=1)
    emergency_any_probability: bool = True


class Ranking(_Provenance):
    """Weights for uncertain and historical imaging and for refined diagnoses."""

    uncertain_imaging_weight: float = Field(ge=0, le=1)
    historical_imaging_weight: float = Field(0.1, ge=0, le=1)
    refined_rank_factor: float = Field(gt=0, lt=1)


class DiagnosticImaging(_Provenance):
    """The likelihood ratio of a characteristic lesion described on imaging."""

    lr: float = Field(gt=1)


class Exclusion(_Provenance):
    """Diagnoses of exclusion and whether they yield to flagged red-flag diagnoses."""

    diagnoses: list[str]
    yields_to_flagged: bool = False
    also_yielding: list[str] = Field(default_factory=list)
    yield_min_probability: Prob | None = Field(default=None, gt=0, lt=1)


class ExplainRule(_Provenance):
    """A complication or cause named before the diagnosis it complicates or explains."""

    general: str
    specific: list[str] = Field(min_length=1)
    min_probability: Prob = Field(gt=0, lt=1)


class Refinements(_Provenance):
    """Syndrome → more specific diagnosis relations."""

    min_imaging_lr: float = Field(gt=1)
    min_probability: Prob = Field(gt=0, lt=1)
    refined_by: dict[str, list[str]] = Field(default_factory=dict)
    explained_by: list[ExplainRule] = Field(default_factory=list)


class EvidenceSubtype(_Provenance):
    """A subtype recognised from clinical evidence (e.g. CPPD for disc calcification)."""

    id: str
    name: str
    any: list[str] = Field(min_length=1)
    icd10cm: str | None = None


class DifferentialModel(_Strict):
    """differential.yaml."""

    settings: list[str]
    must_not_miss: MustNotMiss
    ranking: Ranking
    diagnostic_imaging: DiagnosticImaging
    exclusion: Exclusion
    non_radicular: list[str] = Field(default_factory=list)
    subtype_imaging: dict[str, str | None] = Field(default_factory=dict)
    evidence_subtypes: dict[str, list[EvidenceSubtype]] = Field(default_factory=dict)
    severity_scale: dict[str, Any]
    refinements: Refinements
    diagnoses: dict[str, DxSpec]


# -- localization -------------------------------------------------------------------------------


class RootLikelihood(_Provenance):
    """P(finding | root) for L1..S1."""

    p: list[Prob] = Field(min_length=6, max_length=6)

    @model_validator(mode="after")
    def _range(self) -> RootLikelihood:
        if any(not 0 <= x <= 1 for x in self.p):
            raise ValueError("every p must be between 0 and 1")
        return self


class RootPrior(_Provenance):
    """Prior over the six roots."""

    values: list[Prob] = Field(min_length=6, max_length=6)


class LocalizationModel(_Strict):
    """localization.yaml."""

    roots: list[str]
    prior: RootPrior
    floor: Prob = Field(gt=0, lt=0.5)
    findings: dict[str, RootLikelihood]
    imaging: dict[str, dict[str, Any]]
    min_report_probability: Prob = Field(gt=0, lt=1)
    bilateral: dict[str, Any] | None = None
    motor_global_min: int | None = Field(None, ge=2)


# -- workup -------------------------------------------------------------------------------------


class WorkupWhen(_Strict):
    """Conditions under which a work-up rule applies (all must hold)."""

    rule_fired: list[str] | None = None
    top_in: list[str] | None = None
    any_top3_in: list[str] | None = None
    no_urgent_flags: bool | None = None
    acute: bool | None = None
    deficit: bool | None = None
    imaging_given: bool | None = None


class WorkupTest(_Strict):
    """One test of a work-up rule."""

    test: str
    timing: Literal["now", "if_no_improvement", "not_recommended"]
    why: str
    sources: list[str] = Field(min_length=1)


class WorkupRule(_Strict):
    """A work-up rule."""

    id: str
    when: WorkupWhen
    tests: list[WorkupTest] = Field(min_length=1)


class WorkupSettings(_Provenance):
    """Cut-offs the work-up uses."""

    acute_days: int = Field(gt=0)
    condition_investigations_min_probability: Prob = Field(gt=0, lt=1)


class WorkupModel(_Strict):
    """workup.yaml."""

    settings: WorkupSettings
    rules: list[WorkupRule]


# -- plan ---------------------------------------------------------------------------------------


class ReferralCriterion(_Strict):
    """One referral criterion."""

    text: str
    sources: list[str] = Field(min_length=1)


class PlanModel(_Strict):
    """plan.yaml."""

    spinal_pain_group: list[str]
    radicular_group: list[str]
    tier_titles: dict[str, str]
    max_items_per_tier: int = Field(gt=0)
    max_items_investigational: int = Field(ge=0)
    max_advice_items: int = Field(gt=0)
    max_list_items: int = Field(gt=0)
    max_seek_help_items: int = Field(gt=0)
    stenosis_group: list[str] = Field(default_factory=list)
    referral_criteria: dict[str, list[ReferralCriterion]]


# -- validation with file and line --------------------------------------------------------------


def line_map(path: Path) -> dict[tuple[Any, ...], int]:
    """Map every key path in a YAML file to its 1-based line number."""
    with path.open(encoding="utf-8") as fh:
        root = yaml.compose(fh, Loader=yaml.SafeLoader)
    out: dict[tuple[Any, ...], int] = {}

    def walk(node: Any, at: tuple[Any, ...]) -> None:
        out[at] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*at, k.value)
                out[key] = k.start_mark.line + 1
                walk(v, key)
                out[key] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*at, i))

    if root is not None:
        walk(root, ())
    return out


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    """The line of the deepest known prefix of a location path."""
    for n in range(len(loc), -1, -1):
        key = tuple(str(x) if not isinstance(x, int) else x for x in loc[:n])
        if key in lines:
            return lines[key]
    return 1


class _Problems:
    """Collects problems with their file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: dict[tuple[Any, ...], int] | None = None
        self.items: list[str] = []

    def lines(self) -> dict[tuple[Any, ...], int]:
        if self._lines is None:
            self._lines = line_map(self.path)
        return self._lines

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        self.items.append(f"{self.path.name}:{_line_for(self.lines(), loc)}: {message}")


MODELS: dict[str, type[BaseModel]] = {
    "differential": DifferentialModel,
    "localization": LocalizationModel,
    "workup": WorkupModel,
    "plan": PlanModel,
}


def validate_reasoning_models(kb: Any, data_dir: Path) -> None:
    """Validate every reasoning model of a loaded knowledge base; raise with FILE:LINE on error."""
    problems: list[str] = []
    for name, model in MODELS.items():
        raw = kb.raw.get(name)
        if raw is None:
            continue
        where = _Problems(data_dir / f"{name}.yaml")
        try:
            parsed = model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(x for x in err["loc"] if not str(x).startswith("function-after"))
                where.add(loc, f"{'.'.join(map(str, loc)) or '(top)'}: {err['msg']}")
            problems += where.items
            continue
        _CHECKS[name](parsed, raw, kb, where)
        problems += where.items
    if problems:
        raise KnowledgeBaseError(
            f"reasoning models have {len(problems)} problem(s): " + "; ".join(problems[:25])
        )


def _ref(kb: Any, kind: str, ident: str | None) -> bool:
    if ident is None:
        return True
    if kind == "finding":
        return ident in kb.findings
    if kind == "source":
        return ident in kb.sources
    if kind == "test":
        return ident in kb.tests
    if kind == "imaging":
        return ident in IMAGING_FINDING_IDS
    return True


def _check_differential(m: DifferentialModel, raw: Any, kb: Any, where: _Problems) -> None:
    dx_ids = set(m.diagnoses)
    known = dx_ids | set(kb.conditions)

    def dx(loc: tuple[Any, ...], ident: str) -> None:
        if ident not in known:
            where.add(loc, f"unknown diagnosis id {ident!r}")

    def src(loc: tuple[Any, ...], ident: str | None) -> None:
        if not _ref(kb, "source", ident):
            where.add(loc, f"unknown source id {ident!r}")

    for block in ("must_not_miss", "ranking", "diagnostic_imaging", "exclusion", "refinements"):
        prov = getattr(m, block)
        src((block, "source"), prov.source)
        if not prov.has_provenance():
            where.add((block,), "numbers need a source or expert_estimate: true with a rationale")
    for i, ident in enumerate(m.exclusion.diagnoses):
        dx(("exclusion", "diagnoses", i), ident)
    for i, ident in enumerate(m.exclusion.also_yielding):
        dx(("exclusion", "also_yielding", i), ident)
    for i, ident in enumerate(m.non_radicular):
        dx(("non_radicular", i), ident)
    for ident, img in m.subtype_imaging.items():
        dx(("subtype_imaging", ident), ident)
        if img is not None and not _ref(kb, "imaging", img):
            where.add(("subtype_imaging", ident), f"unknown imaging finding id {img!r}")
    for ident, subs in m.evidence_subtypes.items():
        dx(("evidence_subtypes", ident), ident)
        for j, sub in enumerate(subs):
            for k, f in enumerate(sub.any):
                if not _ref(kb, "finding", f):
                    where.add(
                        ("evidence_subtypes", ident, j, "any", k), f"unknown finding id {f!r}"
                    )
            src(("evidence_subtypes", ident, j), sub.source)
    for general, specifics in m.refinements.refined_by.items():
        dx(("refinements", "refined_by", general), general)
        for s in specifics:
            dx(("refinements", "refined_by", general), s)
    for i, rule in enumerate(m.refinements.explained_by):
        loc = ("refinements", "explained_by", i)
        dx(loc, rule.general)
        for s in rule.specific:
            dx(loc, s)
        src(loc, rule.source)
    for dx_id, spec in m.diagnoses.items():
        base = ("diagnoses", dx_id)
        if dx_id not in kb.conditions:
            where.add(base, f"diagnosis {dx_id!r} has no conditions/{dx_id}.yaml entry")
        src((*base, "source"), spec.source)
        covered = spec.estimate is not None or bool(spec.source)
        if spec.requires_imaging is not None and not (
            covered or spec.requires_imaging.has_provenance()
        ):
            where.add((*base, "requires_imaging"), "needs a source or expert_estimate")
        for kind in ("requires", "excluded_by"):
            for i, gate in enumerate(getattr(spec, kind)):
                loc = (*base, kind, i)
                src(loc, gate.source)
                for f in gate.any:
                    if not _ref(kb, "finding", f):
                        where.add(loc, f"unknown finding id {f!r}")
                if not (covered or gate.has_provenance()):
                    where.add(loc, "needs a source or expert_estimate with a rationale")
        for i, feat in enumerate(spec.features):
            loc = (*base, "features", i)
            src(loc, feat.source)
            if feat.finding and not _ref(kb, "finding", feat.finding):
                where.add(loc, f"unknown finding id {feat.finding!r}")
            if feat.imaging and not _ref(kb, "imaging", feat.imaging):
                where.add(loc, f"unknown imaging finding id {feat.imaging!r}")
            for g in feat.imaging_group or ():
                if not _ref(kb, "imaging", g):
                    where.add(loc, f"unknown imaging finding id {g!r}")
            if not (covered or feat.has_provenance()):
                where.add(loc, "needs a source or expert_estimate with a rationale")


def _check_localization(m: LocalizationModel, raw: Any, kb: Any, where: _Problems) -> None:
    if tuple(m.roots) != ROOTS:
        where.add(("roots",), f"roots must be {list(ROOTS)} in that order")
    if abs(sum(m.prior.values) - 1.0) > 0.01:
        where.add(("prior", "values"), "root priors must sum to 1")
    if not m.prior.has_provenance():
        where.add(("prior",), "needs a source or expert_estimate with a rationale")
    if not _ref(kb, "source", m.prior.source):
        where.add(("prior", "source"), f"unknown source id {m.prior.source!r}")
    for fid, entry in m.findings.items():
        loc = ("findings", fid)
        if not _ref(kb, "finding", fid):
            where.add(loc, f"unknown finding id {fid!r}")
        if not _ref(kb, "source", entry.source):
            where.add(loc, f"unknown source id {entry.source!r}")
        if not entry.has_provenance():
            where.add(loc, "needs a source or expert_estimate with a rationale")
    for key, entry in m.imaging.items():
        if not (entry.get("source") or (entry.get("expert_estimate") and entry.get("rationale"))):
            where.add(("imaging", key), "needs a source or expert_estimate with a rationale")
        if entry.get("source") and not _ref(kb, "source", entry["source"]):
            where.add(("imaging", key), f"unknown source id {entry['source']!r}")


def _check_workup(m: WorkupModel, raw: Any, kb: Any, where: _Problems) -> None:
    rules = {r["id"] for r in (kb.raw.get("red_flags") or {}).get("rules", [])}
    if not m.settings.has_provenance():
        where.add(("settings",), "needs a source or expert_estimate with a rationale")
    if not _ref(kb, "source", m.settings.source):
        where.add(("settings", "source"), f"unknown source id {m.settings.source!r}")
    for i, rule in enumerate(m.rules):
        loc = ("rules", i)
        for r in rule.when.rule_fired or ():
            if rules and r not in rules:
                where.add((*loc, "when"), f"unknown red-flag rule {r!r}")
        for d in (rule.when.top_in or []) + (rule.when.any_top3_in or []):
            if d not in kb.conditions:
                where.add((*loc, "when"), f"unknown diagnosis id {d!r}")
        for j, t in enumerate(rule.tests):
            tloc = (*loc, "tests", j)
            if kb.tests and not _ref(kb, "test", t.test):
                where.add(tloc, f"unknown diagnostic test {t.test!r}")
            for s in t.sources:
                if not _ref(kb, "source", s):
                    where.add(tloc, f"unknown source id {s!r}")


def _check_plan(m: PlanModel, raw: Any, kb: Any, where: _Problems) -> None:
    for group in ("spinal_pain_group", "radicular_group", "stenosis_group"):
        for i, d in enumerate(getattr(m, group)):
            if d not in kb.conditions:
                where.add((group, i), f"unknown diagnosis id {d!r}")
    for key, items in m.referral_criteria.items():
        for i, item in enumerate(items):
            for s in item.sources:
                if not _ref(kb, "source", s):
                    where.add(("referral_criteria", key, i), f"unknown source id {s!r}")


_CHECKS = {
    "differential": _check_differential,
    "localization": _check_localization,
    "workup": _check_workup,
    "plan": _check_plan,
}
