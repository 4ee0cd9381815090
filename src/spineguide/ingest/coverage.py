"""Coverage of ingested articles by the knowledge base, checked field by field.

Matching rules (docs/KB_AUTHORING.md):

* a section key maps to a KB collection (types/causes/symptoms → the seed condition's lists,
  diagnostic_tests → tests, drugs → drugs, treatments → therapies + drugs, …);
* named items match an entry whose id, name, alias or article-statement ``name_in_source`` equals
  the normalized title, or appears as whole words at the start of it (longest wins);
* unnamed items (prevention, dos, donts, when_to_see_doctor, faqs, anatomy, functions) match the
  condition entry whose ``refs`` hold ``{source, section, item}``;
* a matched item counts as *covered* only when the KB side holds the facts the article gives:
  for each stated field, the KB field is non-empty; every number of the article field appears in
  our field (dose-like fields may share numbers among dose/timing/max_daily); each article side
  effect shares a content word with our list; text fields share at least
  ``TEXT_OVERLAP_THRESHOLD`` of the article's content words (after stop-word removal and
  stemming). An untyped article ``description`` may be met by our description, purpose,
  mechanism, function or note.
* items in ``kb.omissions`` count as omitted (with their reason), not unmatched.

coverage = matched / (items - omitted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from spineguide.ingest.template import IngestedArticle, Item
from spineguide.textnorm import FUNCTION_WORDS

# Fraction of the article's content words our text must share. Chosen on the seed articles:
# honest paraphrases of single-sentence items share 30–60 % of content words after stemming;
# a description written for a different item typically shares under 15 %.
TEXT_OVERLAP_THRESHOLD = 0.25
# Definition/overview paragraphs are long; our definition is a summary, so the bar is lower.
DEFINITION_OVERLAP_THRESHOLD = 0.15

UNNAMED_SECTIONS = frozenset(
    {"prevention", "dos", "donts", "when_to_see_doctor", "faqs", "anatomy", "functions"}
)

_STOP = FUNCTION_WORDS | frozenset(
    {
        "e",
        "eg",
        "especially",
        "etc",
        "g",
        "help",
        "helps",
        "may",
        "often",
        "per",
        "typically",
        "use",
        "used",
        "uses",
        "using",
        "usually",
        "via",
        "within",
        "without",
    }
)
_WORD = re.compile(r"[a-z][a-z0-9]*")
_NUM = re.compile(r"(?<![^\W_])(?<![^\W\d_]-)(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|½|¼|¾)")
_FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75}
_NORM = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case and collapse punctuation to single spaces."""
    return _NORM.sub(" ", text.lower()).strip()


