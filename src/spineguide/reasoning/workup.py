"""Work-up: tests to order now, only if there is no improvement, and not at all — with reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from spineguide.knowledge.schema import URGENCY_RANK, Urgency
from spineguide.reasoning.fastmodel import build_model, field_names

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


def _flag(when: dict[str, Any], key: str) -> bool | None:
    return bool(when[key]) if key in when else None


def _ids(when: dict[str, Any], key: str) -> frozenset[str] | None:
    return frozenset(when[key]) if key in when else None


class _Rule:
    """A work-up rule from workup.yaml (validated at load), compiled once per KB version."""

    __slots__ = ("acute", "any_top3_in", "deficit", "id", "imaging_given", "no_urgent_flags",
                 "rule_fired", "tests", "top_in")  # fmt: skip

    def __init__(self, rule: dict[str, Any]) -> None:
        when = rule["when"]
        self.id: str = rule["id"]
        self.rule_fired = _ids(when, "rule_fired")
        self.top_in = _ids(when, "top_in")
        self.any_top3_in = _ids(when, "any_top3_in")
        self.no_urgent_flags = bool(when.get("no_urgent_flags"))
        self.acute = _flag(when, "acute")
        self.deficit = _flag(when, "deficit")
        self.imaging_given = _flag(when, "imaging_given")
        self.tests: list[tuple[str, Timing, str, tuple[str, ...]]] = [
            (t["test"], t["timing"], t["why"], tuple(t.get("sources", ()))) for t in rule["tests"]
        ]


class _Model:
    """workup.yaml compiled once per KB version."""

    def __init__(self, kb: KnowledgeBase) -> None:
        model = kb.raw.get("workup") or {}
        settings = model["settings"]
        self.acute_days = int(settings["acute_days"])
        self.min_p = float(settings["condition_investigations_min_probability"])
        self.rules = [_Rule(r) for r in model.get("rules", [])]
        # test id → (name, category): an enum's value is a Python property, read once here
        self.tests = {tid: (t.name, t.category.value) for tid, t in kb.tests.items()}


_MODELS: dict[str, _Model] = {}
_ITEM_FIELDS = field_names(WorkupItem)
_WORKUP_FIELDS = field_names(Workup)
_ORDER = {"now": 0, "if_no_improvement": 1, "not_recommended": 2}
_DEFICITS = frozenset({"motor_deficit", "reflex_deficit", "sensory_deficit"})


def build_workup(
    differential: list[DiagnosisResult],
    triage: Triage,
    es: EvidenceSet,
    imaging_given: bool,
    kb: KnowledgeBase,
) -> Workup:
    """Apply the work-up rules, then add first investigations of likely red-flag conditions."""
    m = _MODELS.get(kb.version)
    if m is None:
        m = _MODELS[kb.version] = _Model(kb)
    fired = {r.id for r in triage.red_flags}
    buckets: dict[Timing, list[WorkupItem]] = {"now": [], "if_no_improvement": [],
                                               "not_recommended": []}  # fmt: skip
    seen: dict[str, Timing] = {}

    def add(test_id: str, timing: Timing, why: str, rule: str, sources: list[str]) -> None:
        prev = seen.get(test_id)
        if prev is not None and _ORDER[prev] <= _ORDER[timing]:
            return
        if prev is not None:
            for bucket in buckets.values():
                bucket[:] = [i for i in bucket if i.test != test_id]
        test = m.tests.get(test_id)
        # values from the validated KB: no second validation
        item = build_model(
            WorkupItem,
            {
                "test": test_id,
                "name": test[0] if test else test_id.replace("_", " "),
                "category": test[1] if test else None,
                "timing": timing,
                "why": why,
                "rule": rule,
                "sources": sources,
            },
            _ITEM_FIELDS,
        )
        buckets[timing].append(item)
        seen[test_id] = timing

    for rule in m.rules:
        # the rule's conditions (all must hold), tested in line: this runs for every rule
        if rule.rule_fired is not None and rule.rule_fired.isdisjoint(fired):
            continue
        if rule.top_in is not None and _leading_non_red(differential) not in rule.top_in:
            continue
        if rule.any_top3_in is not None and not any(
            d.id in rule.any_top3_in for d in differential[:3]
        ):
            continue
        if rule.no_urgent_flags and any(
            URGENCY_RANK[r.urgency] >= URGENCY_RANK[Urgency.urgent] for r in triage.red_flags
        ):
            continue
        if rule.acute is not None:
            days = es.value("symptom_duration_days")
            if (days is None or days < m.acute_days) != rule.acute:
                continue
        if rule.deficit is not None and es.any_present(_DEFICITS) != rule.deficit:
            continue
        if rule.imaging_given is not None and rule.imaging_given != imaging_given:
            continue
        for test_id, timing, why, sources in rule.tests:
            add(test_id, timing, why, rule.id, list(sources))
    # Likely diagnoses bring their own first investigations (as "now" when urgent).
    for d in differential[:3]:
        cond = kb.conditions.get(d.id)
        if cond is None or d.probability < m.min_p:
            continue
        urgent = URGENCY_RANK[cond.default_urgency] >= URGENCY_RANK[Urgency.urgent]
        for test_id in cond.first_investigations:
            if test_id in seen:
                continue
            if imaging_given and test_id in ("mri", "ct", "xray"):
                continue
            test = m.tests.get(test_id)
            bedside = test is not None and test[1] in ("physical", "provocative")
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
    return build_model(Workup, dict(buckets), _WORKUP_FIELDS)
