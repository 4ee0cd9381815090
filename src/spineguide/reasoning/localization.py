"""Nerve-root localisation: probability per root (L1–S1) and side from the exam and imaging."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.reasoning.anatomy import affected_roots, side_concordant
from spineguide.reasoning.evidence import Choice, EvidenceSet
from spineguide.reasoning.fastmodel import build_model, field_names

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.text.models import ImagingFinding

ROOTS = ("L1", "L2", "L3", "L4", "L5", "S1")


class RootContribution(BaseModel):
    """How one finding moved the odds between roots."""

    finding: str
    choice: str
    side: str | None = None
    favours: list[str] = Field(default_factory=list)
    likelihood: dict[str, float] = Field(default_factory=dict)


class RootProbability(BaseModel):
    """One root with its side, probability and supporting evidence."""

    root: str
    side: str | None
    probability: float
    evidence: list[str] = Field(default_factory=list)
    imaging: list[str] = Field(default_factory=list)


class Localization(BaseModel):
    """Ranked roots with explanations (empty when nothing points to a root)."""

    roots: list[RootProbability] = Field(default_factory=list)
    distribution: dict[str, float] = Field(default_factory=dict)
    contributions: list[RootContribution] = Field(default_factory=list)
    upper_lumbar_reasoning: str | None = None
    note: str | None = None


class _Compiled:
    """localization.yaml (validated at load) with each sign's likelihoods, once per KB version.

    Per sign and answer (present, denied): the clamped per-root probabilities, their logarithms,
    the roots it favours (within 80% of its best) and the rounded likelihoods it reports.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.model: dict[str, Any] = kb.raw["localization"]
        floor = float(self.model.get("floor", 0.02))
        self.log_prior = tuple(math.log(p) for p in self.model["prior"]["values"])
        self.motor_global_min = int(self.model.get("motor_global_min", 5))
        bilateral_cfg = self.model.get("bilateral") or {}
        self.bilateral_findings = frozenset(bilateral_cfg.get("findings", ()))
        self.bilateral_vote = float(bilateral_cfg.get("vote", 1.0))
        self.signs: dict[str, tuple[_Answer, _Answer]] = {}
        for fid, entry in self.model["findings"].items():
            probs = [min(max(p, floor), 1 - floor) for p in entry["p"]]
            self.signs[fid] = (_answer(probs), _answer([1 - p for p in probs]))


# (per-root probabilities, their logarithms, favoured roots, rounded likelihood per root)
_Answer = tuple[list[float], list[float], list[str], dict[str, float]]


def _answer(probs: list[float]) -> _Answer:
    top = max(probs)
    favours = [ROOTS[i] for i, p in enumerate(probs) if p >= 0.8 * top]
    likelihood = dict(zip(ROOTS, [round(p, 3) for p in probs], strict=True))
    return probs, [math.log(p) for p in probs], favours, likelihood


_COMPILED: dict[str, _Compiled] = {}
# an answer's text (an enum's value is a Python property, slow on the hot path)
_CHOICE_VALUE = {c: c.value for c in Choice}
_CONTRIBUTION_FIELDS = field_names(RootContribution)
_ROOT_FIELDS = field_names(RootProbability)
_LOCALIZATION_FIELDS = field_names(Localization)


def _compiled(kb: KnowledgeBase) -> _Compiled:
    got = _COMPILED.get(kb.version)
    if got is None:
        got = _COMPILED[kb.version] = _Compiled(kb)
    return got


def _global_absent_spans(es: EvidenceSet, min_items: int) -> set[tuple[int, int]]:
    """Spans where a blanket "power full" denied many muscles at once."""
    counts: dict[tuple[int, int], int] = {}
    for e in es.items:
        if e.choice == Choice.absent and e.span and e.id.endswith("_weakness"):
            counts[e.span] = counts.get(e.span, 0) + 1
    return {span for span, n in counts.items() if n >= min_items}


