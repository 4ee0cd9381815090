"""Stepped care plan graded against NICE NG59, ACP 2017 and WHO 2023 for the leading diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from spineguide.knowledge.schema import GuidelineStance, PlanTier, Stance

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.knowledge.schema import Drug, Therapy

Verdict = Literal[
    "recommended", "consider", "package_only", "conflicting", "advised_against", "no_guideline"
]  # fmt: skip
_AGAINST = {Stance.do_not_offer, Stance.not_routinely}
_ORDER = {
    "recommended": 0, "consider": 1, "package_only": 2, "conflicting": 3, "no_guideline": 4,
    "advised_against": 5,
}  # fmt: skip


class PlanItem(BaseModel):
    """A treatment in the plan, with its guideline verdicts."""

    id: str
    name: str
    kind: str
    verdict: Verdict
    verdict_text: str
    stances: list[GuidelineStance] = Field(default_factory=list, exclude=True)  # in verdict_text
    description: str | None = None
    patient_text: str | None = None
    dose: str | None = None
    alerts: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class PlanStep(BaseModel):
    """One tier of the stepped plan; advised-against items are kept apart, never recommended."""

    tier: str
    title: str
    items: list[PlanItem] = Field(default_factory=list)
    advised_against: list[PlanItem] = Field(default_factory=list)
    advice: list[str] = Field(default_factory=list)


class CarePlan(BaseModel):
    """Stepped care plan for the leading diagnosis."""

    diagnosis: str | None
    diagnosis_name: str | None = None
    steps: list[PlanStep] = Field(default_factory=list)
    referral_criteria: list[str] = Field(default_factory=list)
    prevention: list[str] = Field(default_factory=list)
    dos: list[str] = Field(default_factory=list)
    donts: list[str] = Field(default_factory=list)
    seek_help: list[str] = Field(default_factory=list)
    note: str | None = None


def guideline_verdict(stances: list[GuidelineStance]) -> tuple[Verdict, str]:
    """Summarise NICE/ACP/WHO stances into one verdict and a short readable line."""
    if not stances:
        return "no_guideline", "No guideline position recorded."
    against = [s for s in stances if s.stance in _AGAINST]
    positive = [s for s in stances if s.stance in (Stance.recommended, Stance.consider)]
    parts = []
    for s in stances:
        if s.stance == Stance.not_addressed:
            continue
        rec = f" {s.recommendation}" if s.recommendation else ""
        parts.append(
            f"{guideline_short_name(s.guideline)}{rec}: {s.stance.value.replace('_', ' ')}"
        )
    text = "; ".join(parts) if parts else "Not addressed by NICE, ACP or WHO."
    if against and positive:
        return "conflicting", text
    if against:
        return "advised_against", text
    if any(s.stance == Stance.recommended for s in stances):
        return "recommended", text
    if positive:
        return "consider", text
    if any(s.stance == Stance.package_only for s in stances):
        return "package_only", text
    return "no_guideline", text


def guideline_short_name(guideline: str) -> str:
    """Display name of a guideline source id (NICE NG59, ACP 2017, WHO 2023)."""
    return {"nice-ng59": "NICE NG59", "acp-2017": "ACP 2017", "who-2023": "WHO 2023"}.get(
        guideline, guideline
    )


def _therapy_item(t: Therapy, source_id: str | None) -> PlanItem:
    verdict, text = guideline_verdict(t.guideline_stances)
    dose = t.usual_dose
    if source_id:
        for st in t.article_statements:
            if st.source == source_id and st.dose:
                dose = dose or st.dose
    return PlanItem(
        id=t.id,
        name=t.name,
        kind=t.kind,
        verdict=verdict,
        verdict_text=text,
        stances=t.guideline_stances,
        description=t.description,
        patient_text=t.patient_description,
        dose=dose,
        sources=t.sources[:3],
    )


def _drug_item(d: Drug, source_id: str | None) -> PlanItem:
    verdict, text = guideline_verdict(d.guideline_stances)
    dose = None
    for st in d.article_statements:
        if st.source == source_id and st.dose:
            dose = st.dose
            break
    if dose is None and d.dose_limits:
        dose = d.dose_limits[0].usual
    return PlanItem(
        id=d.id,
        name=d.name,
        kind="drug",
        verdict=verdict,
        verdict_text=text,
        stances=d.guideline_stances,
        description=d.description,
        patient_text=d.patient_description,
        dose=dose,
        sources=d.sources[:3],
    )


# (KB version, diagnosis) → (the plan without patient alerts, the drug ids it names)
_CACHE: dict[tuple[str, str], tuple[CarePlan, frozenset[str]]] = {}


def build_plan(
    diagnosis_id: str | None,
    kb: KnowledgeBase,
    drug_alerts: dict[str, list[str]] | None = None,
) -> CarePlan:
    """The stepped plan for one diagnosis, with this patient's drug alerts attached."""
    if diagnosis_id is None or diagnosis_id not in kb.conditions:
        return CarePlan(diagnosis=diagnosis_id, note="No diagnosis to plan for.")
    key = (kb.version, diagnosis_id)
    cached = _CACHE.get(key)
    if cached is None:
        plan = _build_base_plan(diagnosis_id, kb)
        drugs = frozenset(
            i.id
            for step in plan.steps
            for i in step.items + step.advised_against
            if i.kind == "drug"
        )
        cached = _CACHE[key] = (plan, drugs)
    base, plan_drugs = cached
    relevant = plan_drugs.intersection(drug_alerts or ())
    if not relevant:
        return base.model_copy()
    alerts = drug_alerts or {}

    def with_alerts(items: list[PlanItem]) -> list[PlanItem]:
        return [
            i.model_copy(update={"alerts": list(alerts[i.id])})
            if i.kind == "drug" and i.id in relevant
            else i
            for i in items
        ]

    steps = []
    for step in base.steps:
        items = with_alerts(step.items)
        items.sort(key=lambda i: (_ORDER[i.verdict], bool(i.alerts), i.name))
        steps.append(
            step.model_copy(
                update={"items": items, "advised_against": with_alerts(step.advised_against)}
            )
        )
    return base.model_copy(update={"steps": steps})


