"""Triage: red-flag rules (data in red_flags.yaml) → urgency, with the evidence behind each rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.knowledge.schema import URGENCY_RANK, Urgency
from spineguide.reasoning.derive import load_thresholds
from spineguide.reasoning.evidence import EvidenceSet
from spineguide.reasoning.fastmodel import build_model, field_names

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
    unanswered_red_flags: list[str] = Field(
        default_factory=list,
        description="red-flag screen domains not yet recorded (self-care needs them answered)",
    )


class ScreenStatus(BaseModel):
    """Which red-flag screen domains are recorded negative, positive or unanswered."""

    negative: list[str] = Field(default_factory=list)
    positive: list[str] = Field(default_factory=list)
    unanswered: list[str] = Field(default_factory=list)
    complete: bool = False

    def missing_labels(self) -> list[str]:
        """Plain labels of the unanswered domains."""
        screen = load_thresholds().red_flag_screen
        return [screen.domains[d].label for d in self.unanswered]


def screen_status(es: EvidenceSet) -> ScreenStatus:
    """The red-flag screen (thresholds.yaml) as recorded in this evidence set."""
    t = load_thresholds()
    screen = t.red_flag_screen
    present = es.present_ids()
    status = ScreenStatus()
    for name, dom in screen.domains.items():
        if any(f in present for f in dom.positive):
            status.positive.append(name)
        elif any(es.absent(f) for f in dom.negative_if_absent) or any(
            f in present for f in dom.negative_if_present
        ):
            status.negative.append(name)
        else:
            status.unanswered.append(name)
    others = sum(1 for d in screen.others if d in status.negative)
    status.complete = all(d in status.negative for d in screen.required) and others >= int(
        t.number("screen_other_domains_min")
    )
    return status


def _group_met(group: dict[str, Any], present: set[str]) -> list[str]:
    hits = [f for f in group["any"] if f in present]
    return hits if len(hits) >= int(group.get("min", 1)) else []


class _Rule:
    """A red-flag rule from red_flags.yaml (validated at load), compiled once per KB version."""

    __slots__ = ("action", "condition", "esc_urgency", "escalate_with", "groups", "id", "name",
                 "rationale", "sources", "urgency")  # fmt: skip

    def __init__(self, rule: dict[str, Any]) -> None:
        self.id: str = rule["id"]
        self.name: str = rule["name"]
        self.urgency = Urgency(rule["urgency"])
        esc = rule.get("escalated_urgency")
        self.esc_urgency = Urgency(esc) if esc else None
        self.escalate_with: tuple[str, ...] = tuple(rule.get("escalate_with", ()))
        self.condition: str | None = rule.get("condition")
        # (the group's findings as a set for a quick miss, in file order, its minimum)
        self.groups = tuple(
            (frozenset(g["any"]), tuple(g["any"]), int(g.get("min", 1))) for g in rule["all"]
        )
        self.action: str = rule["action"]
        self.rationale: str | None = rule.get("rationale")
        self.sources: tuple[str, ...] = tuple(rule.get("sources", ()))


_RULES: dict[str, list[_Rule]] = {}


def _rules(kb: KnowledgeBase) -> list[_Rule]:
    got = _RULES.get(kb.version)
    if got is None:
        got = _RULES[kb.version] = [
            _Rule(r) for r in (kb.raw.get("red_flags") or {}).get("rules", [])
        ]
    return got


_RED_FLAG_CONDITIONS: dict[str, dict[str, Any]] = {}


def _red_flag_conditions(kb: KnowledgeBase) -> dict[str, Any]:
    """Condition id → condition, for the red-flag group (once per KB version)."""
    got = _RED_FLAG_CONDITIONS.get(kb.version)
    if got is None:
        got = _RED_FLAG_CONDITIONS[kb.version] = {
            cid: c for cid, c in kb.conditions.items() if c.group == "red_flag"
        }
    return got


_FLAG_FIELDS = field_names(FlagEvidence)
_TRIAGE_FIELDS = field_names(Triage)
_RULE_FIELDS = field_names(FiredRule)


def evaluate_rules(es: EvidenceSet, kb: KnowledgeBase) -> list[FiredRule]:
    """Every red-flag rule whose conditions are met by the present evidence."""
    present = es.present_ids()
    fired: list[FiredRule] = []
    for rule in _rules(kb):
        hits: list[str] = []
        for any_set, any_list, minimum in rule.groups:
            if any_set.isdisjoint(present):
                break  # a group with nothing present is unmet (even with a minimum of 0)
            got = [f for f in any_list if f in present]
            if len(got) < minimum:
                break
            hits += got
        else:
            urgency = rule.urgency
            escalated = False
            esc = [f for f in rule.escalate_with if f in present]
            if esc and rule.esc_urgency:
                urgency = rule.esc_urgency
                escalated = True
                hits += esc
            evidence = []
            for fid in dict.fromkeys(hits):
                first = es.first_present(fid)
                f = kb.findings.get(fid)
                # values typed by the KB schema and the evidence model: no second validation
                evidence.append(
                    build_model(
                        FlagEvidence,
                        {
                            "id": fid,
                            "label": f.name if f else fid,
                            "text": first.text if first else None,
                            "span": first.span if first else None,
                        },
                        _FLAG_FIELDS,
                    )
                )
            fired.append(
                build_model(
                    FiredRule,
                    {
                        "id": rule.id,
                        "name": rule.name,
                        "urgency": urgency,
                        "escalated": escalated,
                        "condition": rule.condition,
                        "evidence": evidence,
                        "action": rule.action,
                        "rationale": rule.rationale,
                        "sources": list(rule.sources),
                    },
                    _RULE_FIELDS,
                )
            )
    fired.sort(key=lambda r: -URGENCY_RANK[r.urgency])
    return fired


NONSPECIFIC_SELF_CARE = {"nonspecific-low-back-pain"}
# Presentations that can be self-managed once the screen is negative: back pain itself, or a
# recognised benign mimic (trochanteric pain, meralgia paraesthetica).
BENIGN_PATTERN = {
    "low_back_pain", "axial_pain_only", "trochanter_tenderness", "lateral_hip_pain",
    "anterolateral_thigh_burning", "sensory_loss_anterolateral_thigh",
}  # fmt: skip


def rule_urgency(present: set[str], kb: KnowledgeBase) -> int:
    """Highest urgency rank any rule reaches on a set of present ids (-1 when none fires)."""
    best = -1
    for rule in (kb.raw.get("red_flags") or {}).get("rules", []):
        if all(_group_met(g, present) for g in rule["all"]):
            rank = URGENCY_RANK[Urgency(rule["urgency"])]
            esc = rule.get("escalated_urgency")
            if esc and any(f in present for f in rule.get("escalate_with", ())):
                rank = max(rank, URGENCY_RANK[Urgency(esc)])
            best = max(best, rank)
    return best


def decide_urgency(
    fired: list[FiredRule],
    differential: list[DiagnosisResult],
    es: EvidenceSet,
    kb: KnowledgeBase,
    *,
    uninterpreted: bool = False,
) -> Triage:
    """Combine fired rules, the differential and the course into one urgency (more urgent wins).

    Unknown is not absent: self-care needs a recognised benign pattern *and* a red-flag screen
    recorded negative; otherwise the floor is routine and the unanswered questions are listed.
    """
    reasons: list[str] = []
    safety_net_probability = load_thresholds().number("safety_net_probability")
    urgency = Urgency.self_care
    for rule in fired:
        if URGENCY_RANK[rule.urgency] > URGENCY_RANK[urgency]:
            urgency = rule.urgency
        reasons.append(f"{rule.name}: {rule.urgency.value}")
    # Safety net: a likely red-flag diagnosis sets a floor even if no rule fired.
    judged = {r.condition for r in fired if r.condition}  # a specific rule outranks the default
    red_flag_conditions = _red_flag_conditions(kb)
    for dx in differential:
        if dx.probability < safety_net_probability:
            continue
        cond = red_flag_conditions.get(dx.id)
        if cond is None:
            continue
        if dx.id in judged:
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
    unanswered: list[str] = []
    if urgency == Urgency.self_care:
        status = screen_status(es)
        benign = bool(es.present_ids() & BENIGN_PATTERN)
        blockers = []
        if not benign:
            blockers.append("no benign back-pain pattern was positively recognised")
        if not status.complete:
            unanswered = status.missing_labels()
            blockers.append(
                "the red-flag screen is not recorded negative (not yet asked: "
                + "; ".join(unanswered)
                + ")"
            )
        if uninterpreted:
            blockers.append("part of the note could not be interpreted")
        if blockers:
            urgency = Urgency.routine
            reasons.append("Routine review rather than self-care: " + ", and ".join(blockers) + ".")
    safety = (
        "Seek emergency care at once for numbness between the legs or around the back passage, "
        "new trouble passing or controlling urine or stool, weakness getting worse, or fever "
        "with severe back pain."
    )
    return build_model(  # typed values (an Urgency, built rules, strings): no re-validation
        Triage,
        {
            "urgency": urgency,
            "red_flags": fired,
            "reasons": reasons,
            "safety_net": safety,
            "unanswered_red_flags": unanswered,
        },
        _TRIAGE_FIELDS,
    )


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