def stem(word: str) -> str:
    """Crude suffix-stripping stemmer (enough to equate 'reduces'/'reducing'/'reduced')."""
    w = word.lower()
    for suffix in (
        "ational",
        "ization",
        "ations",
        "ation",
        "ments",
        "ment",
        "ness",
        "ities",
        "ity",
        "ings",
        "ing",
        "ies",
        "ied",
        "ives",
        "ive",
        "ers",
        "er",
        "ed",
        "es",
        "ly",
        "al",
        "s",
        "e",
        "y",
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def content_words(text: str | None) -> set[str]:
    """Stemmed content words of a text (stop words and one-letter tokens removed)."""
    if not text:
        return set()
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def numbers(text: str | None) -> set[float]:
    """Numbers in a text ('1,000'→1000, '½'→0.5); digits inside names (COX-2, L3) are ignored."""
    out: set[float] = set()
    for m in _NUM.finditer(text or ""):
        tok = m.group(1)
        if tok in _FRACTIONS:
            out.add(_FRACTIONS[tok])
            continue
        out.add(float(tok.replace(",", "")))
    return out


def numbers_covered(article: str, ours: str) -> list[float]:
    """Numbers of the article text missing from ours (unit g↔mg tolerated)."""
    have = numbers(ours)
    missing = []
    for n in sorted(numbers(article)):
        if n in have or n * 1000 in have or n / 1000 in have:
            continue
        missing.append(n)
    return missing


def overlap(article: str | None, ours: str | None) -> float:
    """Fraction of the article's content words that also occur in ours."""
    a = content_words(article)
    if not a:
        return 1.0
    return len(a & content_words(ours)) / len(a)


def _fmt(n: float) -> str:
    return str(int(n)) if n == int(n) else str(n)


# ---------------------------------------------------------------------------------------------
# Report models
# ---------------------------------------------------------------------------------------------


class ItemRef(BaseModel):
    """An article item in a coverage report."""

    source: str | None
    file: str
    section: str
    index: int
    title: str
    line: int
    reason: str | None = None
    entry: str | None = None  # KB entry considered (collection:id)


class SectionCounts(BaseModel):
    """Counts for one section of one article."""

    items: int = 0
    matched: int = 0
    omitted: int = 0
    unmatched: int = 0


class ArticleCoverage(BaseModel):
    """Coverage of one article."""

    file: str
    source: str | None
    items: int = 0
    matched: int = 0
    omitted: int = 0
    coverage: float = 0.0
    sections: dict[str, SectionCounts] = Field(default_factory=dict)


class CoverageReport(BaseModel):
    """Coverage of a set of articles by the knowledge base."""

    kb_version: str | None = None
    items: int = 0
    matched: int = 0
    omitted: int = 0
    coverage: float = 0.0
    text_overlap_threshold: float = TEXT_OVERLAP_THRESHOLD
    per_article: dict[str, ArticleCoverage] = Field(default_factory=dict)
    unmatched: list[ItemRef] = Field(default_factory=list)
    omitted_items: list[ItemRef] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# KB side
# ---------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    key: str  # "collection:id"
    names: list[str]
    entry: Any
    kind: str  # statement | subentry | condition


def _entry_names(entry: Any, source: str | None) -> list[str]:
    names = [getattr(entry, "id", ""), getattr(entry, "name", ""), *getattr(entry, "aliases", [])]
    names[0] = names[0].replace("-", " ").replace("_", " ")
    for st in getattr(entry, "article_statements", []) or []:
        if st.name_in_source and (source is None or st.source == source):
            names.append(st.name_in_source)
    return [normalize(n) for n in names if n and normalize(n)]


def _candidates(kb: Any, section: str, source: str | None) -> list[list[_Candidate]]:
    """Collections to search for a section, in order of preference."""
    therapies = list(getattr(kb, "therapies", {}).values())
    drugs = list(getattr(kb, "drugs", {}).values())
    tests = list(getattr(kb, "tests", {}).values())

    def wrap(coll: str, entries: Iterable[Any], kind: str = "statement") -> list[_Candidate]:
        return [_Candidate(f"{coll}:{e.id}", _entry_names(e, source), e, kind) for e in entries]

    if section in ("types", "causes", "symptoms"):
        cond = _seed_condition(kb, source)
        if cond is None:
            return []
        return [wrap(f"conditions/{cond.id}/{section}", getattr(cond, section), "subentry")]
    if section == "diagnostic_tests":
        return [wrap("tests", tests)]
    if section == "drugs":
        return [wrap("drugs", drugs), wrap("therapies", therapies)]
    by_kind = {
        "non_drug_treatments": "non_drug",
        "supplements": "supplement",
        "advanced_therapies": "advanced",
        "surgery": "procedure",
    }
    if section in by_kind:
        first = [t for t in therapies if t.kind == by_kind[section]]
        rest = [t for t in therapies if t.kind != by_kind[section]]
        return [wrap("therapies", first), wrap("drugs", drugs), wrap("therapies", rest)]
    if section == "treatments":
        return [wrap("therapies", therapies), wrap("drugs", drugs)]
    return []


def _seed_condition(kb: Any, source: str | None) -> Any | None:
    if not source:
        return None
    src = getattr(kb, "sources", {}).get(source)
    cond_id = getattr(src, "condition", None) if src else None
    conds = getattr(kb, "conditions", {})
    if cond_id and cond_id in conds:
        return conds[cond_id]
    return next((c for c in conds.values() if c.seed_article == source), None)


def match_name(
    title: str, candidates: list[_Candidate], alt: str | None = None
) -> _Candidate | None:
    """Best candidate by exact name or whole-word prefix of the title (longest name wins)."""
    best: tuple[int, _Candidate] | None = None
    for probe in (title, alt):
        if not probe:
            continue
        t = normalize(probe)
        if not t:
            continue
        for cand in candidates:
            for name in cand.names:
                if t == name or t.startswith(name + " "):
                    score = len(name) + (1000 if t == name else 0)
                    if best is None or score > best[0]:
                        best = (score, cand)
    return best[1] if best else None


# ---------------------------------------------------------------------------------------------
# Field checks
# ---------------------------------------------------------------------------------------------

_DOSE_FIELDS = ("dose", "timing", "max_daily")
_TEXT_ALTERNATES = (
    "description",
    "purpose",
    "mechanism",
    "function",
    "procedure",
    "benefits",
    "note",
    "positive_means",
)


def check_fields(item: Item, ours: dict[str, Any]) -> str | None:
    """Return why our fields do not hold the article's facts, or None when they do."""
    stated = item.fields.stated()
    problems: list[str] = []
    dose_pool = " ".join(str(ours.get(f) or "") for f in (*_DOSE_FIELDS, "note"))
    for fname, value in stated.items():
        if fname == "side_effects":
            our_list = ours.get("side_effects") or []
            if not our_list:
                problems.append("missing field side_effects")
                continue
            our_words = content_words(" ".join(our_list))
            lacking = [
                se for se in value if content_words(se) and not content_words(se) & our_words
            ]
            if lacking:
                problems.append("side effects not covered: " + ", ".join(lacking))
            continue
        mine = ours.get(fname)
        if fname == "max_daily" and not mine:
            mine = dose_pool.strip() or None  # derived from dose wording; numbers suffice
        if fname == "description" and not mine:
            mine = " ".join(str(ours.get(f)) for f in _TEXT_ALTERNATES if ours.get(f)) or None
        if not mine:
            problems.append(f"missing field {fname}")
            continue
        mine = str(mine)
        pool = dose_pool if fname in _DOSE_FIELDS else mine
        missing = numbers_covered(str(value), pool)
        if missing:
            problems.append(f"{fname}: numbers missing " + ", ".join(_fmt(n) for n in missing))
            continue
        if fname in _DOSE_FIELDS:
            continue  # numbers carry the facts of dose fields
        text_ours = mine
        if fname == "description":
            text_ours = " ".join(str(ours.get(f)) for f in _TEXT_ALTERNATES if ours.get(f))
        threshold = (
            DEFINITION_OVERLAP_THRESHOLD if item.section == "definition" else TEXT_OVERLAP_THRESHOLD
        )
        score = overlap(str(value), text_ours)
        if score < threshold:
            problems.append(f"{fname}: too little in common ({score:.2f} < {threshold})")
    return "; ".join(problems) if problems else None


def _statement_fields(st: Any) -> dict[str, Any]:
    return st.model_dump() if hasattr(st, "model_dump") else dict(st)


def _ref_hit(refs: Iterable[Any], source: str | None, section: str, index: int) -> bool:
    return any(r.source == source and r.section == section and r.item == index for r in refs)


def _unnamed_ours(kb: Any, item: Item) -> tuple[str | None, dict[str, Any] | None]:
    """Find the condition sub-entry whose refs point at this item; return (key, fields)."""
    conds = list(getattr(kb, "conditions", {}).values())
    seed = _seed_condition(kb, item.source)
    if seed is not None:
        conds.sort(key=lambda c: c.id != seed.id)
    attr = {
        "prevention": "prevention",
        "dos": "dos",
        "donts": "donts",
        "when_to_see_doctor": "when_to_see_doctor",
        "faqs": "faqs",
        "anatomy": "background",
        "functions": "background",
    }[item.section]
    for cond in conds:
        for i, entry in enumerate(getattr(cond, attr)):
            if _ref_hit(entry.refs, item.source, item.section, item.index):
                key = f"conditions/{cond.id}/{attr}[{i}]"
                if item.section == "faqs":
                    return key, {"question": entry.question, "answer": entry.answer}
                text = getattr(entry, "text", "")
                extra = " ".join(
                    x for x in (getattr(entry, "title", None), entry_patient(entry)) if x
                )
                return key, {"text": text, "extra": extra}
    return None, None


def entry_patient(entry: Any) -> str | None:
    """Patient-language text of an entry, if any."""
    return getattr(entry, "patient_text", None)


def match_item(kb: Any, item: Item) -> tuple[bool, str | None, str | None]:
    """Match one item: (covered, reason when not, KB entry key considered)."""
    if item.section == "definition":
        cond = _seed_condition(kb, item.source)
        if cond is None:
            return False, "no entry: no condition for this source", None
        ours_text = " ".join(
            [
                cond.definition,
                cond.patient_summary,
                *(b.text for b in cond.background),
                *cond.key_features,
                cond.prognosis or "",
            ]
        )
        reason = check_fields(item, {"description": ours_text})
        return reason is None, reason, f"conditions:{cond.id}"
    if item.section in UNNAMED_SECTIONS:
        key, ours = _unnamed_ours(kb, item)
        if ours is None:
            return False, f"no entry: no refs to {item.source}/{item.section}/{item.index}", None
        if item.section == "faqs":
            return _covered(check_fields(item, ours), key)
        article_text = item.full_text()
        our_text = f"{ours['text']} {ours['extra']}"
        missing = numbers_covered(article_text, our_text)
        if missing:
            return False, "numbers missing " + ", ".join(_fmt(n) for n in missing), key
        score = overlap(article_text, our_text)
        if score < TEXT_OVERLAP_THRESHOLD:
            return False, f"text: too little in common ({score:.2f})", key
        return True, None, key
    groups = _candidates(kb, item.section, item.source)
    if not groups:
        if item.section in ("types", "causes", "symptoms"):
            return False, "no entry: no condition for this source", None
        return False, f"no entry: section {item.section} has no KB collection", None
    cand = None
    for group in groups:
        cand = match_name(item.title, group, item.name)
        if cand:
            break
    if cand is None:
        return False, "no entry", None
    if cand.kind == "subentry":
        e = cand.entry
        if item.source and e.sources and item.source not in e.sources:
            return False, f"entry does not cite {item.source}", cand.key
        ours = {
            "description": " ".join(x for x in (e.description, getattr(e, "criteria", None)) if x)
        }
        return _covered(check_fields(item, ours), cand.key)
    statements = [
        s
        for s in getattr(cand.entry, "article_statements", [])
        if s.source == item.source and _same_section(s.section, item.section)
    ]
    if not statements:
        return False, f"no article statement for {item.source}/{item.section}", cand.key
    # Prefer the statement pinned to this item, then the one naming it, then any that passes.
    statements.sort(
        key=lambda s: (
            s.item != item.index,
            normalize(s.name_in_source or "") != normalize(item.name or item.title),
        )
    )
    first_reason = None
    for st in statements:
        reason = check_fields(item, _statement_fields(st))
        if reason is None:
            return True, None, cand.key
        first_reason = first_reason or reason
    return False, first_reason, cand.key


def _same_section(ours: str, article: str) -> bool:
    """Prose articles name surgery among treatments, so the two keys are interchangeable."""
    return ours == article or {ours, article} == {"surgery", "treatments"}


def _covered(reason: str | None, key: str | None) -> tuple[bool, str | None, str | None]:
    return reason is None, reason, key


def _omission(kb: Any, item: Item) -> Any | None:
    for om in getattr(kb, "omissions", []) or []:
        if om.source != item.source or om.section != item.section:
            continue
        if om.item is not None and om.item == item.index:
            return om
        if om.name:
            n, t = normalize(om.name), normalize(item.title)
            if n and (n == t or t.startswith(n + " ")):
                return om
    return None


def coverage_report(articles: list[IngestedArticle], kb: Any) -> CoverageReport:
    """Match every item of the articles to the KB and count coverage per article and section."""
    report = CoverageReport(kb_version=getattr(kb, "version", None))
    for art in articles:
        ac = ArticleCoverage(file=art.file, source=art.source_id)
        if art.source_id is None:
            report.notes.append(f"{art.file}: no source in the registry has this file name")
        for item in art.items():
            sc = ac.sections.setdefault(item.section, SectionCounts())
            sc.items += 1
            ac.items += 1
            ref = ItemRef(
                source=item.source,
                file=item.file,
                section=item.section,
                index=item.index,
                title=item.title,
                line=item.line,
            )
            om = _omission(kb, item)
            if om is not None:
                sc.omitted += 1
                ac.omitted += 1
                ref.reason = om.reason
                report.omitted_items.append(ref)
                continue
            ok, reason, key = match_item(kb, item)
            if ok:
                sc.matched += 1
                ac.matched += 1
            else:
                sc.unmatched += 1
                ref.reason = reason
                ref.entry = key
                report.unmatched.append(ref)
        denom = ac.items - ac.omitted
        ac.coverage = round(ac.matched / denom, 4) if denom else 0.0
        report.per_article[art.file] = ac
        report.items += ac.items
        report.matched += ac.matched
        report.omitted += ac.omitted
    denom = report.items - report.omitted
    report.coverage = round(report.matched / denom, 4) if denom else 0.0
    if report.items == 0:
        report.notes.append("no items found in the articles")
    return report


def render_text(report: CoverageReport, max_unmatched: int = 200) -> str:
    """Human-readable coverage summary."""
    lines = [
        f"knowledge base {report.kb_version}",
        f"coverage {report.coverage:.1%}: {report.matched} of {report.items - report.omitted} "
        f"items ({report.items} items, {report.omitted} omitted with a reason)",
    ]
    for file, ac in report.per_article.items():
        lines.append(f"\n{file} ({ac.source or 'no source id'}): {ac.coverage:.1%}")
        for key, sc in ac.sections.items():
            lines.append(
                f"  {key:<22} {sc.matched:>3}/{sc.items - sc.omitted:<3} matched"
                + (f"  ({sc.omitted} omitted)" if sc.omitted else "")
            )
    if report.unmatched:
        lines.append(f"\nunmatched items ({len(report.unmatched)}):")
        for u in report.unmatched[:max_unmatched]:
            lines.append(
                f"  {u.source or u.file} {u.section}#{u.index} {u.title!r}: {u.reason}"
                + (f" [{u.entry}]" if u.entry else "")
            )
        if len(report.unmatched) > max_unmatched:
            lines.append(f"  … {len(report.unmatched) - max_unmatched} more (use --format json)")
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)
