"""Where sources disagree: doses between articles and labels, and articles vs guidelines.

Kinds reported:

* ``dose_max_daily``: articles give different daily ceilings for one drug (stated, or implied by
  the largest single dose × the most frequent interval when no ceiling is stated);
* ``dose_range``: articles give single-dose ranges whose upper ends differ by ≥ 1.5×;
* ``dose_vs_label``: an article's daily ceiling or single dose differs from the drug's
  ``dose_limits`` for the same route (stated ceilings both ways; implied ones only when above);
* ``article_vs_guideline``: a treatment the articles present that a guideline advises against
  (stance ``do_not_offer`` or ``not_routinely``);
* ``guideline_vs_guideline``: guidelines that recommend/consider a treatment while another
  advises against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from spineguide.ingest.coverage import normalize
from spineguide.ingest.template import IngestedArticle

NEGATIVE = frozenset({"do_not_offer", "not_routinely"})
POSITIVE = frozenset({"recommended", "consider", "package_only"})
RANGE_RATIO = 1.5  # single-dose upper ends differing by this factor or more are reported

_AMOUNT = re.compile(
    r"(?<![\w/])(?P<lo>\d+(?:[.,]\d+)?)(?:\s*(?:[–-]|to)\s*(?P<hi>\d+(?:[.,]\d+)?))?\s*"
    r"(?P<unit>mg|g|mcg|µg)(?![a-zA-Z])(?P<perday>\s*/\s*day)?",
    re.I,
)
_MAX_CUE = re.compile(
    r"(?:max(?:imum)?\.?|up to|not exceed|titrat\w*(?: up)? to|increase\w*"
    r"(?: \w+)? to|⇧ to)\s*$",
    re.I,
)
_EVERY = re.compile(
    r"every\s+(?P<a>\d+(?:\.\d+)?)(?:\s*[–-]\s*(?P<b>\d+(?:\.\d+)?))?\s*(?:h\b|hours?|hrs?)", re.I
)
_FREQ_WORDS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(p, re.I), n)
    for p, n in (
        (r"\b(?:two|2) to (?:four|4) times\b|\bthree to four times\b|\b3[–-]4 times\b", 4),
        (r"\bfour times\b|\bqid\b|\b4 times\b", 4),
        (r"\b(?:two|2) to (?:three|3) times\b|\bthree times\b|\btid\b|\b3 times\b", 3),
        (r"\btwice\b|\btwo times\b|\bbid\b|\b2 times\b|\bonce or twice\b", 2),
        (r"\bonce daily\b|\bdaily\b|\bonce a day\b|\bat (?:bedtime|night)\b", 1),
    )
)


def _to_mg(value: float, unit: str) -> float | None:
    u = unit.lower()
    if u == "g":
        return value * 1000
    if u == "mg":
        return value
    if u in ("mcg", "µg"):
        return value / 1000
    return None


def _f(text: str) -> float:
    return float(text.replace(",", ""))


def route_of(text: str) -> str:
    """Route family of a dose text: parenteral, topical or oral."""
    t = text.lower()
    if re.search(r"\b(?:iv|im|intravenous|intramuscular|injection|injected|epidural|subcut)\b", t):
        return "parenteral"
    if re.search(r"\b(?:apply|topical|gel|cream|patch)\b", t):
        return "topical"
    return "oral"


def stated_max_daily_mg(
    dose: str | None, timing: str | None = None, max_daily: str | None = None
) -> float | None:
    """Largest daily ceiling stated ('max 4 g/day' → 4000); any amount in ``max_daily`` counts."""
    best = None
    for text, need_cue in ((dose, True), (timing, True), (max_daily, False)):
        if not text:
            continue
        for m in _AMOUNT.finditer(text):
            if need_cue and not m.group("perday"):
                continue  # in dose/timing text only per-day amounts are daily totals
            mg = _to_mg(_f(m.group("hi") or m.group("lo")), m.group("unit"))
            if mg is not None and (best is None or mg > best):
                best = mg
    return best


def single_dose_range_mg(text: str | None) -> tuple[float, float] | None:
    """The single-dose range in mg (first amount that is not a per-day figure)."""
    if not text:
        return None
    for m in _AMOUNT.finditer(text):
        if m.group("perday"):
            continue
        lo = _to_mg(_f(m.group("lo")), m.group("unit"))
        hi = _to_mg(_f(m.group("hi") or m.group("lo")), m.group("unit"))
        if lo is None or hi is None:
            continue
        # Take the largest stated single dose (e.g. "300 mg at night, ⇧ to 900–1200 mg TID").
        best = (lo, hi)
        for m2 in _AMOUNT.finditer(text, m.end()):
            if m2.group("perday"):
                continue
            hi2 = _to_mg(_f(m2.group("hi") or m2.group("lo")), m2.group("unit"))
            if hi2 is not None and hi2 > best[1]:
                lo2 = _to_mg(_f(m2.group("lo")), m2.group("unit")) or hi2
                best = (lo2, hi2)
        return best
    return None


def doses_per_day(text: str | None) -> int | None:
    """Most frequent dosing stated ('every 6–8 hours' → 4, 'three times daily' → 3)."""
    if not text:
        return None
    m = _EVERY.search(text)
    if m:
        hours = float(m.group("a"))
        return max(1, int(24 // hours)) if hours > 0 else None
    for pat, n in _FREQ_WORDS:
        if pat.search(text):
            return n
    return None


# ---------------------------------------------------------------------------------------------
# Report models
# ---------------------------------------------------------------------------------------------


class Side(BaseModel):
    """One side of a disagreement."""

    source: str | None
    kind: str  # article | label | guideline
    statement: str
    value: float | None = None
    basis: str | None = None  # stated | implied | label | stance


class Contradiction(BaseModel):
    """Sources that disagree about one item."""

    kind: str
    item: str  # collection:id (or article:name when the drug is not in the KB yet)
    name: str
    summary: str
    sides: list[Side] = Field(default_factory=list)
    resolution: str | None = None  # which side the reasoning uses and why, if recorded


class ContradictionReport(BaseModel):
    """All contradictions found."""

    kb_version: str | None = None
    count: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    contradictions: list[Contradiction] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Dose statements
# ---------------------------------------------------------------------------------------------


@dataclass
class _DoseInfo:
    source: str | None
    text: str
    route: str
    single: tuple[float, float] | None
    stated_max: float | None
    implied_max: float | None

    @property
    def effective_max(self) -> tuple[float | None, str]:
        if self.stated_max is not None:
            return self.stated_max, "stated"
        return self.implied_max, "implied"


def dose_info(
    source: str | None, dose: str | None, timing: str | None, max_daily: str | None
) -> _DoseInfo | None:
    """Parse one statement's dose fields into comparable numbers (mg)."""
    text = " | ".join(x for x in (dose, timing, max_daily) if x)
    if not text:
        return None
    route = route_of(text)
    single = single_dose_range_mg(dose or text)
    stated = stated_max_daily_mg(dose, timing, max_daily)
    per_day = doses_per_day(dose) or doses_per_day(timing)
    implied = single[1] * per_day if single and per_day else None
    return _DoseInfo(source, text, route, single, stated, implied)


