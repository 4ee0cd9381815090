"""Ranked, explained differential: likelihood-ratio Bayes over every diagnosis id.

Each diagnosis gets its own posterior odds (prior odds for the care setting × the likelihood ratio
of every feature that is present or explicitly absent). Imaging findings count only when they are
concordant with the clinical level and side, because disc bulges and protrusions are common in
people without pain (brinjikji-2015).
"""

from __future__ import annotations

import math
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.reasoning.anatomy import affected_roots, roots_below, side_concordant
from spineguide.reasoning.evidence import EvidenceSet
from spineguide.reasoning.fastmodel import build_models, field_names

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


# While ranking, a contribution is a plain tuple (id, label, likelihood ratio, detail, source):
# the hot loop builds ~90 per call. Explained diagnoses get EvidenceContribution objects.
Contrib = tuple[str, str, float, str | None, str | None]
_ID, _LABEL, _LRX, _DETAIL, _SOURCE = range(5)


_LR = itemgetter(_LRX)  # a contribution's likelihood ratio
_PROBABILITY = attrgetter("probability")


EXPLAINED_DIAGNOSES = 8  # a summary explains the top 8 (what the CLI and web show) + must-not-miss


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
    explained: bool = Field(
        True,
        description="False when a summary response left out this diagnosis's evidence lists "
        "(ask for detail=full to get them)",
    )


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
        hit = bool(candidate_roots & roots_below(f.level, kb)) or not f.level
    else:
        hit = bool(candidate_roots & set(roots)) or (not f.level and side_ok)
    return "concordant" if (hit and side_ok) else "discordant"


class _Feature:
    """One precompiled feature of a diagnosis model."""

    __slots__ = (
        "cid", "fid", "group", "kind", "label", "log_lr", "log_lr_absent", "lr", "lr_absent",
        "lr_absent_r", "lr_r", "one_of", "raw", "source",
    )  # fmt: skip

    def __init__(self, raw: dict[str, Any], default_source: str | None, kb: KnowledgeBase) -> None:
        self.raw = raw
        self.one_of: str | None = raw.get("one_of")  # features of one group count once (max)
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
        self.cid = f"img:{self.fid}" if self.kind == "imaging" else self.fid  # contribution id
        # the ratios as shown (3 decimals) and their logarithms, computed once per model
        self.lr_r = round(self.lr, 3) if self.lr is not None else None
        self.lr_absent_r = round(self.lr_absent, 3) if self.lr_absent is not None else None
        self.log_lr = math.log(self.lr) if self.lr else None
        self.log_lr_absent = math.log(self.lr_absent) if self.lr_absent else None

    def row(self, absent: bool) -> _Row | None:
        """This finding feature as applied when its finding is denied or present (None: no-op)."""
        lr, lr_r, llr = (
            (self.lr_absent, self.lr_absent_r, self.log_lr_absent)
            if absent
            else (self.lr, self.lr_r, self.log_lr)
        )
        if lr is None or lr == 1.0 or lr_r is None or llr is None:
            return None
        return (self.one_of, lr, llr, self.cid, self.label, lr_r, self.source)


# A finding feature as applied for one answer (present or denied): (one-of group, LR, log LR,
# contribution id, label, LR as shown, source). Precomputed per feature so the hot loop only adds.
_Row = tuple[str | None, float, float, str, str, float, str | None]


class _Gate:
    """A diagnosis-level pattern rule: a required finding or an excluding pattern."""

    __slots__ = ("any", "fid", "handled_absent", "is_imaging", "label", "log_lr", "lr", "lr_r",
                 "missing", "source")  # fmt: skip

    def __init__(
        self,
        raw: dict[str, Any],
        missing: bool,
        default_source: str | None,
        handled_absent: frozenset[str] = frozenset(),
    ) -> None:
        self.any: frozenset[str] = frozenset(raw["any"])
        # a denied finding answers a required-finding gate only when the diagnosis weighs its
        # absence itself (denying sphincter trouble says nothing about leg pain)
        self.handled_absent = self.any & handled_absent
        self.missing = missing
        self.lr = float(raw["lr_missing"] if missing else raw["lr"])
        self.fid = ("requires:" if missing else "pattern:") + raw["id"]
        self.label = raw["label"]
        self.source = raw.get("source") or default_source
        self.is_imaging = self.fid == "requires:imaging"
        self.log_lr = math.log(self.lr)  # the ratio as applied and as shown, computed once
        self.lr_r = round(self.lr, 3)


