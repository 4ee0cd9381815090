"""Triage: red-flag rules (data in red_flags.yaml) → urgency, with the evidence behind each rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.knowledge.schema import URGENCY_RANK, Urgency
from spineguide.reasoning.evidence import EvidenceSet

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.differential import DiagnosisResult


class FlagEvidence(BaseModel):
    """One finding that made a rule fire, with the words that produced it."""

    id: str
    label: str
    text: str | None = None
    span: tuple[int, int] | None = None


class FiredRule(BaseModel):
    """A red-flag rule that fired."""

    id: str
    name: str
    urgency: Urgency
    escalated: bool = False
    condition: str | None = None
    evidence: list[FlagEvidence] = Field(default_factory=list)
    action: str
    rationale: str | None = None
    sources: list[str] = Field(default_factory=list)


class Triage(BaseModel):
    """Urgency with the red flags that drove it and the reasons for the final level."""

    urgency: Urgency
    red_flags: list[FiredRule] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    safety_net: str


def _group_met(group: dict[str, Any], present: set[str]) -> list[str]:
    hits = [f for f in group["any"] if f in present]
    return hits if len(hits) >= int(group.get("min", 1)) else []


def evaluate_rules(es: EvidenceSet, kb: KnowledgeBase) -> list[FiredRule]:
    """Every red-flag rule whose conditions are met by the present evidence."""
    present = es.present_ids()
    fired: list[FiredRule] = []
    for rule in (kb.raw.get("red_flags") or {}).get("rules", []):
        hits: list[str] = []
        ok = True
        for group in rule["all"]:
            got = _group_met(group, present)
            if not got:
                ok = False
                break
            hits += got
        if not ok:
            continue
        urgency = Urgency(rule["urgency"])
        escalated = False
        esc = [f for f in rule.get("escalate_with", []) if f in present]
        if esc and rule.get("escalated_urgency"):
            urgency = Urgency(rule["escalated_urgency"])
            escalated = True
            hits += esc
        evidence = []
        for fid in dict.fromkeys(hits):
            items = [e for e in es.get(fid) if e.choice == "present"]
            first = items[0] if items else None
            f = kb.findings.get(fid)
            evidence.append(
                FlagEvidence(
                    id=fid,
                    label=f.name if f else fid,
                    text=first.text if first else None,
                    span=first.span if first else None,
                )
            )
        fired.append(
            FiredRule(
                id=rule["id"],
                name=rule["name"],
                urgency=urgency,
                escalated=escalated,
                condition=rule.get("condition"),
                evidence=evidence,
                action=rule["action"],
                rationale=rule.get("rationale"),
                sources=list(rule.get("sources", [])),
            )
        )
    fired.sort(key=lambda r: -URGENCY_RANK[r.urgency])
    return fired


NONSPECIFIC_SELF_CARE = {"nonspecific-low-back-pain"}
SAFETY_NET_PROBABILITY = 0.25  # expert estimate: a red-flag diagnosis this likely sets the floor


def decide_urgency(
    fired: list[FiredRule],
    differential: list[DiagnosisResult],
    es: EvidenceSet,
    kb: KnowledgeBase,
) -> Triage:
    """Combine fired rules, the differential and the course into one urgency (more urgent wins)."""
    reasons: list[str] = []
    urgency = Urgency.self_care
    for rule in fired:
        if URGENCY_RANK[rule.urgency] > URGENCY_RANK[urgency]:
            urgency = rule.urgency
        reasons.append(f"{rule.name}: {rule.urgency.value}")
    # Safety net: a likely red-flag diagnosis sets a floor even if no rule fired.
    for dx in differential:
        cond = kb.conditions.get(dx.id)
        if cond is None or cond.group != "red_flag" or dx.probability < SAFETY_NET_PROBABILITY:
            continue
        floor = cond.default_urgency
        if URGENCY_RANK[floor] > URGENCY_RANK[urgency]:
            urgency = floor
            reasons.append(
                f"{cond.name} is {dx.probability:.0%} likely; its usual urgency is {floor.value}"
            )
    if not fired or URGENCY_RANK[urgency] <= URGENCY_RANK[Urgency.routine]:
        baseline = _baseline(differential, es, kb)
        if URGENCY_RANK[baseline[0]] > URGENCY_RANK[urgency]:
            urgency = baseline[0]
        reasons.append(baseline[1])
    safety = (
        "Seek emergency care at once for numbness between the legs or around the back passage, "
        "new trouble passing or controlling urine or stool, weakness getting worse, or fever "
        "with severe back pain."
    )
    return Triage(urgency=urgency, red_flags=fired, reasons=reasons, safety_net=safety)


def _baseline(
    differential: list[DiagnosisResult], es: EvidenceSet, kb: KnowledgeBase
) -> tuple[Urgency, str]:
    """Urgency when no red flag demands more: from the leading diagnosis and the deficits."""
    present = es.present_ids()
    top = differential[0] if differential else None
    deficit = bool(present & {"motor_deficit", "reflex_deficit", "sensory_deficit"})
    if top is None:
        return Urgency.routine, "No diagnosis could be ranked; planned review."
    cond = kb.conditions.get(top.id)
    if top.id in NONSPECIFIC_SELF_CARE and not deficit and "radicular_pain" not in present:
        if "chronic_course" in present:
            return Urgency.routine, "Persistent non-specific back pain: planned review."
        return (
            Urgency.self_care,
            "Non-specific low back pain without red flags or deficits: self-management with "
            "advice to stay active, and review if not improving.",
        )
    default = cond.default_urgency if cond else Urgency.routine
    if deficit or "radicular_pain" in present:
        if URGENCY_RANK[default] < URGENCY_RANK[Urgency.routine]:
            default = Urgency.routine
        return default, "Radicular symptoms or a focal deficit without red flags: planned review."
    name = cond.name if cond else top.id
    return default, f"Leading diagnosis {name}: usual urgency {default.value}."
