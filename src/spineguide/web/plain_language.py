"""Plain-language explanations of an imaging report for patients (6th-8th grade reading level).

Pure functions over the parsed report and the knowledge base; nothing is stored or logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from spineguide.reasoning.anatomy import affected_roots, in_root_order

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.plan import CarePlan
    from spineguide.text.models import ImagingFinding

CONTENT_PATH = Path(__file__).parent / "content.yaml"
ROOTS = ("L1", "L2", "L3", "L4", "L5", "S1")
DISC_LEVELS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
VERTEBRAE = ("L1", "L2", "L3", "L4", "L5", "S1")
_SIDE_WORDS = {
    "left": "on the left side",
    "right": "on the right side",
    "bilateral": "on both sides",
    "central": "in the middle",
}


@lru_cache(maxsize=1)
def content() -> dict[str, Any]:
    """The web app's plain-language content (content.yaml), loaded once."""
    with CONTENT_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# -- reading level -----------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


def count_syllables(word: str) -> int:
    """Approximate English syllables in one word (vowel groups with the usual corrections)."""
    w = word.lower()
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    groups = re.findall(r"[aeiouy]+", w)
    return max(1, len(groups))


def flesch_kincaid_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    syllables = sum(count_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


# -- words for levels, sides and severities ---------------------------------------------------


def level_words(level: str | None) -> str:
    """'L3-L4' -> 'between the L3 and L4 bones'; 'L4' -> 'at the L4 bone'."""
    if not level:
        return "at a level the report does not name"
    if "-" in level:
        upper, lower = level.split("-", 1)
        return f"between the {upper} and {lower} bones"
    return f"at the {level} bone"


def side_words(side: str | None) -> str:
    """Where across the spine: 'on the left side', 'on both sides', ''."""
    return _SIDE_WORDS.get(side or "", "")


def severity_words(severity: str) -> str:
    """'moderate' -> 'a medium amount' ('' when unstated)."""
    return str(content()["severity"].get(severity, ""))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


# -- nerve roots a finding can touch ---------------------------------------------------------


def roots_for_finding(f: ImagingFinding, kb: KnowledgeBase) -> list[str]:
    """Nerve roots (L1-S1) a finding at its level can press on, head to tail (anatomy rule)."""
    if f.negated:
        return []
    return [r for r in in_root_order(affected_roots(f, kb)) if r in ROOTS]


@dataclass
class RootExplanation:
    """What one nerve root can and cannot explain, in plain words."""

    root: str
    area: str
    can_explain: list[str] = field(default_factory=list)
    cannot_explain: list[str] = field(default_factory=list)


def _root_symptoms(root: str, kb: KnowledgeBase) -> list[str]:
    anat = kb.roots[root]
    names: list[str] = []
    for fid in [*anat.pain_findings, *anat.sensory_findings]:
        f = kb.findings.get(fid)
        if f and f.patient_name and fid not in ("radicular_pain_below_knee",):
            names.append(_lower_first(f.patient_name))
    for muscle in anat.myotome[:3]:
        f = kb.findings.get(muscle.finding or "")
        if f and f.patient_name:
            names.append(_lower_first(f.patient_name))
    reflex = kb.findings.get(anat.reflex_finding or "")
    if reflex and reflex.patient_name and root in ("L3", "L4", "S1"):
        names.append(_lower_first(reflex.patient_name))
    return list(dict.fromkeys(names))


def explain_roots(roots: list[str], kb: KnowledgeBase) -> list[RootExplanation]:
    """For each root: the symptoms it can explain and, from distant roots, some it cannot."""
    out = []
    affected = set(roots)
    for root in dict.fromkeys(roots):
        if root not in kb.roots:
            continue
        can = _root_symptoms(root, kb)
        own = set(kb.roots[root].sensory_findings)
        cannot: list[str] = []
        used: set[str] = set()
        # Roots furthest away first: their skin areas are the clearest "not this nerve" signs.
        others = sorted(
            (r for r in ROOTS if r not in affected and r in kb.roots),
            key=lambda r: -abs(ROOTS.index(r) - ROOTS.index(root)),
        )
        for other in others:
            for fid in kb.roots[other].sensory_findings:
                f = kb.findings.get(fid)
                shared = fid in own or any(
                    fid in kb.roots[a].sensory_findings for a in affected if a in kb.roots
                )
                if f and f.patient_name and not shared and fid not in used:
                    used.add(fid)
                    cannot.append(f"{_lower_first(f.patient_name)} (the {other} nerve)")
                    break
            if len(cannot) >= 3:
                break
        area = _lower_first(kb.roots[root].dermatome.split("(")[0].strip().rstrip("."))
        out.append(RootExplanation(root=root, area=area, can_explain=can, cannot_explain=cannot))
    return out


# -- one finding ------------------------------------------------------------------------------


@dataclass
class PlainFinding:
    """One report finding in plain language, with the nerves it can touch."""

    finding: str
    name: str
    level: str | None
    side: str | None
    where: str
    severity: str
    sentences: list[str]
    common: str | None = None
    urgent: bool = False
    negated: bool = False
    uncertain: bool = False
    condition: str | None = None
    roots: list[RootExplanation] = field(default_factory=list)
    source_text: str = ""
    what: str = ""

    @property
    def incidental(self) -> bool:
        """Often seen in people without pain (the page puts it in context)."""
        return self.common is not None and not self.roots


def explain_finding(f: ImagingFinding, kb: KnowledgeBase) -> PlainFinding:
    """Turn one parsed imaging finding into plain sentences for a patient."""
    info = content()["findings"].get(f.finding, {})
    name = info.get("name", f.finding.replace("_", " ").capitalize())
    where = " ".join(x for x in (level_words(f.level), side_words(f.side)) if x)
    sev = severity_words(f.severity)
    if f.negated:
        sentences = [f"No sign of {_lower_first(name)} {level_words(f.level)}."]
        if not f.level:
            sentences = [f"No sign of {_lower_first(name)}."]
        return PlainFinding(
            finding=f.finding, name=name, level=f.level, side=f.side, where=where,
            severity=f.severity, sentences=sentences, negated=True, source_text=f.text,
        )  # fmt: skip
    sentences = [f"The report finds this {where}." if f.level else "The report finds this."]
    sentences.append(info.get("what", ""))
    if sev:
        sentences.append(f"The report says it is {f.severity}, which means {sev}.")
    if f.uncertain:
        sentences.append("The report is not sure about this one.")
    if info.get("context"):
        sentences.append(info["context"])
    roots = explain_roots(roots_for_finding(f, kb), kb)
    urgent = f.finding in content()["same_day_findings"]
    return PlainFinding(
        finding=f.finding,
        name=name,
        level=f.level,
        side=f.side,
        where=where,
        severity=f.severity,
        sentences=[s for s in sentences if s],
        common=info.get("common"),
        urgent=urgent,
        uncertain=f.uncertain,
        condition=info.get("condition"),
        roots=roots,
        source_text=f.text,
        what=info.get("what", ""),
    )


# -- the spine picture -----------------------------------------------------------------------


@dataclass
class SpineMark:
    """One highlighted part of the spine picture."""

    level: str
    side: str | None
    label: str


def spine_marks(findings: list[PlainFinding]) -> list[SpineMark]:
    """Levels and sides to highlight on the L1-S1 picture (present findings only)."""
    marks = []
    for f in findings:
        if f.negated or not f.level:
            continue
        level = f.level if f.level in DISC_LEVELS or f.level in VERTEBRAE else None
        if level is None:
            continue
        marks.append(SpineMark(level=level, side=f.side, label=f.name))
    return marks


def spine_text(marks: list[SpineMark]) -> str:
    """The text equivalent of the spine picture (for screen readers and print)."""
    if not marks:
        return "Picture of the lower back bones L1 to S1. No part is marked."
    parts = []
    for m in marks:
        side = side_words(m.side)
        parts.append(f"{m.level}{' ' + side if side else ''}: {_lower_first(m.label)}")
    return "Picture of the lower back bones L1 to S1. Marked: " + "; ".join(parts) + "."


# -- the whole report -------------------------------------------------------------------------


@dataclass
class TreatmentOption:
    """One treatment with its evidence badge (medicines: 'ask your doctor', never a tick)."""

    name: str
    text: str
    verdict: str
    badge: dict[str, str]
    tier: str
    kind: str = ""
    rank: int = 0


@dataclass
class LevelGroup:
    """The findings at one level of the spine, with how much they matter and the nerves."""

    level: str
    severity: str  # low | medium | high | urgent (the picture's colour)
    severity_label: str
    headline: str
    findings: list[PlainFinding]
    roots: list[str]
    library: tuple[str, str] | None = None  # (condition id, name) for "read more"


@dataclass
class Summary:
    """The three lines at the top of the explainer."""

    says: str
    means: str
    help_now: str


@dataclass
class ConditionOptions:
    """A matching knowledge-base condition with its treatment options."""

    id: str
    name: str
    summary: str
    options: list[TreatmentOption]
    advised_against: list[TreatmentOption]
    seek_help: list[str]


@dataclass
class ReportExplanation:
    """Everything the patient page shows for one report."""

    findings: list[PlainFinding]
    reassurance: list[PlainFinding]
    marks: list[SpineMark]
    spine_text: str
    conditions: list[ConditionOptions]
    go_now: list[str]
    soon: list[str]
    seek_help: list[str]
    questions: list[str]
    urgent_findings: list[PlainFinding]
    warnings: list[str]
    levels: list[LevelGroup] = field(default_factory=list)
    nerves: list[RootExplanation] = field(default_factory=list)
    summary: Summary | None = None

    @property
    def level_severity(self) -> dict[str, str]:
        """Level -> severity for colouring the spine picture."""
        return {g.level: g.severity for g in self.levels}


def verdict_badge(verdict: str) -> dict[str, str]:
    """Label, symbol, plain text and CSS class of a guideline verdict badge."""
    v = content()["verdicts"].get(verdict) or content()["verdicts"]["no_guideline"]
    return {**v, "cls": f"badge-{verdict}"}


def _options(
    plan: CarePlan, limit: int = 14
) -> tuple[list[TreatmentOption], list[TreatmentOption]]:
    keep: list[TreatmentOption] = []
    against: list[TreatmentOption] = []
    seen: set[str] = set()
    for step in plan.steps:
        for item in step.items:
            if item.id in seen or item.kind == "advice":
                continue
            seen.add(item.id)
            text = item.patient_text or ""
            badge = verdict_badge(item.verdict)
            if item.kind == "drug":
                badge = dict(content()["ask_doctor_badge"])
            keep.append(
                TreatmentOption(
                    item.name,
                    text,
                    item.verdict,
                    badge,
                    step.title,
                    item.kind,
                    _tier_rank(step.tier),
                )
            )
        for item in step.advised_against:
            if item.id in seen:
                continue
            seen.add(item.id)
            against.append(
                TreatmentOption(
                    item.name,
                    item.patient_text or "",
                    item.verdict,
                    verdict_badge(item.verdict),
                    step.title,
                )
            )
    order = {"recommended": 0, "consider": 1, "package_only": 2, "conflicting": 3}
    keep.sort(key=lambda o: (o.rank, order.get(o.verdict, 4)))
    return keep[:limit], against


def _tier_rank(tier: str) -> int:
    """First line first: self-care, then non-drug care, medicines, then procedures."""
    tiers = content()["treatment_tier_order"]
    return tiers.index(tier) if tier in tiers else len(tiers)


def _questions(findings: list[PlainFinding], kb: KnowledgeBase, conditions: list[str]) -> list[str]:
    qs: list[str] = []
    for f in findings:
        if f.incidental:
            continue
        where = f" {level_words(f.level)}" if f.level else ""
        qs.append(f"Could the {_lower_first(f.name.split(' (')[0])}{where} explain my symptoms?")
    if any(f.roots for f in findings):
        qs.append("Which nerve may be pressed? Does my exam match that nerve?")
    if any(f.incidental for f in findings):
        qs.append("Which of these findings are normal for my age?")
    qs += [
        "What can I do myself to help? What should I avoid?",
        "Which treatment should I try first? How good is the proof that it works?",
        "Do I need more tests? What would they change?",
        "Which signs mean I should come back soon or go to the emergency department?",
        "How long does it usually take to get better?",
    ]
    for cid in conditions[:2]:
        cond = kb.conditions.get(cid)
        if cond:
            qs += [faq.question for faq in cond.faqs[:2]]
    return list(dict.fromkeys(qs))[:12]


def explain_report(text: str, kb: KnowledgeBase) -> ReportExplanation:
    """Parse an imaging report and explain it for a patient (nothing is stored)."""
    from spineguide.reasoning.plan import build_plan
    from spineguide.text.pipeline import extract

    read = extract(text, kind="report")
    plain = [explain_finding(f, kb) for f in read.imaging]
    present = [p for p in plain if not p.negated]
    negated = [p for p in plain if p.negated]
    # "protrusion without nerve root contact": the report rules the contact out at that level
    no_contact = {p.level for p in negated if p.finding == "nerve_root_compression" and p.level}
    for p in present:
        if p.level in no_contact and p.finding in _DISC_FINDINGS:
            p.roots = []
    # Conditions: specific findings first, incidental ones only when nothing else is found.
    cond_ids: list[str] = []
    ranked = sorted(present, key=lambda p: (p.incidental, -_finding_score(p)))
    for p in ranked:
        cid = _library_for(p, kb)
        if cid and cid not in cond_ids:
            if p.incidental and any(not q.incidental for q in present):
                continue
            cond_ids.append(cid)
    conditions = []
    for cid in cond_ids[:4]:
        cond = kb.conditions[cid]
        plan = build_plan(cid, kb)
        keep, against = _options(plan)
        seek = [
            s.patient_text if getattr(s, "patient_text", None) else s.text
            for s in cond.when_to_see_doctor
        ]
        conditions.append(
            ConditionOptions(
                id=cid,
                name=cond.name,
                summary=cond.patient_summary,
                options=keep,
                advised_against=against,
                seek_help=seek[:4],
            )
        )
    c = content()
    go_now = [
        kb.findings[i].patient_name or kb.findings[i].name for i in c["go_now"] if i in kb.findings
    ]
    soon = [
        kb.findings[i].patient_name or kb.findings[i].name for i in c["soon"] if i in kb.findings
    ]
    ces = kb.conditions.get("cauda-equina-syndrome")
    seek_help = (
        [s.text for s in ces.when_to_see_doctor if s.urgency.value == "emergency"] if ces else []
    )
    warnings = list(read.warnings)
    if not read.imaging:
        warnings.append(
            "We could not find any findings in this text. Paste the full report, including the "
            "Findings and Impression parts."
        )
    marks = spine_marks(present)
    levels = group_levels(present, kb)
    nerves = explain_roots([r for g in levels for r in g.roots], kb)
    ex = ReportExplanation(
        findings=present,
        reassurance=negated,
        marks=marks,
        spine_text=spine_text(marks),
        conditions=conditions,
        go_now=go_now,
        soon=soon,
        seek_help=seek_help,
        questions=_questions(present, kb, cond_ids),
        urgent_findings=[p for p in present if p.urgent],
        warnings=warnings,
        levels=levels,
        nerves=nerves,
    )
    ex.summary = summarise(ex)
    return ex


_LEVEL_ORDER = ("T12-L1", "L1", "L1-L2", "L2", "L2-L3", "L3", "L3-L4", "L4", "L4-L5", "L5",
                "L5-S1", "S1")  # fmt: skip
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "urgent": 3}