class _Model:
    """The differential model compiled once per knowledge-base version."""

    def __init__(self, kb: KnowledgeBase) -> None:
        model: dict[str, Any] = kb.raw["differential"]
        self.severity_scale = {
            k: float(v) for k, v in model.get("severity_scale", {}).items() if _is_number(v)
        }
        mnm = model.get("must_not_miss", {})
        self.mnm_min = float(mnm.get("min_probability", 0.05))
        self.mnm_emergency = bool(mnm.get("emergency_any_probability", True))
        ranking = model.get("ranking", {})
        self.uncertain_weight = float(ranking.get("uncertain_imaging_weight", 0.5))
        self.historical_weight = float(ranking.get("historical_imaging_weight", 0.1))
        self.refine_factor = float(ranking.get("refined_rank_factor", 0.999))
        exclusion = model.get("exclusion", {})
        self.of_exclusion = frozenset(exclusion.get("diagnoses", ()))
        self.yield_to_flagged = bool(exclusion.get("yields_to_flagged", False))
        self.yielding = self.of_exclusion | frozenset(exclusion.get("also_yielding", ()))
        self.yield_min = float(exclusion.get("yield_min_probability") or self.mnm_min)
        self.non_radicular = frozenset(model.get("non_radicular", ()))
        self.subtype_imaging: dict[str, str | None] = dict(model.get("subtype_imaging", {}))
        self.evidence_subtypes: dict[str, list[tuple[frozenset[str], str]]] = {
            dx: [(frozenset(s["any"]), s["name"]) for s in subs]
            for dx, subs in (model.get("evidence_subtypes") or {}).items()
        }
        refinements: dict[str, Any] = model.get("refinements") or {}
        self.refine_min_lr = float(refinements.get("min_imaging_lr", 5))
        self.refine_min_p = float(refinements.get("min_probability", 0.4))
        self.refined_by: list[tuple[str, list[str]]] = list(
            (refinements.get("refined_by") or {}).items()
        )
        self.explained_by: list[tuple[str, list[str], float]] = [
            (rule["general"], list(rule["specific"]), float(rule["min_probability"]))
            for rule in refinements.get("explained_by") or ()
        ]
        self.diagnoses: list[
            tuple[
                str,
                dict[str, tuple[float, float]],
                dict[str, list[_Feature]],
                list[_Feature],
                list[_Gate],
                str,
                str | None,
            ]
        ] = []
        diagnostic = model.get("diagnostic_imaging", {})
        self.diagnostic_lr = float(diagnostic.get("lr", 1.0))
        diagnostic_source = diagnostic.get("source")
        for dx_id, spec in model["diagnoses"].items():
            priors = {k: float(v) for k, v in spec["prior"].items()}
            # setting → (prior, its log odds)
            prior_by_setting = {
                setting: (p, math.log(p / (1 - p)))
                for setting in SETTINGS
                for p in (priors.get(setting, priors["primary"]),)
            }
            src = spec.get("source")
            feats = [
                _Feature(
                    dict(f, present=self.diagnostic_lr, source=f.get("source") or diagnostic_source)
                    if f.get("diagnostic")
                    else f,
                    src,
                    kb,
                )
                for f in spec["features"]
            ]
            weighs_absence = frozenset(
                f["finding"] for f in spec["features"] if "finding" in f and "lr_absent" in f
            )
            gates = [_Gate(g, True, src, weighs_absence) for g in spec.get("requires", ())]
            if spec.get("requires_imaging"):
                gates.append(_Gate(dict(spec["requires_imaging"], id="imaging", any=()), True, src))
            gates += [_Gate(g, False, src) for g in spec.get("excluded_by", ())]
            cond = kb.conditions.get(dx_id)
            name = cond.name if cond else dx_id.replace("-", " ")
            by_finding: dict[str, list[_Feature]] = {}
            for f in feats:
                if f.kind == "finding":
                    by_finding.setdefault(f.fid, []).append(f)
            imaging_feats = [f for f in feats if f.kind != "finding"]
            self.diagnoses.append(
                (
                    dx_id,
                    prior_by_setting,
                    by_finding,
                    imaging_feats,
                    gates,
                    name,
                    _primary_icd(cond),
                )
            )
        # positions (in model order) of the diagnoses of exclusion and of the specific causes
        self.exclusion_index = [
            k for k, (dx_id, *_rest) in enumerate(self.diagnoses) if dx_id in self.of_exclusion
        ]
        self.specific_index = [
            k for k, (dx_id, *_rest) in enumerate(self.diagnoses) if dx_id not in self.yielding
        ]
        # finding id → [(diagnosis number, its rows)] for a present and for a denied finding:
        # one pass over the stated findings in id order applies every diagnosis's features in
        # finding-id order; features with no ratio for that answer (or a ratio of 1) are left out
        self.rows_present: dict[str, list[tuple[int, list[_Row]]]] = {}
        self.rows_absent: dict[str, list[tuple[int, list[_Row]]]] = {}
        for k, (_, _, by_finding, *_rest) in enumerate(self.diagnoses):
            for fid, flist in by_finding.items():
                for index, absent in ((self.rows_present, False), (self.rows_absent, True)):
                    rows = [row for f in flist if (row := f.row(absent)) is not None]
                    if rows:
                        index.setdefault(fid, []).append((k, rows))
        # finding id → the diagnoses a present finding weighs (by id)
        self.weighers_present: dict[str, frozenset[str]] = {
            fid: frozenset(self.diagnoses[k][0] for k, _ in got)
            for fid, got in self.rows_present.items()
        }


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_COMPILED: dict[str, _Model] = {}


