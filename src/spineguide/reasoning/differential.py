"""Ranked, explained differential: likelihood-ratio Bayes over every diagnosis id.

Each diagnosis gets its own posterior odds (prior odds for the care setting × the likelihood ratio
of every feature that is present or explicitly absent). Imaging findings count only when they are
concordant with the clinical level and side, because disc bulges and protrusions are common in
people without pain (brinjikji-2015).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.reasoning.evidence import EvidenceSet
from spineguide.reasoning.imaging_evidence import affected_roots, roots_below, side_concordant

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.localization import Localization
    from spineguide.text.models import ImagingFinding

SETTINGS = ("primary", "emergency", "spine-clinic")


class EvidenceContribution(BaseModel):
    """One piece of evidence and how much it moved a diagnosis."""

    id: str
    label: str
    likelihood_ratio: float
    detail: str | None = None
    source: str | None = None


class DiagnosisResult(BaseModel):
    """A ranked diagnosis with its explanation (PRODUCT.md differential contract)."""

    id: str
    name: str
    probability: float
    level: str | None = None
    side: str | None = None
    subtype: str | None = None
    subtype_reason: str | None = None
    must_not_miss: bool = False
    refined_by: str | None = None  # a more specific diagnosis that explains this one
    rank_probability: float = Field(default=0.0, exclude=True)
    prior: float
    evidence_for: list[EvidenceContribution] = Field(default_factory=list)
    evidence_against: list[EvidenceContribution] = Field(default_factory=list)
    icd10cm: str | None = None


def _label(kb: KnowledgeBase, finding_id: str) -> str:
    f = kb.findings.get(finding_id)
    return f.name if f else finding_id.replace("_", " ")


def _imaging_match(
    f: ImagingFinding,
    loc: Localization | None,
    clinical_side: str | None,
    kb: KnowledgeBase,
) -> str:
    """Classify an imaging finding as concordant, discordant or unlocalized for a root story."""
    if loc is None or not loc.roots:
        return "unlocalized"
    top = loc.roots[0]
    side_ok = side_concordant(f.side, top.side or clinical_side)
    roots = affected_roots(f, kb)
    candidate_roots = {r.root for r in loc.roots[:2]}
    if f.finding in ("canal_stenosis", "cauda_equina_compression"):
        hit = bool(candidate_roots & roots_below(f.level)) or not f.level
    else:
        hit = bool(candidate_roots & set(roots)) or (not f.level and side_ok)
    return "concordant" if (hit and side_ok) else "discordant"


class _Feature:
    """One precompiled feature of a diagnosis model."""

    __slots__ = ("fid", "group", "kind", "label", "lr", "lr_absent", "raw", "source")

    def __init__(self, raw: dict[str, Any], default_source: str | None, kb: KnowledgeBase) -> None:
        self.raw = raw
        self.source = raw.get("source") or default_source
        self.lr = float(raw["lr"]) if "lr" in raw else None
        self.lr_absent = float(raw["lr_absent"]) if "lr_absent" in raw else None
        self.group: frozenset[str] = frozenset(raw.get("imaging_group", ()))
        if self.group:
            self.kind, self.fid = "not_seen", "img:not_seen"
            self.lr = float(raw["not_seen"])
            self.label = "imaging: no " + " / ".join(
                x.replace("_", " ") for x in raw["imaging_group"]
            )
        elif "finding" in raw:
            self.kind, self.fid = "finding", raw["finding"]
            self.label = _label(kb, self.fid)
        else:
            self.kind, self.fid = "imaging", raw["imaging"]
            self.label = f"imaging: {self.fid.replace('_', ' ')}"


_COMPILED: dict[str, list[tuple[str, dict[str, float], list[_Feature], str, str | None]]] = {}


def _compiled(
    kb: KnowledgeBase,
) -> list[tuple[str, dict[str, float], list[_Feature], str, str | None]]:
    """The differential model as precompiled tuples (once per knowledge-base version)."""
    cached = _COMPILED.get(kb.version)
    if cached is not None:
        return cached
    out = []
    for dx_id, spec in kb.raw["differential"]["diagnoses"].items():
        priors = {k: float(v) for k, v in spec["prior"].items()}
        feats = [_Feature(f, spec.get("source"), kb) for f in spec["features"]]
        cond = kb.conditions.get(dx_id)
        name = cond.name if cond else dx_id.replace("-", " ")
        out.append((dx_id, priors, feats, name, _primary_icd(cond)))
    _COMPILED[kb.version] = out
    return out


def rank_differential(
    es: EvidenceSet,
    imaging: list[ImagingFinding],
    loc: Localization | None,
    setting: str,
    fired_conditions: dict[str, str],
    kb: KnowledgeBase,
) -> list[DiagnosisResult]:
    """Score every diagnosis in the model and return them ranked, must-not-miss first."""
    model: dict[str, Any] = kb.raw["differential"]
    if setting not in SETTINGS:
        setting = "primary"
    severity_scale = model.get("severity_scale", {})
    mnm_min = float(model.get("must_not_miss", {}).get("min_probability", 0.05))
    mnm_emergency = bool(model.get("must_not_miss", {}).get("emergency_any_probability", True))
    present = es.present_ids()
    absent = es.absent_ids()
    seen_imaging = {f.finding for f in imaging if not f.negated}
    clinical_side = loc.roots[0].side if loc and loc.roots else None
    default_side = loc.roots[0].side if loc and loc.roots else None
    construct = EvidenceContribution.model_construct
    results: list[DiagnosisResult] = []
    for dx_id, priors, feats, name, icd in _compiled(kb):
        prior = priors.get(setting, priors["primary"])
        log_odds = math.log(prior / (1 - prior))
        ev_for: list[EvidenceContribution] = []
        ev_against: list[EvidenceContribution] = []
        level = side = None
        best_img = 0.0
        for feat in feats:
            kind = feat.kind
            if kind == "finding":
                fid = feat.fid
                if fid in present:
                    if feat.lr is None:
                        continue
                    lr = feat.lr
                    sides = es.sides(fid)
                    detail = "present" + (f" ({', '.join(sorted(sides))})" if sides else "")
                    value = es.value(fid)
                    if value is not None:
                        detail += f", value {value:g}"
                elif fid in absent and feat.lr_absent is not None:
                    lr = feat.lr_absent
                    detail = "reported absent"
                else:
                    continue
            elif kind == "not_seen":
                if not imaging or feat.group & seen_imaging:
                    continue
                lr = feat.lr  # type: ignore[assignment]
                detail = "not seen on the imaging provided"
            else:
                if not imaging:
                    continue
                got, detail, img_level, img_side = _imaging_lr(
                    feat.raw, feat.fid, imaging, loc, clinical_side, kb, severity_scale
                )
                if got is None:
                    continue
                lr = got
                if lr > best_img and img_level:
                    best_img, level, side = lr, img_level, img_side
            if lr == 1.0:
                continue
            log_odds += math.log(lr)
            contribution = construct(
                id=feat.fid
                if kind == "finding"
                else (feat.fid if kind == "not_seen" else f"img:{feat.fid}"),
                label=feat.label,
                likelihood_ratio=round(lr, 3),
                detail=detail,
                source=feat.source,
            )
            (ev_for if lr > 1 else ev_against).append(contribution)
        probability = 1 / (1 + math.exp(-log_odds))
        ev_for.sort(key=lambda c: -c.likelihood_ratio)
        ev_against.sort(key=lambda c: c.likelihood_ratio)
        results.append(
            DiagnosisResult.model_construct(
                id=dx_id,
                name=name,
                probability=round(probability, 4),
                level=level,
                side=side if side is not None else default_side,
                subtype=None,
                subtype_reason=None,
                must_not_miss=dx_id in fired_conditions
                and (
                    probability >= mnm_min
                    or (mnm_emergency and fired_conditions[dx_id] == "emergency")
                ),
                refined_by=None,
                rank_probability=probability,
                prior=prior,
                evidence_for=ev_for,
                evidence_against=ev_against,
                icd10cm=icd,
            )
        )
    frac = float(model.get("must_not_miss", {}).get("min_fraction_of_leading", 0.0))
    leading = max((d.probability for d in results), default=0.0)
    for d in results:
        if (
            d.must_not_miss
            and fired_conditions.get(d.id) != "emergency"
            and d.probability < frac * leading
        ):
            d.must_not_miss = False
    _apply_refinements(results, model.get("refinements") or {})
    urgency_rank = {"emergency": 0, "urgent": 1, "routine": 2, "self_care": 3}
    results.sort(
        key=lambda d: (
            0 if d.must_not_miss else 1,
            urgency_rank.get(fired_conditions.get(d.id, "self_care"), 3) if d.must_not_miss else 0,
            -d.rank_probability,
        )
    )
    _lateral_sides(results, es)
    return results


def _apply_refinements(results: list[DiagnosisResult], cfg: dict[str, Any]) -> None:
    """Rank a syndrome just below a more specific, imaging-supported diagnosis that explains it."""
    by_id = {d.id: d for d in results}
    min_lr = float(cfg.get("min_imaging_lr", 5))
    min_p = float(cfg.get("min_probability", 0.4))
    for d in results:
        d.rank_probability = d.probability
    refined = cfg.get("refined_by") or {}
    for _ in range(3):  # chains (herniation → sequestration) settle in a few passes
        for general, specifics in refined.items():
            g = by_id.get(general)
            if g is None:
                continue
            qualifying = [
                by_id[sid]
                for sid in specifics
                if sid in by_id
                and by_id[sid].probability >= min_p
                and any(
                    c.likelihood_ratio >= min_lr
                    and (c.id.startswith("img:") or c.id.startswith("imaging_"))
                    for c in by_id[sid].evidence_for
                )
            ]
            if not qualifying:
                continue
            best = max(qualifying, key=lambda d: d.rank_probability)
            target = best.rank_probability * 0.999
            if target < g.rank_probability:
                g.rank_probability = target
                g.refined_by = best.id


def _primary_icd(cond: Any) -> str | None:
    if cond is None or not cond.icd10cm:
        return None
    for code in cond.icd10cm:
        if code.primary:
            return code.code
    return cond.icd10cm[0].code


def _imaging_lr(
    feat: dict[str, Any],
    img_id: str,
    imaging: list[ImagingFinding],
    loc: Localization | None,
    clinical_side: str | None,
    kb: KnowledgeBase,
    severity_scale: dict[str, Any],
) -> tuple[float | None, str | None, str | None, str | None]:
    """Best likelihood ratio contributed by imaging findings of one type."""
    matches = [f for f in imaging if f.finding == img_id]
    if not matches:
        return None, None, None, None
    best: tuple[float, str, str | None, str | None] | None = None
    for f in matches:
        if f.negated:
            if "negated" in feat:
                cand = (
                    float(feat["negated"]),
                    f"report: no {img_id.replace('_', ' ')}",
                    None,
                    None,
                )
                if best is None:
                    best = cand
            continue
        if "present" in feat:
            lr = float(feat["present"])
            how = "present"
            if "central_severe" in feat and f.side in ("central", None) and f.severity == "severe":
                lr = float(feat["central_severe"])
                how = "large central lesion"
        else:
            how = _imaging_match(f, loc, clinical_side, kb)
            if how not in feat:
                continue
            lr = float(feat[how])
        if feat.get("severity") and lr > 1:
            lr = 1 + (lr - 1) * float(severity_scale.get(f.severity, 1.0))
        if f.uncertain and lr > 1:
            lr = 1 + (lr - 1) * 0.5  # "possible" findings count half (expert estimate)
        where = f"{f.level or 'level not stated'}, {f.side or 'side not stated'}"
        detail = f"{how}: {f.severity} at {where}"
        if best is None or lr > best[0] or (best[0] < 1 and lr >= 1):
            best = (lr, detail, f.level, f.side)
    if best is None:
        return None, None, None, None
    return best


def _lateral_sides(results: list[DiagnosisResult], es: EvidenceSet) -> None:
    """Give mimics the side of their own supporting evidence when imaging did not set one."""
    for d in results:
        sides = set()
        for c in d.evidence_for:
            if c.id.startswith("img:"):
                continue
            sides |= es.sides(c.id)
        if not sides:
            continue
        if "bilateral" in sides or {"left", "right"} <= sides:
            d.side = d.side or "bilateral"
        elif d.side is None or d.id in _NON_RADICULAR:
            d.side = next(iter(sides))


_NON_RADICULAR = {
    "hip-osteoarthritis", "meralgia-paresthetica", "femoral-neuropathy", "diabetic-amyotrophy",
    "greater-trochanteric-pain-syndrome", "sacroiliac-joint-pain", "peripheral-arterial-disease",
}  # fmt: skip


def subtype_for(
    dx: DiagnosisResult, imaging: list[ImagingFinding], kb: KnowledgeBase
) -> tuple[str | None, str | None]:
    """Pick the article's subtype ("Types") that matches the imaging for a seed condition."""
    cond = kb.conditions.get(dx.id)
    if cond is None or not cond.types:
        return None, None
    relevant = {
        "foraminal-stenosis": "foraminal_stenosis",
        "disc-sequestration": "disc_sequestration",
        "disc-calcification": "disc_calcification",
        "disc-herniation": None,
        "nerve-root-compression": None,
    }
    target = relevant.get(dx.id)
    candidates = [f for f in imaging if not f.negated and (target is None or f.finding == target)]
    if not candidates:
        return None, None
    for t in cond.types:
        crit = t.imaging_match
        if not crit:
            continue
        for f in candidates:
            ok = True
            for key, want in crit.items():
                got = getattr(f, key, None)
                if key == "severity" and f.finding != "foraminal_stenosis" and target:
                    ok = ok and got == want
                elif key in ("zone", "migration", "severity", "side", "finding"):
                    ok = ok and str(got) == str(want)
                elif key == "levels":
                    ok = ok and (
                        (want == "multiple") == (len({x.level for x in candidates if x.level}) > 1)
                    )
                else:
                    ok = False
            if ok:
                return t.name, f"imaging: {f.finding.replace('_', ' ')} ({f.severity}) at {f.level}"
    return None, None