def finding_weight(f: PlainFinding) -> str:
    """How much one finding matters for the picture: low, medium, high or urgent."""
    if f.urgent:
        return "urgent"
    if f.roots and (f.severity in ("moderate", "severe") or f.finding in _PRESSING):
        if f.finding in _DISC_FINDINGS and f.severity == "mild" and f.finding != "disc_protrusion":
            return "medium"
        return "high"
    if f.roots or f.severity in ("moderate", "severe"):
        return "medium"
    return "low"


_PRESSING = {"nerve_root_compression", "disc_extrusion", "disc_sequestration", "disc_protrusion"}
_DISC_FINDINGS = {"disc_bulge", "disc_protrusion", "disc_extrusion", "disc_herniation"}


def _finding_score(f: PlainFinding) -> float:
    """Order of importance: weight class, then a named nerve contact, then the stated severity."""
    contact = 0.5 if f.finding in _PRESSING and f.roots else 0.0
    sev = {"severe": 0.3, "moderate": 0.2, "mild": 0.1}.get(f.severity, 0.0)
    return _SEVERITY_RANK[finding_weight(f)] + contact + sev


def _library_for(f: PlainFinding, kb: KnowledgeBase) -> str | None:
    """The library page for a finding at its level (level-specific pages only at their level)."""
    cid = f.condition
    rule = content()["level_specific_conditions"].get(cid or "")
    if rule and f.level not in rule["levels"]:
        cid = rule["otherwise"]
    return cid if cid in kb.conditions else None