def _build_base_plan(diagnosis_id: str, kb: KnowledgeBase) -> CarePlan:
    """Assemble the stepped plan for one diagnosis from the KB's therapies, drugs and condition."""
    cfg: dict[str, Any] = kb.raw.get("plan") or {}
    cond = kb.conditions[diagnosis_id]
    seed = cond.seed_article
    spinal = diagnosis_id in cfg.get("spinal_pain_group", [])
    radicular = diagnosis_id in cfg.get("radicular_group", [])
    max_items = int(cfg["max_items_per_tier"])
    max_invest = int(cfg["max_items_investigational"])
    max_advice = int(cfg["max_advice_items"])
    max_list = int(cfg["max_list_items"])
    max_seek = int(cfg["max_seek_help_items"])
    titles = cfg.get("tier_titles", {})

    buckets: dict[str, list[PlanItem]] = {}
    for t in kb.therapies.values():
        linked = diagnosis_id in t.conditions or any(s.source == seed for s in t.article_statements)
        if not linked:
            continue
        buckets.setdefault(t.tier.value, []).append(_therapy_item(t, seed))
    if spinal:
        seeds = {s.id for s in kb.sources.values() if s.kind.value == "seed_article"}
        for d in kb.drugs.values():
            if not any(st.source in seeds for st in d.article_statements):
                continue
            item = _drug_item(d, seed)
            buckets.setdefault(PlanTier.drug.value, []).append(item)
    for step in cond.management:
        tier = step.tier.value
        ref = kb.therapies.get(step.therapy or "") or None
        if ref is not None:
            item = _therapy_item(ref, seed)
        elif step.drug and step.drug in kb.drugs:
            item = _drug_item(kb.drugs[step.drug], seed)
        else:
            item = PlanItem(
                id=f"{cond.id}:step",
                name=step.text,
                kind="advice",
                verdict="no_guideline",
                verdict_text="Condition-specific management step.",
                patient_text=step.patient_text,
                sources=step.sources,
            )
        if step.when:
            item.description = f"{item.description or ''} (When: {step.when})".strip()
        buckets.setdefault(tier, []).insert(0, item)

    steps: list[PlanStep] = []
    for tier in (
        PlanTier.self_management, PlanTier.non_drug, PlanTier.drug, PlanTier.injection,
        PlanTier.surgery, PlanTier.supplement, PlanTier.advanced,
    ):  # fmt: skip
        items = buckets.get(tier.value, [])
        if not items and tier != PlanTier.self_management:
            continue
        seen: set[str] = set()
        unique = [i for i in items if not (i.id in seen or seen.add(i.id))]
        keep = [i for i in unique if i.verdict != "advised_against"]
        keep.sort(key=lambda i: (_ORDER[i.verdict], i.name))
        against = [  # named with the guideline verdict; details live in the knowledge base
            i.model_copy(update={"description": None, "patient_text": None, "dose": None})
            for i in unique
            if i.verdict == "advised_against"
        ]
        step = PlanStep(
            tier=tier.value,
            title=titles.get(tier.value, tier.value),
            items=keep[
                : max_invest if tier in (PlanTier.supplement, PlanTier.advanced) else max_items
            ],
            advised_against=sorted(against, key=lambda i: i.name),
        )
        if tier == PlanTier.self_management:
            step.advice = [d.text for d in cond.dos][:max_advice]
        steps.append(step)

    stenosis = diagnosis_id in cfg.get("stenosis_group", [])
    group = "radicular" if radicular else ("stenosis" if stenosis else (
        "axial" if spinal else "default"))  # fmt: skip
    criteria = [c["text"] for c in cfg.get("referral_criteria", {}).get(group, [])]
    return CarePlan(
        diagnosis=diagnosis_id,
        diagnosis_name=cond.name,
        steps=steps,
        referral_criteria=criteria,
        prevention=[p.text for p in cond.prevention][:max_list],
        dos=[d.text for d in cond.dos][:max_list],
        donts=[d.text for d in cond.donts][:max_list],
        seek_help=[s.text for s in cond.when_to_see_doctor][:max_seek],
    )
