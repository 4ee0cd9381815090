"""Work-up: tests to order now, only if there is no improvement, and not at all — with reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from spineguide.knowledge.schema import URGENCY_RANK, Urgency

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.differential import DiagnosisResult
    from spineguide.reasoning.evidence import EvidenceSet
    from spineguide.reasoning.triage import Triage

Timing = Literal["now", "if_no_improvement", "not_recommended"]


class WorkupItem(BaseModel):
    """One test with when to do it and why."""

    test: str
    name: str
    category: str | None = None
    timing: Timing
    why: str
    rule: str
    sources: list[str] = Field(default_factory=list)


class Workup(BaseModel):
    """The work-up in three lists."""

    now: list[WorkupItem] = Field(default_factory=list)
    if_no_improvement: list[WorkupItem] = Field(default_factory=list)
    not_recommended: list[WorkupItem] = Field(default_factory=list)


def _leading_non_red(differential: list[DiagnosisResult]) -> str | None:
    for d in differential:
        if not d.must_not_miss:
            return d.id
    return differential[0].id if differential else None


def _when_holds(
    when: dict[str, Any],
    fired: set[str],
    differential: list[DiagnosisResult],
    triage: Triage,
    es: EvidenceSet,
    imaging_given: bool,
    acute_days: int,
) -> bool:
    present = es.present_ids()
    if "rule_fired" in when and not fired & set(when["rule_fired"]):
        return False
    if "top_in" in when and _leading_non_red(differential) not in when["top_in"]:
        return False
    if "any_top3_in" in when and not {d.id for d in differential[:3]} & set(when["any_top3_in"]):
        return False
    if when.get("no_urgent_flags") and any(
        URGENCY_RANK[r.urgency] >= URGENCY_RANK[Urgency.urgent] for r in triage.red_flags
    ):
        return False
    if "acute" in when:
        days = es.value("symptom_duration_days")
        acute = days is None or days < acute_days
        if acute != bool(when["acute"]):
            return False
    if "deficit" in when:
        has = bool(present & {"motor_deficit", "reflex_deficit", "sensory_deficit"})
        if has != bool(when["deficit"]):
            return False
    return not ("imaging_given" in when and bool(when["imaging_given"]) != imaging_given)


def build_workup(
    differential: list[DiagnosisResult],
    triage: Triage,
    es: EvidenceSet,
    imaging_given: bool,
    kb: KnowledgeBase,
) -> Workup:
    """Apply the work-up rules, then add first investigations of likely red-flag conditions."""
    model = kb.raw.get("workup") or {}
    rules = model.get("rules", [])
    settings = model["settings"]
    acute_days = int(settings["acute_days"])
    min_p = float(settings["condition_investigations_min_probability"])
    fired = {r.id for r in triage.red_flags}
    out = Workup()
    seen: dict[str, Timing] = {}
    order = {"now": 0, "if_no_improvement": 1, "not_recommended": 2}

    def add(test_id: str, timing: Timing, why: str, rule: str, sources: list[str]) -> None:
        prev = seen.get(test_id)
        if prev is not None and order[prev] <= order[timing]:
            return
        if prev is not None:
            for bucket in (out.now, out.if_no_improvement, out.not_recommended):
                bucket[:] = [i for i in bucket if i.test != test_id]
        test = kb.tests.get(test_id)
        item = WorkupItem(
            test=test_id,
            name=test.name if test else test_id.replace("_", " "),
            category=test.category.value if test else None,
            timing=timing,
            why=why,
            rule=rule,
            sources=sources,
        )
        getattr(out, timing).append(item)
        seen[test_id] = timing

    for rule in rules:
        if not _when_holds(
            rule["when"], fired, differential, triage, es, imaging_given, acute_days
        ):
            continue
        for t in rule["tests"]:
            add(t["test"], t["timing"], t["why"], rule["id"], list(t.get("sources", [])))
    # Likely diagnoses bring their own first investigations (as "now" when urgent).
    for d in differential[:3]:
        cond = kb.conditions.get(d.id)
        if cond is None or d.probability < min_p:
            continue
        urgent = URGENCY_RANK[cond.default_urgency] >= URGENCY_RANK[Urgency.urgent]
        for test_id in cond.first_investigations:
            if test_id in seen:
                continue
            if imaging_given and test_id in ("mri", "ct", "xray"):
                continue
            test = kb.tests.get(test_id)
            bedside = test is not None and test.category.value in ("physical", "provocative")
            timing: Timing = (
                "now" if urgent or bedside or cond.group == "mimic" else "if_no_improvement"
            )
            add(
                test_id,
                timing,
                f"First investigation for suspected {cond.name.lower()}.",
                f"condition:{cond.id}",
                list(cond.sources[:2]),
            )
    return out