def group_levels(findings: list[PlainFinding], kb: KnowledgeBase) -> list[LevelGroup]:
    """Findings grouped by level, most to least important within a level, levels top to bottom."""
    groups: dict[str, list[PlainFinding]] = {}
    for f in findings:
        groups.setdefault(f.level or "Level not stated", []).append(f)
    labels = content()["level_severity"]
    out = []
    for level, items in groups.items():
        items.sort(key=lambda f: -_finding_score(f))
        sev = finding_weight(items[0])
        roots = list(dict.fromkeys(r.root for f in items for r in f.roots))
        lib = None
        for f in items:
            cid = _library_for(f, kb)
            if cid:
                lib = (cid, kb.conditions[cid].name)
                break
        headline = _headline(items, roots)
        out.append(LevelGroup(level, sev, labels[sev], headline, items, roots, lib))
    out.sort(key=lambda g: _LEVEL_ORDER.index(g.level) if g.level in _LEVEL_ORDER else 99)
    return out


def _nerve_words(roots: list[str]) -> str:
    """['L5'] -> 'L5 nerve'; ['L4', 'L5'] -> 'L4 and L5 nerves'."""
    if not roots:
        return ""
    ordered = sorted(dict.fromkeys(roots), key=lambda r: ROOTS.index(r) if r in ROOTS else 9)
    return " and ".join(ordered) + (" nerves" if len(ordered) > 1 else " nerve")