def compiled_model(kb: KnowledgeBase) -> _Model:
    """The differential model as precompiled objects (once per knowledge-base version)."""
    cached = _COMPILED.get(kb.version)
    if cached is None:
        cached = _COMPILED[kb.version] = _Model(kb)
    return cached


def rank_differential(
    es: EvidenceSet,
    imaging: list[ImagingFinding],
    loc: Localization | None,
    setting: str,
    fired_conditions: dict[str, str],
    kb: KnowledgeBase,
    explain: int | None = None,
) -> list[DiagnosisResult]:
    """Score every diagnosis in the model and return them ranked by probability.

    A red-flag diagnosis whose triage rule fired is marked ``must_not_miss`` (see
    ``must_not_miss_section``) but keeps its place in the probability ranking. With `explain`
    set, only the top `explain` diagnoses and the must-not-miss ones carry their evidence lists.
    """
    m = compiled_model(kb)
    if setting not in SETTINGS:
        setting = "primary"
    present = es.present_ids()
    absent = es.absent_ids()
    seen_imaging = {f.finding for f in imaging if not f.negated}
    clinical_side = loc.roots[0].side if loc and loc.roots else None
    default_side = clinical_side
    values: list[dict[str, Any]] = []  # each diagnosis's fields, built as models at the end
    stated = present | absent
    imaging_by_id: dict[str, list[ImagingFinding]] = {}
    for f in imaging:
        imaging_by_id.setdefault(f.finding, []).append(f)
    imaging_ids = imaging_by_id.keys()
    matches: dict[int, str] = {}
    n = len(m.diagnoses)
    log_odds = [by_setting[setting][1] for _, by_setting, *_rest in m.diagnoses]
    ev_for: list[list[Contrib]] = [[] for _ in range(n)]
    ev_against: list[list[Contrib]] = [[] for _ in range(n)]
    grouped: dict[tuple[int, str], tuple[float, Contrib, float]] = {}
    # the stated findings in id order, each applied to every diagnosis that weighs it (so
    # explanations and one-of ties do not depend on set order)
    rows_present, rows_absent = m.rows_present, m.rows_absent
    sided = es.sided()
    may_side: set[str] = set()  # diagnoses weighing a finding recorded with a side
    for fid in sorted(stated):
        if fid in present:
            got = rows_present.get(fid)
            if got is None:
                continue
            # worded only for the diagnoses explained (see _contributions): most are not
            detail = _Stated(fid)
            if fid in sided:
                may_side |= m.weighers_present[fid]
        else:
            got = rows_absent.get(fid)
            if got is None:
                continue
            detail = "reported absent"
        for k, rows in got:
            for one_of, lr, llr, cid, label, lr_r, source in rows:
                contribution = (cid, label, lr_r, detail, source)
                if one_of is not None and not _one_of(
                    grouped, (k, one_of), lr, llr, contribution, log_odds, ev_for, ev_against
                ):
                    continue
                log_odds[k] += llr
                (ev_for[k] if lr > 1 else ev_against[k]).append(contribution)
    for k, (dx_id, prior_by_setting, _, imaging_feats, gates, name, icd) in enumerate(m.diagnoses):
        prior = prior_by_setting[setting][0]
        level = side = None
        if imaging:
            best_img = 0.0
            for feat in imaging_feats:
                if feat.kind == "not_seen":
                    if feat.group & seen_imaging:
                        continue
                    lr, lr_r, llr = feat.lr, feat.lr_r, feat.log_lr  # type: ignore[assignment]
                    detail = "not seen on the imaging provided"
                else:
                    if feat.fid not in imaging_ids:
                        continue
                    got_lr, detail, img_level, img_side = _imaging_lr(
                        feat.raw,
                        feat.fid,
                        imaging_by_id[feat.fid],
                        loc,
                        clinical_side,
                        kb,
                        m,
                        matches,
                    )
                    if got_lr is None:
                        continue
                    lr = got_lr
                    lr_r = round(lr, 3)
                    llr = math.log(lr) if lr != 1.0 else 0.0
                    if lr > best_img and img_level:
                        best_img, level, side = lr, img_level, img_side
                if lr == 1.0:
                    continue
                contribution = (feat.cid, feat.label, lr_r, detail, feat.source)  # type: ignore[assignment]
                if feat.one_of is not None and not _one_of(
                    grouped, (k, feat.one_of), lr, llr, contribution, log_odds, ev_for, ev_against
                ):
                    continue
                log_odds[k] += llr  # type: ignore[operator]
                (ev_for[k] if lr > 1 else ev_against[k]).append(contribution)
        dx_for, dx_against = ev_for[k], ev_against[k]
        for gate in gates:
            if gate.is_imaging:
                if imaging:
                    continue
                detail = "no imaging provided"
            elif gate.missing:
                if not gate.any.isdisjoint(present) or not gate.handled_absent.isdisjoint(absent):
                    continue  # stated either way: the feature's own LRs apply
                detail = "not stated"
            elif not gate.any.isdisjoint(present):
                detail = "present: " + ", ".join(sorted(gate.any & present))
            else:
                continue
            log_odds[k] += gate.log_lr
            (dx_for if gate.lr > 1 else dx_against).append(
                (gate.fid, gate.label, gate.lr_r, detail, gate.source)
            )
        probability = 1 / (1 + math.exp(-log_odds[k]))
        # the lists are put in order (strongest first) only for the diagnoses explained below
        values.append(
            {  # every field, in the model's order
                "id": dx_id,
                "name": name,
                "probability": probability,
                "level": level,
                "side": side if side is not None else default_side,
                "subtype": None,
                "subtype_reason": None,
                "must_not_miss": False,
                "refined_by": None,
                "rank_probability": probability,
                "prior": prior,
                "evidence_for": dx_for,
                "evidence_against": dx_against,
                "icd10cm": icd,
                "explained": True,
            }
        )
    # DiagnosisResults built without validation (the hot path; inputs are trusted)
    results = build_models(DiagnosisResult, values, _DIAGNOSIS_FIELDS)
    capped = _apply_exclusion(results, m)
    evidence_subtypes = m.evidence_subtypes
    for d in results:
        v = d.__dict__
        dx_id, probability = v["id"], v["probability"]
        for ids, sub_name in evidence_subtypes.get(dx_id, ()):
            hit = ids & present
            if hit:
                v["subtype"] = sub_name
                v["subtype_reason"] = "stated: " + ", ".join(_label(kb, h) for h in sorted(hit))
                break
        if dx_id in fired_conditions:
            v["must_not_miss"] = probability >= m.mnm_min or (
                m.mnm_emergency and fired_conditions[dx_id] == "emergency"
            )
        # shown rounded; the ranking starts from the shown value (refinements may lower it)
        v["probability"] = v["rank_probability"] = round(probability, 4)
    _apply_refinements(results, m)
    if m.yield_to_flagged:
        _exclusion_yields(results, m, fired_conditions)
    results.sort(key=lambda d: -d.rank_probability)
    _lateral_sides(results, sided, may_side, m.non_radicular)
    for rank, d in enumerate(results):
        v = d.__dict__
        if explain is None or rank < explain or v["must_not_miss"]:
            v["evidence_for"].sort(key=_LR, reverse=True)  # strongest first; ties keep order
            if v["id"] not in capped:  # a capped one was ordered before its cap was added
                v["evidence_against"].sort(key=_LR)
            v["evidence_for"] = _contributions(v["evidence_for"], es)
            v["evidence_against"] = _contributions(v["evidence_against"], es)
        else:  # a summary: the ranking is complete, the explanation of the tail is left out
            v["evidence_for"], v["evidence_against"], v["explained"] = [], [], False
    return results