def localize(
    es: EvidenceSet,
    imaging: list[ImagingFinding] | None = None,
    kb: KnowledgeBase | None = None,
) -> Localization:
    """Compute root probabilities from dermatomal, myotomal, reflex and tension evidence."""
    from spineguide.knowledge.loader import get_kb

    kb = kb or get_kb()
    compiled = _compiled(kb)
    model = compiled.model
    log_post = list(compiled.log_prior)
    global_spans = _global_absent_spans(es, compiled.motor_global_min)
    contributions: list[RootContribution] = []
    side_votes: dict[str, dict[str, float]] = {r: {} for r in ROOTS}
    support: dict[str, list[str]] = {r: [] for r in ROOTS}
    informative = 0
    seen: set[tuple[str, str]] = set()
    signs = compiled.signs
    for e in es.items:
        entry = signs.get(e.id)
        if entry is None or e.choice == Choice.unknown:
            continue
        present = e.choice == Choice.present
        if not present and e.span in global_spans:
            continue  # a blanket "power full" is weak evidence about any one root
        probs, log_probs, favours, likelihood = entry[0 if present else 1]
        choice = _CHOICE_VALUE[e.choice]
        key = (e.id, choice)
        if key in seen:
            # the same sign again (e.g. the other side): one likelihood, but its side still counts
            if present and e.side:
                for i, root in enumerate(ROOTS):
                    side_votes[root][e.side] = side_votes[root].get(e.side, 0.0) + probs[i]
            continue
        seen.add(key)
        if present:
            informative += 1
        for i, lp in enumerate(log_probs):
            log_post[i] += lp
        contributions.append(
            build_model(  # values computed here from the validated localisation model
                RootContribution,
                {
                    "finding": e.id,
                    "choice": choice,
                    "side": e.side,
                    "favours": list(favours),
                    "likelihood": dict(likelihood),
                },
                _CONTRIBUTION_FIELDS,
            )
        )
        if present:
            for root in favours:
                support[root].append(e.id)
            if e.side:
                for i, root in enumerate(ROOTS):
                    side_votes[root][e.side] = side_votes[root].get(e.side, 0.0) + probs[i]
    if es.any_present(compiled.bilateral_findings):
        weight = compiled.bilateral_vote
        for root in ROOTS:
            side_votes[root]["bilateral"] = side_votes[root].get("bilateral", 0.0) + weight
    if informative == 0:
        return _from_imaging_only(es, imaging or [], kb, model, log_post)

    clinical_side = _overall_side(side_votes)
    imaging_notes: dict[str, list[str]] = {r: [] for r in ROOTS}
    for f in imaging or []:
        if f.negated or f.uncertain:
            continue
        if not side_concordant(f.side, clinical_side):
            continue
        factor_for = _imaging_factor(f, model["imaging"])
        for root, how in affected_roots(f, kb).items():
            if root not in ROOTS:
                continue
            factor = factor_for(how)
            if factor <= 1.0:
                continue
            log_post[ROOTS.index(root)] += math.log(factor)
            imaging_notes[root].append(
                f"{f.finding.replace('_', ' ')} at {f.level} ({f.side or 'side not stated'}, {how} root)"
            )
    mx = max(log_post)
    weights = [math.exp(v - mx) for v in log_post]
    total = sum(weights)
    dist = {r: w / total for r, w in zip(ROOTS, weights, strict=True)}
    threshold = float(model.get("min_report_probability", 0.1))
    ranked = sorted(dist.items(), key=lambda kv: -kv[1])
    roots = [
        build_model(
            RootProbability,
            {
                "root": r,
                "side": _side_for(side_votes[r]) or clinical_side,
                "probability": round(p, 3),
                "evidence": sorted(set(support[r])),
                "imaging": imaging_notes[r],
            },
            _ROOT_FIELDS,
        )
        for r, p in ranked
        if p >= threshold
    ]
    return build_model(
        Localization,
        {
            "roots": roots,
            "distribution": {r: round(p, 4) for r, p in dist.items()},
            "contributions": contributions,
            "upper_lumbar_reasoning": _l3_vs_l4(contributions, dist),
            "note": None,
        },
        _LOCALIZATION_FIELDS,
    )


def _from_imaging_only(
    es: EvidenceSet,
    imaging: list[ImagingFinding],
    kb: KnowledgeBase,
    model: dict[str, Any],
    log_post: list[float],
) -> Localization:
    """Localise from a root the imaging names or implies when the examination is silent."""
    silent = build_model(  # the empty result, without a validation pass
        Localization,
        {
            "roots": [],
            "distribution": {},
            "contributions": [],
            "upper_lumbar_reasoning": None,
            "note": "No dermatomal, myotomal, reflex or tension-sign evidence to localise a root.",
        },
        _LOCALIZATION_FIELDS,
    )
    sides: set[str] = set()
    for e in es.items:
        if e.choice == Choice.present and e.side and e.id in _LEG_SYMPTOMS:
            sides.add(e.side)
    if not sides and not any(
        e.choice == Choice.present and e.id in _LEG_SYMPTOMS for e in es.items
    ):
        return silent  # no leg symptom: an imaged root is not a clinical localisation
    clinical_side = (
        "bilateral"
        if "bilateral" in sides or {"left", "right"} <= sides
        else (next(iter(sides)) if sides else None)
    )
    notes: dict[str, list[str]] = {r: [] for r in ROOTS}
    root_sides: dict[str, set[str]] = {r: set() for r in ROOTS}
    hit = False
    for f in imaging:
        if f.negated or f.uncertain or not side_concordant(f.side, clinical_side):
            continue
        factor_for = _imaging_factor(f, model["imaging"])
        for root, how in affected_roots(f, kb).items():
            if root not in ROOTS or how == "canal":
                continue
            factor = factor_for(how)
            if factor <= 1.0:
                continue
            hit = True
            log_post[ROOTS.index(root)] += math.log(factor)
            if f.side in ("left", "right", "bilateral"):
                root_sides[root].add(f.side)
            notes[root].append(
                f"{f.finding.replace('_', ' ')} at {f.level} ({f.side or 'side not stated'}, {how} root)"
            )
    if not hit:
        return silent
    mx = max(log_post)
    weights = [math.exp(v - mx) for v in log_post]
    total = sum(weights)
    dist = {r: w / total for r, w in zip(ROOTS, weights, strict=True)}
    threshold = float(model.get("min_report_probability", 0.1))
    roots = []
    for r, p in sorted(dist.items(), key=lambda kv: -kv[1]):
        if p < threshold or not notes[r]:
            continue
        img_sides = root_sides[r]
        side = (
            "bilateral"
            if "bilateral" in img_sides or {"left", "right"} <= img_sides
            else (next(iter(img_sides)) if img_sides else clinical_side)
        )
        roots.append(RootProbability(root=r, side=side, probability=round(p, 3), imaging=notes[r]))
    return Localization(
        roots=roots,
        distribution={r: round(p, 4) for r, p in dist.items()},
        note="Localised from the imaging alone: no root signs were recorded on examination.",
    )


