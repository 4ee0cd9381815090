"""Passage index over the knowledge base: one passage per answerable KB item, with its address.

A passage is a condition section item (FAQ, definition, type, cause, symptom, prevention tip,
do/don't, when-to-see-a-doctor item, management step...), a therapy/drug/test description or
field, an article statement or a guideline stance. Each carries its KB address, zero-based like
Python (``conditions/foraminal-stenosis#faqs[7]``), and the source ids that back it. The index is
built lazily, once per knowledge-base version, in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from spineguide.search.lexical import Bm25Index, ConceptMatcher, analyze_all, normalize

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.knowledge.schema import ArticleStatement, Condition, GuidelineStance

VOCABULARY_PATH = Path(__file__).parent / "question_vocabulary.yaml"

STANCE_WORDS: dict[str, str] = {
    "recommended": "recommended",
    "consider": "consider",
    "package_only": "only as part of a treatment package that includes exercise",
    "do_not_offer": "do not offer",
    "not_routinely": "do not offer routinely",
    "no_recommendation": "no recommendation either way",
    "not_addressed": "not addressed",
}

SECTION_LABELS: dict[str, str] = {
    "definition": "what it is",
    "patient_summary": "in plain words",
    "prognosis": "outlook and recovery",
    "key_features": "key features",
    "types": "types",
    "causes": "causes",
    "symptoms": "symptoms",
    "background": "background",
    "prevention": "prevention",
    "dos": "do",
    "donts": "don't",
    "when_to_see_doctor": "when to see a doctor",
    "faqs": "FAQ",
    "management": "management",
    "description": "what it is",
    "risks": "risks",
    "recovery": "recovery",
    "indications": "when it is used",
    "dose_limits": "dose",
    "warnings": "warnings",
    "organ_rules": "kidney and liver",
    "article_statements": "what an article says",
    "guideline_stances": "guideline stance",
    "accuracy": "accuracy",
}

# Words a reader uses for a section without the passage itself containing them.
SECTION_TERMS: dict[str, str] = {
    "accuracy": "accuracy sensitivity specificity",
    "risks": "risks complications",
    "recovery": "recovery",
    "indications": "indications when used",
    "dose_limits": "dose maximum",
    "organ_rules": "dose adjustment",
    "warnings": "warning safety",
    "guideline_stances": "guideline recommendation",
    "types": "type classification grade",
    "causes": "cause",
    "symptoms": "symptom sign",
    "prevention": "prevention",
    "when_to_see_doctor": "when to see a doctor",
    "prognosis": "outlook recovery",
    "management": "management treatment",
}


@dataclass(slots=True)
class Passage:
    """One retrievable KB item: its address, what it is about, its text and its sources."""

    address: str
    section: str
    entity_kind: str  # conditions | therapies | drugs | tests
    entity_id: str
    entity_name: str
    text: str
    sources: list[str]
    question: str | None = None  # FAQ question
    urgency: str | None = None  # when_to_see_doctor items
    red_flag_rule: str | None = None

    @property
    def title(self) -> str:
        """A short human heading: entity name and section."""
        return f"{self.entity_name} — {SECTION_LABELS.get(self.section, self.section)}"


def _join(*parts: str | None) -> str:
    out = []
    for p in parts:
        if p and p.strip():
            q = p.strip()
            out.append(q if q[-1] in ".!?)" else q + ".")
    return " ".join(out)


def _statement_text(name: str, st: ArticleStatement) -> str:
    label = st.name_in_source or name
    bits = [
        st.description,
        st.procedure,
        st.purpose and f"Purpose: {st.purpose}",
        st.mechanism and f"How it works: {st.mechanism}",
        st.function,
        st.benefits and f"Benefits: {st.benefits}",
        st.dose and f"Dose: {st.dose}",
        st.timing and f"Timing: {st.timing}",
        st.max_daily and f"Maximum per day: {st.max_daily}",
        st.side_effects and ("Side effects: " + ", ".join(st.side_effects)),
        st.positive_means and f"A positive result means: {st.positive_means}",
        st.note and f"Note: {st.note}",
    ]
    return f"{label}: " + _join(*bits)


def _stance_text(name: str, gs: GuidelineStance, titles: dict[str, str]) -> str:
    stance = getattr(gs.stance, "value", gs.stance)
    who = titles.get(gs.guideline, gs.guideline)
    head = f"{who} on {name}: {STANCE_WORDS.get(stance, stance)}"
    extra = [
        x
        for x in (
            gs.population and f"population: {gs.population}",
            gs.recommendation and f"recommendation {gs.recommendation}",
            gs.grade and f"grade {gs.grade}",
        )
        if x
    ]
    if extra:
        head += " (" + "; ".join(extra) + ")"
    return _join(head, gs.note)


def _srcs(*lists: list[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for lst in lists:
        for s in lst or ():
            seen.setdefault(s, None)
    return list(seen)


def _condition_passages(c: Condition) -> list[Passage]:
    base = f"conditions/{c.id}"
    out: list[Passage] = []

    def add(section: str, text: str, sources: list[str], suffix: str = "", **kw: Any) -> None:
        if text and text.strip():
            out.append(
                Passage(
                    address=f"{base}#{section}{suffix}",
                    section=section,
                    entity_kind="conditions",
                    entity_id=c.id,
                    entity_name=c.name,
                    text=text.strip(),
                    sources=_srcs(sources) or list(c.sources),
                    **kw,
                )
            )

    add("definition", c.definition, c.sources)
    add("patient_summary", c.patient_summary, c.sources)
    if c.prognosis:
        add("prognosis", c.prognosis, c.sources)
    if c.key_features:
        add("key_features", _join(*c.key_features), c.sources)
    for i, t in enumerate(c.types):
        add("types", _join(f"{t.name}: {t.description}", t.criteria), t.sources, f"[{i}]")
    for i, cause in enumerate(c.causes):
        add("causes", f"{cause.name}: {cause.description}", cause.sources, f"[{i}]")
    for i, s in enumerate(c.symptoms):
        add("symptoms", f"{s.name}: {s.description}", s.sources, f"[{i}]")
    for i, b in enumerate(c.background):
        add("background", f"{b.title}: {b.text}", b.sources, f"[{i}]")
    for key in ("prevention", "dos", "donts"):
        for i, item in enumerate(getattr(c, key)):
            add(key, item.patient_text or item.text, item.sources, f"[{i}]")
    for i, w in enumerate(c.when_to_see_doctor):
        add(
            "when_to_see_doctor",
            w.text,
            w.sources,
            f"[{i}]",
            urgency=getattr(w.urgency, "value", w.urgency),
            red_flag_rule=w.red_flag_rule,
        )
    for i, f in enumerate(c.faqs):
        add("faqs", f.answer, f.sources, f"[{i}]", question=f.question)
    for i, m in enumerate(c.management):
        add("management", _join(m.text, m.when and f"When: {m.when}"), m.sources, f"[{i}]")
    return out


def _entity_passages(kind: str, entry: Any, titles: dict[str, str]) -> list[Passage]:
    base = f"{kind}/{entry.id}"
    name = entry.name
    out: list[Passage] = []

    def add(section: str, text: str, sources: list[str] | None, suffix: str = "") -> None:
        if text and text.strip():
            out.append(
                Passage(
                    address=f"{base}#{section}{suffix}",
                    section=section,
                    entity_kind=kind,
                    entity_id=entry.id,
                    entity_name=name,
                    text=text.strip(),
                    sources=_srcs(sources) or list(entry.sources),
                )
            )

    g = entry.__dict__.get
    add(
        "description",
        f"{name}: "
        + _join(
            entry.description,
            g("patient_description"),
            g("purpose") and f"Purpose: {g('purpose')}",
            g("mechanism") and f"How it works: {g('mechanism')}",
            g("positive_means") and f"A positive result means: {g('positive_means')}",
            g("benefits") and f"Benefits: {g('benefits')}",
            g("evidence_note") and f"Evidence: {g('evidence_note')}",
            g("usual_dose") and f"Usual dose: {g('usual_dose')}",
        ),
        entry.sources,
    )
    if g("risks"):
        add("risks", f"Risks of {name}: " + "; ".join(g("risks")) + ".", entry.sources)
    if g("recovery"):
        add("recovery", f"Recovery after {name}: {g('recovery')}", entry.sources)
    if g("indications"):
        add(
            "indications",
            f"{name} is used for: " + "; ".join(g("indications")) + ".",
            entry.sources,
        )
    for i, d in enumerate(g("dose_limits") or ()):
        limits = [
            d.max_daily_mg and f"at most {d.max_daily_mg:g} mg per day",
            d.max_single_mg and f"at most {d.max_single_mg:g} mg per dose",
            d.max_days and f"for up to {d.max_days:g} days",
        ]
        add(
            "dose_limits",
            _join(
                f"{name} ({d.route}, {d.population}) usual dose: {d.usual}",
                ", ".join(x for x in limits if x),
                d.label,
                d.rationale,
            ),
            [d.source] if d.source else None,
            f"[{i}]",
        )
    for i, w in enumerate(g("warnings") or ()):
        add("warnings", f"{name} warning: {w.text}", [w.source], f"[{i}]")
    for i, r in enumerate(g("organ_rules") or ()):
        add(
            "organ_rules",
            f"{name} with {'kidney' if r.kind == 'renal' else 'liver'} disease: {r.text}",
            [r.source] if r.source else None,
            f"[{i}]",
        )
    for i, a in enumerate(g("accuracy") or ()):
        figs = [
            a.sensitivity is not None and f"sensitivity {a.sensitivity:g}",
            a.specificity is not None and f"specificity {a.specificity:g}",
        ]
        add(
            "accuracy",
            _join(
                f"{name} for {a.target}: " + ", ".join(x for x in figs if x), a.population, a.note
            ),
            [a.source],
            f"[{i}]",
        )
    for i, st in enumerate(g("article_statements") or ()):
        add("article_statements", _statement_text(name, st), [st.source], f"[{i}]")
    for i, gs in enumerate(g("guideline_stances") or ()):
        stance = getattr(gs.stance, "value", gs.stance)
        if stance == "not_addressed":
            continue  # "guideline X does not cover surgery" answers no question
        add("guideline_stances", _stance_text(name, gs, titles), [gs.guideline], f"[{i}]")
    return out


def build_passages(kb: KnowledgeBase) -> list[Passage]:
    """Every answerable item of the knowledge base as a passage with its address and sources."""
    titles = {sid: _guideline_label(sid) for sid in kb.sources}
    passages: list[Passage] = []
    for c in kb.conditions.values():
        passages += _condition_passages(c)
    for kind, coll in (("therapies", kb.therapies), ("drugs", kb.drugs), ("tests", kb.tests)):
        for entry in coll.values():
            passages += _entity_passages(kind, entry, titles)
    return passages


def _guideline_label(source_id: str) -> str:
    # "nice-ng59" -> "NICE NG59", "acp-2017" -> "ACP 2017": how clinicians name guidelines.
    return source_id.replace("-", " ").upper()


@lru_cache(maxsize=1)
def load_question_vocabulary(path: str | None = None) -> dict[str, Any]:
    """The synonym groups and red-flag phrasings (search/question_vocabulary.yaml)."""
    with Path(path or VOCABULARY_PATH).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    data.setdefault("synonyms", {})
    data.setdefault("red_flag_phrases", {})
    return data


def _alias_ok(alias: str) -> bool:
    # Very short aliases ("AS", "PAD", "SEA") collide with ordinary words; keep longer ones.
    return len(normalize(alias).replace(" ", "")) >= 4


def build_matcher(kb: KnowledgeBase, vocabulary: dict[str, Any]) -> ConceptMatcher:
    """Concept matcher from the curated synonym groups plus KB names and aliases."""
    matcher = ConceptMatcher()
    for concept, phrases in vocabulary.get("synonyms", {}).items():
        matcher.add(f"~{concept}", phrases)
    for kind, coll in (
        ("conditions", kb.conditions),
        ("therapies", kb.therapies),
        ("drugs", kb.drugs),
        ("tests", kb.tests),
    ):
        for entry in coll.values():
            names = [entry.name, *(a for a in entry.aliases if _alias_ok(a))]
            matcher.add(entity_concept(kind, entry.id), names)
    return matcher


def entity_concept(kind: str, ident: str) -> str:
    """The concept token standing for one KB entity (condition, therapy, drug or test)."""
    return f"@{kind}/{ident}"


@dataclass
class SearchIndex:
    """Passages, their BM25 index and the concept matcher, for one knowledge-base version."""

    kb_version: str
    passages: list[Passage]
    bm25: Bm25Index
    matcher: ConceptMatcher
    doc_terms: list[frozenset[str]] = field(default_factory=list)
    faq_terms: dict[int, frozenset[str]] = field(default_factory=dict)
    vocabulary: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)  # the KB's source registry

    def query_terms(self, text: str) -> list[str]:
        """Content tokens plus concept tokens of a text, as the index sees it."""
        content, all_stems = analyze_all(text)
        return content + self.matcher.concepts(all_stems)


def _passage_terms(p: Passage, matcher: ConceptMatcher) -> list[str]:
    body = f"{p.question or ''} {p.entity_name} {p.text}"
    content, all_stems = analyze_all(body)
    terms = content + matcher.concepts(all_stems)
    terms.append(entity_concept(p.entity_kind, p.entity_id))
    terms.append(f"#{p.section}")
    label_content, label_stems = analyze_all(SECTION_TERMS.get(p.section, ""))
    return terms + label_content + matcher.concepts(label_stems)


def build_index(kb: KnowledgeBase, vocabulary: dict[str, Any] | None = None) -> SearchIndex:
    """Build the passage index for a knowledge base (a fraction of a second)."""
    vocabulary = vocabulary if vocabulary is not None else load_question_vocabulary()
    matcher = build_matcher(kb, vocabulary)
    passages = build_passages(kb)
    docs = [_passage_terms(p, matcher) for p in passages]
    bm25 = Bm25Index.build(docs)
    faq_terms: dict[int, frozenset[str]] = {}
    for i, p in enumerate(passages):
        if p.question:
            content, all_stems = analyze_all(p.question)
            faq_terms[i] = frozenset(content + matcher.concepts(all_stems))
    return SearchIndex(
        kb_version=kb.version,
        passages=passages,
        bm25=bm25,
        matcher=matcher,
        doc_terms=[frozenset(d) for d in docs],
        faq_terms=faq_terms,
        vocabulary=vocabulary,
        sources=dict(kb.sources),
    )


_CACHE: dict[str, SearchIndex] = {}
_LOCK = threading.Lock()


def get_index(kb: KnowledgeBase | None = None) -> SearchIndex:
    """The search index for a knowledge base (the process-wide one by default), built once."""
    if kb is None:
        from spineguide.knowledge.loader import get_kb

        kb = get_kb()
    with _LOCK:
        index = _CACHE.get(kb.version)
        if index is None:
            index = build_index(kb)
            _CACHE.clear()  # one KB version at a time
            _CACHE[kb.version] = index
        return index