def _one_of(
    grouped: dict[tuple[int, str], tuple[float, Contrib, float]],
    key: tuple[int, str],
    lr: float,
    llr: float,
    contribution: Contrib,
    log_odds: list[float],
    ev_for: list[list[Contrib]],
    ev_against: list[list[Contrib]],
) -> bool:
    """Settle a feature of a one-of group (one observation, several wordings): True to apply it.

    A stated finding beats a denied one, then the stronger likelihood ratio wins; a feature that
    wins takes back the one it replaces.
    """
    prev = grouped.get(key)
    if prev is not None:
        stated_now = contribution[_DETAIL] != "reported absent"
        stated_prev = prev[1][_DETAIL] != "reported absent"
        if (stated_prev, abs(prev[2])) >= (stated_now, abs(llr)):
            return False
        k = key[0]
        log_odds[k] -= prev[2]
        (ev_for[k] if prev[0] > 1 else ev_against[k]).remove(prev[1])
    grouped[key] = (lr, contribution, llr)
    return True


def _present_detail(es: EvidenceSet, fid: str) -> str:
    """How a present finding was recorded (sides, value), for its explanation."""
    sides = es.sides(fid)
    detail = "present" + (f" ({', '.join(sorted(sides))})" if sides else "")
    value = es.value(fid)
    if value is not None:
        detail += f", value {value:g}"
    return detail