_LEG_SYMPTOMS = frozenset(
    {
        "leg_pain", "radicular_pain", "bilateral_leg_pain", "leg_numbness", "paresthesia",
        "leg_weakness_reported", "leg_weakness_any", "thigh_pain", "calf_pain", "buttock_pain",
    }
)  # fmt: skip


def _imaging_factor(f: ImagingFinding, cfg: dict[str, Any]) -> Any:
    def factor(how: str) -> float:
        if how == "named":
            return float(cfg["named_root"]["factor"])
        if f.finding == "foraminal_stenosis":
            return float(cfg["foraminal_by_severity"].get(f.severity, 1.0))
        if f.finding in ("lateral_recess_stenosis", "synovial_cyst"):
            return float(cfg["lateral_recess_by_severity"].get(f.severity, 2.0))
        if how == "exiting":
            return float(cfg["disc_exiting"]["factor"])
        if how in ("traversing", "migrated"):
            return float(cfg["disc_traversing"]["factor"])
        return 1.0

    return factor


def _side_for(votes: dict[str, float]) -> str | None:
    if not votes:
        return None
    if votes.get("bilateral", 0) > 0 or (votes.get("left", 0) > 0 and votes.get("right", 0) > 0):
        left, right = votes.get("left", 0), votes.get("right", 0)
        if votes.get("bilateral", 0) > 0 or min(left, right) >= 0.5 * max(left, right):
            return "bilateral"
        return "left" if left > right else "right"
    return max(votes.items(), key=lambda kv: kv[1])[0]


def _overall_side(side_votes: dict[str, dict[str, float]]) -> str | None:
    merged: dict[str, float] = {}
    for votes in side_votes.values():
        for side, w in votes.items():
            merged[side] = merged.get(side, 0.0) + w
    return _side_for(merged)


def _l3_vs_l4(contributions: list[RootContribution], dist: dict[str, float]) -> str | None:
    """Explain the L3-versus-L4 call when either is plausible."""
    if dist.get("L3", 0) + dist.get("L4", 0) < 0.3:
        return None
    for_l3, for_l4 = [], []
    for c in contributions:
        l3, l4 = c.likelihood.get("L3", 0), c.likelihood.get("L4", 0)
        if c.choice != "present" or not l3 or not l4:
            continue
        ratio = l3 / l4
        label = c.finding.replace("_", " ")
        if ratio >= 1.25:
            for_l3.append(f"{label} (×{ratio:.1f})")
        elif ratio <= 0.8:
            for_l4.append(f"{label} (×{1 / ratio:.1f})")
    winner = "L3" if dist.get("L3", 0) >= dist.get("L4", 0) else "L4"
    parts = [f"{winner} is favoured (L3 {dist.get('L3', 0):.0%} vs L4 {dist.get('L4', 0):.0%})."]
    if for_l3:
        parts.append("Pointing to L3: " + ", ".join(for_l3) + ".")
    if for_l4:
        parts.append("Pointing to L4: " + ", ".join(for_l4) + ".")
    parts.append(
        "Hip flexion weakness, anterior thigh sensory loss and a positive femoral stretch test "
        "lean to L3; medial shin pain or numbness, tibialis anterior weakness and a reduced knee "
        "jerk lean to L4; a foraminal lesion at L3-L4 hits L3, a paracentral one hits L4."
    )
    return " ".join(parts)