def _headline(items: list[PlainFinding], roots: list[str]) -> str:
    """One line for a level: its main finding and the nerve it may touch."""
    touches = any(f.finding == "nerve_root_compression" for f in items)
    causes = [f for f in items if f.finding != "nerve_root_compression"]
    if touches:
        contact = [r.root for f in items if f.finding == "nerve_root_compression" for r in f.roots]
        nerves = _nerve_words(contact or roots)
    else:
        nerves = _nerve_words([r.root for r in items[0].roots])
    if touches and causes:
        return f"{causes[0].name} touching the {nerves}."
    if touches:
        return f"Pressure on the {nerves}." if nerves else f"{items[0].name}."
    near = f", near the {nerves}" if nerves else ""
    return f"{items[0].name}{near}."


def summarise(ex: ReportExplanation) -> Summary:
    """The three summary lines: what the report says, what it usually means, when to get help."""
    words = content()["summary"]
    named = [g for g in ex.levels if g.level != "Level not stated"]
    if not ex.levels:
        says = words["says_nothing"]
    else:
        worst = max(ex.levels, key=lambda g: max(_finding_score(f) for f in g.findings))
        count = len(named)
        where = (
            f"{count} level{'s' if count != 1 else ''} of your lower back"
            if count
            else ("your lower back")
        )
        main = _lower_first(worst.headline.rstrip("."))
        at = f" at {worst.level}" if worst.level in _LEVEL_ORDER else ""
        says = f"Changes at {where}. The main one is {main}{at}."
    if any(g.severity == "urgent" for g in ex.levels):
        means = words["means_urgent"]
    elif any(g.roots for g in ex.levels):
        means = words["means_nerve"]
    else:
        means = words["means_common"]
    help_now = words["help_now"]
    if ex.urgent_findings:
        help_now = words["help_today"] + " " + help_now
    return Summary(says=says, means=means, help_now=help_now)


def plain_sentences(ex: ReportExplanation) -> list[str]:
    """Every plain-language sentence the explainer writes itself (for reading-level checks)."""
    out: list[str] = []
    for f in ex.findings + ex.reassurance:
        out += f.sentences
        if f.common:
            out.append(f.common)
        for r in f.roots:
            out += [f"It can explain {x}." for x in r.can_explain]
            out += [f"It cannot explain {x}." for x in r.cannot_explain]
    out += [q for q in ex.questions]
    out += [f"{x}." for x in ex.go_now + ex.soon]
    return out