_CONTRIBUTION_FIELDS = field_names(EvidenceContribution)


class _Stated(str):
    """The detail of a present finding, worded from the evidence only when it is shown."""

    __slots__ = ()


def _contributions(rows: list[Contrib], es: EvidenceSet) -> list[EvidenceContribution]:
    """EvidenceContributions built without validation (the hot path; inputs are trusted)."""
    if not rows:
        return []
    return build_models(
        EvidenceContribution,
        [
            {
                "id": c[0],
                "label": c[1],
                "likelihood_ratio": c[2],
                "detail": _present_detail(es, c[3]) if type(c[3]) is _Stated else c[3],
                "source": c[4],
            }
            for c in rows
        ],
        _CONTRIBUTION_FIELDS,
    )


_DIAGNOSIS_FIELDS = field_names(DiagnosisResult)


def must_not_miss_section(
    results: list[DiagnosisResult], fired_conditions: dict[str, str]
) -> list[DiagnosisResult]:
    """The must-not-miss diagnoses, most urgent rule first (a view; the ranking is untouched)."""
    order = {"emergency": 0, "urgent": 1, "routine": 2, "self_care": 3}
    flagged = [d for d in results if d.must_not_miss]
    return sorted(
        flagged, key=lambda d: (order.get(fired_conditions.get(d.id, ""), 4), -d.probability)
    )


def _apply_exclusion(results: list[DiagnosisResult], m: _Model) -> set[str]:
    """A diagnosis of exclusion cannot be likelier than 'no specific cause explains the pain'.

    The working labels inside it (discogenic, facet) are not specific causes, so they do not cap it.
    Returns the ids of the capped diagnoses: their evidence against is in order, the cap last.
    """
    capped: set[str] = set()
    if not m.exclusion_index:
        return capped
    # `results` is in the model's order: the positions of the specific causes and of the
    # diagnoses of exclusion are known in advance
    specific = max(map(_PROBABILITY, map(results.__getitem__, m.specific_index)), default=0.0)
    cap = 1.0 - specific
    for k in m.exclusion_index:
        d = results[k]
        if d.probability > cap:
            d.evidence_against.sort(key=_LR)  # the evidence in order, then the cap after it
            capped.add(d.id)
            d.evidence_against.append(
                (
                    "exclusion:specific_cause",
                    "a specific cause is likelier",
                    round((cap / (1 - cap)) / (d.probability / (1 - d.probability)), 3)
                    if 0 < cap < 1
                    else 0.0,
                    f"capped at {cap:.0%} (1 - the likeliest specific cause)",
                    None,
                )
            )
            d.probability = d.rank_probability = cap
    return capped


def _exclusion_yields(results: list[DiagnosisResult], m: _Model, fired: dict[str, str]) -> None:
    """Diagnoses of exclusion (and working labels within them) rank below flagged red flags."""
    flagged = [
        d.rank_probability
        for d in results
        if d.id in fired and d.probability >= m.yield_min and d.rank_probability > 0
    ]
    if not flagged:
        return
    target = min(flagged) * m.refine_factor
    for d in results:
        if d.id in m.yielding and d.rank_probability > target:
            d.rank_probability = target