def _fmt_mg(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{int(v)} mg" if v == int(v) else f"{v} mg"


def _limit_for(drug: Any, route: str) -> Any | None:
    limits = [
        lim
        for lim in getattr(drug, "dose_limits", [])
        if route_of(lim.route) == route or lim.route.lower() == route
    ]
    if not limits:
        return None
    adult = [lim for lim in limits if "adult" in (lim.population or "").lower()]
    return (adult or limits)[0]


def _dose_contradictions(
    ident: str, name: str, infos: list[_DoseInfo], drug: Any | None
) -> list[Contradiction]:
    out: list[Contradiction] = []
    notes = "; ".join(
        st.note for st in getattr(drug, "article_statements", []) if getattr(st, "note", None)
    )
    by_route: dict[str, list[_DoseInfo]] = {}
    for info in infos:
        by_route.setdefault(info.route, []).append(info)
    for route, group in by_route.items():
        limit = _limit_for(drug, route) if drug is not None else None
        resolution = None
        if limit is not None:
            resolution = (
                f"dose checks use dose_limits ({limit.route}, {limit.population}): "
                f"max {_fmt_mg(limit.max_daily_mg)}/day"
                + (f", {limit.label}" if limit.label else "")
                + (f" [source {limit.source}]" if limit.source else " [expert estimate]")
                + (f"; {limit.rationale}" if limit.rationale else "")
            )
        if notes:
            resolution = f"{resolution}; notes: {notes}" if resolution else f"notes: {notes}"
        maxes = {(i.source, *i.effective_max) for i in group if i.effective_max[0] is not None}
        if len({v for _, v, _ in maxes}) > 1:
            sides = [
                Side(
                    source=s, kind="article", statement=f"{_fmt_mg(v)}/day ({b})", value=v, basis=b
                )
                for s, v, b in sorted(maxes, key=lambda x: (x[1], str(x[0])))
            ]
            lo, hi = sides[0].value, sides[-1].value
            out.append(
                Contradiction(
                    kind="dose_max_daily",
                    item=ident,
                    name=name,
                    summary=f"{name} ({route}): daily maximum {_fmt_mg(lo)} vs {_fmt_mg(hi)}",
                    sides=sides,
                    resolution=resolution,
                )
            )
        singles = [(i.source, i.single) for i in group if i.single]
        highs = [r[1] for _, r in singles]
        if highs and min(highs) > 0 and max(highs) / min(highs) >= RANGE_RATIO:
            sides = [
                Side(
                    source=s,
                    kind="article",
                    statement=f"{_fmt_mg(r[0])}–{_fmt_mg(r[1])} per dose",
                    value=r[1],
                    basis="stated",
                )
                for s, r in sorted(singles, key=lambda x: x[1][1])
            ]
            out.append(
                Contradiction(
                    kind="dose_range",
                    item=ident,
                    name=name,
                    summary=f"{name} ({route}): single dose up to {_fmt_mg(min(highs))} vs "
                    f"{_fmt_mg(max(highs))}",
                    sides=sides,
                    resolution=resolution,
                )
            )
        if limit is None:
            continue
        label_side = Side(
            source=limit.source,
            kind="label",
            statement=f"{limit.usual}; max {_fmt_mg(limit.max_daily_mg)}/day"
            + (f", max single {_fmt_mg(limit.max_single_mg)}" if limit.max_single_mg else ""),
            value=limit.max_daily_mg,
            basis="label",
        )
        for info in group:
            value, basis = info.effective_max
            problems = []
            if limit.max_daily_mg and value is not None:
                if basis == "stated" and value != limit.max_daily_mg:
                    word = "above" if value > limit.max_daily_mg else "below"
                    problems.append(f"stated daily maximum {_fmt_mg(value)} is {word} the label")
                elif basis == "implied" and value > limit.max_daily_mg:
                    problems.append(
                        f"dose × frequency allows {_fmt_mg(value)}/day, above the label maximum"
                    )
            if limit.max_single_mg and info.single and info.single[1] > limit.max_single_mg:
                problems.append(f"single dose {_fmt_mg(info.single[1])} above the label maximum")
            if problems:
                out.append(
                    Contradiction(
                        kind="dose_vs_label",
                        item=ident,
                        name=name,
                        summary=f"{name} ({route}): " + "; ".join(problems),
                        sides=[
                            Side(
                                source=info.source,
                                kind="article",
                                statement=info.text,
                                value=value,
                                basis=basis,
                            ),
                            label_side,
                        ],
                        resolution=resolution,
                    )
                )
    return out


def _article_drug_infos(
    articles: list[IngestedArticle], kb: Any
) -> dict[str, tuple[str, list[_DoseInfo]]]:
    """Dose infos from ingested drug items, keyed by KB drug id (or article name)."""
    out: dict[str, tuple[str, list[_DoseInfo]]] = {}
    finder = getattr(kb, "drug", None)
    for art in articles:
        for item in art.items():
            if item.section != "drugs":
                continue
            raw_name = item.name or re.sub(r"\s*\(.*$", "", item.title)
            drug = None
            if callable(finder):
                drug = finder(raw_name) or finder(item.title)
            key = f"drugs:{drug.id}" if drug else f"article:{normalize(raw_name)}"
            name = drug.name if drug else raw_name
            f = item.fields
            info = dose_info(item.source or item.file, f.dose, f.timing, f.max_daily)
            if info:
                out.setdefault(key, (name, []))[1].append(info)
    return out


def find_contradictions(
    kb: Any, articles: list[IngestedArticle] | None = None
) -> ContradictionReport:
    """List dose, label and guideline disagreements recorded in the KB (and given articles)."""
    report = ContradictionReport(kb_version=getattr(kb, "version", None))
    drugs = getattr(kb, "drugs", {})
    therapies = getattr(kb, "therapies", {})
    sources = getattr(kb, "sources", {})

    per_drug: dict[str, tuple[str, list[_DoseInfo]]] = {}
    for drug in drugs.values():
        infos = []
        for st in drug.article_statements:
            info = dose_info(st.source, st.dose, st.timing, st.max_daily)
            if info:
                infos.append(info)
        per_drug[f"drugs:{drug.id}"] = (drug.name, infos)
    if articles:
        for key, (name, infos) in _article_drug_infos(articles, kb).items():
            have = {i.source for i in per_drug.get(key, (name, []))[1]}
            extra = [i for i in infos if i.source not in have]
            per_drug.setdefault(key, (name, []))[1].extend(extra)
    for key, (name, infos) in per_drug.items():
        drug = drugs.get(key.split(":", 1)[1]) if key.startswith("drugs:") else None
        report.contradictions += _dose_contradictions(key, name, infos, drug)

    entries = [("drugs", d) for d in drugs.values()] + [
        ("therapies", t) for t in therapies.values()
    ]
    for coll, entry in entries:
        stances = [s for s in entry.guideline_stances if s.stance != "not_addressed"]
        negative = [s for s in stances if s.stance in NEGATIVE]
        positive = [s for s in stances if s.stance in POSITIVE]
        presenters = sorted(
            {
                st.source
                for st in entry.article_statements
                if getattr(sources.get(st.source), "kind", "seed_article") == "seed_article"
            }
        )
        evidence = getattr(entry, "evidence_note", None)
        if negative:
            sides = [
                Side(
                    source=s,
                    kind="article",
                    statement=f"presents {entry.name} as a treatment",
                    basis="stated",
                )
                for s in presenters
            ] + [_stance_side(s) for s in negative]
            summary = f"{entry.name}: advised against by " + ", ".join(
                s.guideline for s in negative
            )
            summary += (
                f"; presented by {len(presenters)} article(s)"
                if presenters
                else "; no article statement recorded yet"
            )
            report.contradictions.append(
                Contradiction(
                    kind="article_vs_guideline",
                    item=f"{coll}:{entry.id}",
                    name=entry.name,
                    summary=summary,
                    sides=sides,
                    resolution=_stance_resolution(negative, evidence),
                )
            )
        if negative and positive:
            report.contradictions.append(
                Contradiction(
                    kind="guideline_vs_guideline",
                    item=f"{coll}:{entry.id}",
                    name=entry.name,
                    summary=f"{entry.name}: "
                    + ", ".join(f"{s.guideline} {s.stance}" for s in positive)
                    + " vs "
                    + ", ".join(f"{s.guideline} {s.stance}" for s in negative),
                    sides=[_stance_side(s) for s in positive + negative],
                    resolution=_stance_resolution(positive + negative, evidence),
                )
            )
    for c in report.contradictions:
        report.by_kind[c.kind] = report.by_kind.get(c.kind, 0) + 1
    report.count = len(report.contradictions)
    if not drugs and not therapies:
        report.notes.append("the knowledge base has no drugs or therapies yet")
    return report


def _stance_side(s: Any) -> Side:
    bits = [str(s.stance)]
    if s.recommendation:
        bits.append(f"rec {s.recommendation}")
    if s.population:
        bits.append(f"for {s.population}")
    if s.note:
        bits.append(s.note)
    return Side(source=s.guideline, kind="guideline", statement="; ".join(bits), basis="stance")


def _stance_resolution(stances: list[Any], evidence_note: str | None) -> str | None:
    """A recorded statement of which view the reasoning follows, if the KB has one."""
    for s in stances:
        if s.note and re.search(r"\b(?:reasoning|we use|we follow|plan uses)\b", s.note, re.I):
            return f"{s.guideline}: {s.note}"
    return f"evidence note: {evidence_note}" if evidence_note else None


def render_text(report: ContradictionReport) -> str:
    """Human-readable contradiction list."""
    if not report.contradictions:
        lines = ["no contradictions found"]
    else:
        lines = [
            f"{report.count} contradiction(s): "
            + ", ".join(f"{k} {n}" for k, n in sorted(report.by_kind.items()))
        ]
    for c in report.contradictions:
        lines.append(f"\n[{c.kind}] {c.summary}  ({c.item})")
        for s in c.sides:
            lines.append(f"  - {s.source or '?'} ({s.kind}): {s.statement}")
        if c.resolution:
            lines.append(f"  => {c.resolution}")
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)
