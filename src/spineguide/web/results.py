"""What the clinician result page shows beyond the raw assessment: the short personalised plan,
medicines already taken, guideline stance chips, work-up minus what is recorded, and sides.

Pure functions over an Assessment and the knowledge base (nothing stored, nothing logged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spineguide.web.plain_language import content

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.assess import Assessment, CaseInput


# -- medicines the patient already takes --------------------------------------------------------


@dataclass
class TakenMedicine:
    """A medicine from the form or the note, resolved to the knowledge base where possible."""

    text: str
    drug_id: str | None
    name: str
    classes: set[str] = field(default_factory=set)
    ingredients: set[str] = field(default_factory=set)


def medicines_taken(a: Assessment, kb: KnowledgeBase) -> list[TakenMedicine]:
    """The medicines the medication check read, with their duplicate-therapy classes."""
    report = a.medication_report or {}
    dup = set(content()["duplicate_therapy_classes"])
    out: list[TakenMedicine] = []
    for m in report.get("medications", []):
        drug = kb.drugs.get(m.get("drug_id") or "")
        classes = set(drug.classes) & dup if drug else set()
        for part in getattr(drug, "combination_of", None) or []:
            ing = kb.drugs.get(part)
            if ing:
                classes |= set(ing.classes) & dup
        name = drug.name if drug else (m.get("name") or m.get("input") or "")
        parts = set(getattr(drug, "combination_of", None) or [])
        out.append(
            TakenMedicine(m.get("input", ""), drug.id if drug else None, name, classes, parts)
        )
    return out


# -- guideline stances as chips -------------------------------------------------------------------

_STANCE_RE = re.compile(r";\s+(?=[A-Z][A-Za-z]+ )")
_STANCE_SYMBOL = {
    "recommended": ("✓", "recommended"),
    "consider": ("?", "consider"),
    "package only": ("◐", "package_only"),
    "package_only": ("◐", "package_only"),
    "advised against": ("✗", "advised_against"),
    "not recommended": ("✗", "advised_against"),
    "conflicting": ("±", "no_guideline"),
}


def stance_chips(verdict_text: str | None) -> list[dict[str, str]]:
    """'NICE NG59 1.2.7: package only; ACP 2017 Rec 1: recommended' -> one chip per guideline."""
    chips = []
    for part in _STANCE_RE.split(verdict_text or ""):
        who, sep, stance = part.rpartition(": ")
        if not sep:
            continue
        stance = stance.strip().rstrip(".")
        symbol, cls = _STANCE_SYMBOL.get(stance.lower(), ("•", "no_guideline"))
        short = who.split(" ")[0]
        chips.append({"who": short, "ref": who, "stance": stance, "symbol": symbol, "cls": cls})
    return chips


def _score(verdict_text: str | None) -> float:
    """Guideline support: 2 per 'recommended', 1 per 'consider', 0.5 per 'package only'."""
    weights = {"recommended": 2.0, "consider": 1.0, "package_only": 0.5}
    return sum(weights.get(c["cls"], 0.0) for c in stance_chips(verdict_text))


# -- the short personalised plan ---------------------------------------------------------------


@dataclass
class ItemView:
    """A plan item with what the page must say about this patient."""

    item: Any
    tier: str
    chips: list[dict[str, str]]
    taking: str | None = None  # "already takes ibuprofen" / "already takes an NSAID (...)"
    warnings: list[str] = field(default_factory=list)

    @property
    def caution(self) -> bool:
        """True when the item must not be shown as a plain tick."""
        return bool(self.taking or self.warnings)


@dataclass
class PlanView:
    """The handful of first-line items for this patient, and everything else folded."""

    short: list[ItemView]
    steps: list[tuple[str, list[ItemView], list[Any], list[str]]]
    hidden_count: int


def _alerts_for(drug_id: str, a: Assessment) -> list[str]:
    out = []
    for al in a.medication_alerts:
        if drug_id in (al.get("drugs") or []):
            out.append(f"{al.get('title') or ''}: {al.get('message') or ''}".strip(": "))
    return out


def _view(
    item: Any, tier: str, a: Assessment, kb: KnowledgeBase, meds: list[TakenMedicine]
) -> ItemView:
    v = ItemView(item=item, tier=tier, chips=stance_chips(item.verdict_text))
    if item.kind == "drug":
        drug = kb.drugs.get(item.id)
        dup = set(content()["duplicate_therapy_classes"])
        classes = set(drug.classes) & dup if drug else set()
        for m in meds:
            if m.drug_id == item.id:
                v.taking = f"Already taking: {m.text or m.name}"
                break
            if item.id in m.ingredients:
                v.taking = f"Already taking {m.name}, which contains it"
                break
            shared = classes & m.classes
            if shared:
                label = ", ".join(sorted(c.replace("_", " ") for c in shared))
                v.taking = f"Already taking {m.name} ({label}): do not add a second"
                break
        v.warnings = list(item.alerts) + _alerts_for(item.id, a)
    return v


def plan_view(a: Assessment, kb: KnowledgeBase, meds: list[TakenMedicine]) -> PlanView:
    """Pick up to five first-line items (self-care, non-drug, one safe medicine); fold the rest."""
    cfg = content()["short_plan"]
    prefer = {d: i for i, d in enumerate(cfg["drug_preference"])}
    steps = []
    short: list[ItemView] = []
    total = 0
    for step in a.plan.steps:
        views = [_view(i, step.tier, a, kb, meds) for i in step.items]
        total += len(views)
        title = re.sub(r"^\s*\d+\.\s*", "", step.title)
        steps.append((title, views, step.advised_against, step.advice))
        take = cfg["per_tier"].get(step.tier, 0)
        if not take:
            continue
        eligible = [v for v in views if v.item.verdict in ("recommended", "consider")]
        if step.tier == "drug":
            eligible = [v for v in eligible if not v.caution]
        eligible.sort(
            key=lambda v: (-_score(v.item.verdict_text), prefer.get(v.item.id, 99), v.item.name)
        )
        short += eligible[:take]
    return PlanView(short=short, steps=steps, hidden_count=max(0, total - len(short)))


# -- work-up without what the note already records ------------------------------------------------


def _recorded_tests(a: Assessment, case: CaseInput | None) -> dict[str, str]:
    """Test id -> what the input already records about it."""
    cfg = content()["recorded_tests"]
    done: dict[str, str] = {}
    evidence = list(case.evidence) if case is not None else []
    for e in evidence:
        for test in cfg.get(e.id, []):
            value = f" {e.value:g}" if getattr(e, "value", None) is not None else ""
            done.setdefault(test, f"{e.id.replace('_', ' ')}{value}")
    text = " ".join(
        x for x in ((case.text if case else None), (case.imaging_report if case else None)) if x
    )
    if a.imaging or re.search(r"\bMRI\b", text):
        done.setdefault("mri", "imaging report given")
    for e in getattr(a, "evidence", None) or []:
        eid = getattr(e, "id", None)
        for test in cfg.get(eid or "", []):
            done.setdefault(test, str(eid).replace("_", " "))
    return done


def workup_view(a: Assessment, case: CaseInput | None) -> dict[str, Any]:
    """The work-up buckets with tests the input already records moved to 'already recorded'."""
    done = _recorded_tests(a, case)

    def keep(items: list[Any]) -> list[Any]:
        return [i for i in items if i.test not in done]

    already = [
        (i, done[i.test]) for i in [*a.workup.now, *a.workup.if_no_improvement] if i.test in done
    ]
    return {
        "now": keep(a.workup.now),
        "later": keep(a.workup.if_no_improvement),
        "not": a.workup.not_recommended,
        "already": already,
    }


# -- sides -------------------------------------------------------------------------------------


def red_flags_fired(a: Assessment) -> bool:
    """True when red-flag rules fired (the red box is shown only then)."""
    return any(
        getattr(r.urgency, "value", r.urgency) in ("emergency", "urgent", "soon")
        for r in a.triage.red_flags
    )


def root_sides(a: Assessment) -> dict[str, str]:
    """Root -> 'left' | 'right' | 'both sides': a root localised on both sides reads 'both'."""
    sides: dict[str, set[str]] = {}
    for r in a.localization.roots:
        if r.probability < 0.25:
            continue
        if r.side == "bilateral":
            sides.setdefault(r.root, set()).update({"left", "right"})
        elif r.side:
            sides.setdefault(r.root, set()).add(r.side)
    return {
        root: "both sides" if s >= {"left", "right"} else next(iter(s)) for root, s in sides.items()
    }


def side_words(side: str | None) -> str:
    """'bilateral' -> 'both sides'; other sides unchanged; None -> '—'."""
    if not side:
        return "—"
    return "both sides" if side == "bilateral" else side


def diagnosis_side(d: Any, a: Assessment) -> str | None:
    """The side to tag a diagnosis with: 'both sides' when its root is localised on both sides."""
    both = {root for root, s in root_sides(a).items() if s == "both sides"}
    if d.side in ("left", "right") and both:
        roots = {r.root for r in a.localization.roots if r.probability >= 0.25}
        if roots and roots <= both:
            return "both sides"
    if d.side == "bilateral":
        return "both sides"
    return d.side if d.side != "central" else None