def _apply_refinements(results: list[DiagnosisResult], m: _Model) -> None:
    """Rank a syndrome just below a more specific, imaging-supported diagnosis that explains it.

    Starts from each diagnosis's rank probability set to its shown probability.
    """
    by_id = {d.id: d for d in results}
    # (general, the specific diagnoses that may refine it): which specifics qualify depends only
    # on probabilities and evidence, fixed here, so it is settled once before the passes
    pairs: list[tuple[DiagnosisResult, list[DiagnosisResult]]] = []
    min_lr, min_p = m.refine_min_lr, m.refine_min_p
    for general, specifics in m.refined_by:
        g = by_id.get(general)
        if g is None:
            continue
        qualifying = [
            by_id[sid]
            for sid in specifics
            if sid in by_id
            and by_id[sid].probability >= min_p
            and any(
                c[_LRX] >= min_lr and c[_ID].startswith(("img:", "imaging_"))
                for c in by_id[sid].evidence_for
            )
        ]
        if qualifying:
            pairs.append((g, qualifying))
    explained: list[tuple[DiagnosisResult, list[DiagnosisResult]]] = []
    for general, specific, min_explain in m.explained_by:
        g = by_id.get(general)
        cands = [
            by_id[sid] for sid in specific if sid in by_id and by_id[sid].probability >= min_explain
        ]
        if g is not None and cands:
            explained.append((g, cands))
    pairs += explained
    if not pairs:
        return
    for _ in range(3):  # chains (herniation → sequestration) settle in a few passes
        for g, cands in pairs:
            best = max(cands, key=lambda d: d.rank_probability)
            target = best.rank_probability * m.refine_factor
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
    m: _Model,
    memo: dict[int, str],
) -> tuple[float | None, str | None, str | None, str | None]:
    """Best likelihood ratio contributed by the imaging findings of one type."""
    if not imaging:
        return None, None, None, None
    best: tuple[float, str, str | None, str | None] | None = None
    for f in imaging:
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
            how = memo.get(id(f))
            if how is None:
                how = memo[id(f)] = _imaging_match(f, loc, clinical_side, kb)
            if how not in feat:
                continue
            lr = float(feat[how])
        if feat.get("severity") and lr > 1:
            lr = 1 + (lr - 1) * m.severity_scale.get(f.severity, 1.0)
        if f.uncertain and lr > 1:
            lr = 1 + (lr - 1) * m.uncertain_weight  # "possible" findings count part
        if getattr(f, "historical", False) and lr > 1:
            lr = 1 + (lr - 1) * m.historical_weight  # old, healed or previous: a distractor
            how = f"old or healed ({how})"
        where = f"{f.level or 'level not stated'}, {f.side or 'side not stated'}"
        detail = f"{how}: {f.severity} at {where}"
        if best is None or lr > best[0] or (best[0] < 1 and lr >= 1):
            best = (lr, detail, f.level, f.side)
    if best is None:
        return None, None, None, None
    return best


def _lateral_sides(
    results: list[DiagnosisResult],
    sided: dict[str, frozenset[str]],
    may_side: set[str],
    non_radicular: frozenset[str],
) -> None:
    """Give mimics the side of their own supporting evidence when imaging did not set one.

    Only the diagnoses in `may_side` can have a finding with a side among their evidence.
    """
    if not may_side:
        return
    for d in results:
        if d.id not in may_side:
            continue
        sides: set[str] = set()
        for c in d.evidence_for:
            got = sided.get(c[_ID])
            if got and not c[_ID].startswith("img:"):
                sides |= got
        if not sides:
            continue
        if "bilateral" in sides or {"left", "right"} <= sides:
            d.side = d.side or "bilateral"
        elif d.side is None or d.id in non_radicular:
            d.side = next(iter(sides))


def subtype_for(
    dx: DiagnosisResult, imaging: list[ImagingFinding], kb: KnowledgeBase
) -> tuple[str | None, str | None]:
    """Pick the article's subtype ("Types") matching the imaging; else keep an evidence subtype."""
    fallback = (dx.subtype, dx.subtype_reason)
    if not imaging:
        return fallback  # nothing to match
    cond = kb.conditions.get(dx.id)
    if cond is None or not cond.types:
        return fallback
    relevant = compiled_model(kb).subtype_imaging
    target = relevant.get(dx.id)
    candidates = [f for f in imaging if not f.negated and (target is None or f.finding == target)]
    if not candidates:
        return fallback
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
    return fallback
