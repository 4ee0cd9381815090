"""Answer questions from the knowledge base: red flags first, then the best passages, with citations.

Answers are extractive: the KB text is already written in the team's own words, so the answer is
the best passage (or two), never generated text. When no passage covers the question well enough
the answer says plainly that the knowledge base has none.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from spineguide.errors import InputError, InputTooLargeError
from spineguide.search.index import SearchIndex, get_index
from spineguide.search.lexical import STOPWORDS, stem, words

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase

MAX_QUESTION_CHARS = 1_000
"""Longest question accepted (characters); a question is a sentence or two, not a document."""
MAX_TOP = 20

DISCLAIMER = (
    "This information supports, and does not replace, advice from a clinician who knows you; "
    "if you are worried, contact your doctor or emergency services."
)
NO_ANSWER = "The knowledge base has no answer to this question."

# Ranking and abstention parameters (expert estimates tuned on tests/data/questions.jsonl).
CONCEPT_WEIGHT = 0.6  # a synonym concept counts a little less than the word itself
ENTITY_WEIGHT = 1.0  # naming a KB entity (drug, therapy, condition, test) counts fully
WORD_IN_CONCEPT_WEIGHT = 0.6  # the literal word, when it is one wording of a concept
FAQ_BOOST = 0.8  # score x (1 + FAQ_BOOST x share of the FAQ question's terms in the question)
MIN_SCORE = 4.0  # below this BM25 score nothing is relevant enough
MIN_COVERAGE = 0.3  # idf-weighted share of the question's words the best passage must cover
MIN_RELEVANCE = 5.0  # score x coverage of the best passage: the answer/no-answer threshold
TOPIC_BOOST = 1.0  # score x (1 + TOPIC_BOOST) for passages about the entity the question names
LAY_TOPIC_BOOST = 0.5  # score x (1 + LAY_TOPIC_BOOST) for the entities its lay words point to
INTENT_BOOST = 1.0  # score x (1 + INTENT_BOOST) for the sections the question's form asks for
SUPPORT_RATIO = 0.85  # a second passage joins the answer when it scores this close to the first
ANSWER_WORDS = 110  # longest extract taken from one passage (whole sentences)


class SourceRef(BaseModel):
    """A source id from the registry with its title."""

    id: str
    title: str
    publisher: str | None = None
    url: str | None = None


class SearchResult(BaseModel):
    """One retrieved passage with its score, KB address and sources."""

    rank: int
    address: str
    title: str
    section: str
    score: float
    coverage: float
    text: str
    question: str | None = None
    sources: list[SourceRef] = Field(default_factory=list)
    topic_definition: bool = False  # put first because a "what is" question names this topic


class Citation(BaseModel):
    """A numbered citation: the KB address the answer came from and its sources."""

    n: int
    address: str
    title: str
    sources: list[SourceRef] = Field(default_factory=list)


class RedFlagAdvice(BaseModel):
    """Emergency or urgent advice triggered by red-flag wording in the question."""

    rule: str
    name: str
    urgency: str
    advice: list[str]
    action: str
    matched: list[str] = Field(default_factory=list)  # the words of the question that fired it
    addresses: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)


class Answer(BaseModel):
    """The reply to one question: red-flag advice first, the answer, citations and a disclaimer."""

    question: str
    answered: bool
    answer: str
    red_flags: list[RedFlagAdvice] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    results: list[SearchResult] = Field(default_factory=list)
    disclaimer: str = DISCLAIMER
    kb_version: str = ""


# ---------------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------------


class _Query:
    """A question analysed the way passages are: words, their alternatives and the term weights."""

    def __init__(self, text: str, index: SearchIndex) -> None:
        ws = words(text)
        stems = [stem(w) for w in ws]
        spans = index.matcher.spans(stems)
        self.units: list[tuple[str, set[str]]] = []  # (word stem, alternative terms)
        for i, (w, s) in enumerate(zip(ws, stems, strict=True)):
            if w in STOPWORDS:
                continue
            alts = {s} | {c for a, b, c in spans if a <= i < b}
            self.units.append((s, alts))
        self.weights: dict[str, float] = {}
        for s, alts in self.units:
            # a word that names a concept shares its weight with the concept, so a passage
            # using another wording of the same thing (acetaminophen/paracetamol) ranks alike
            self.weights[s] = max(
                self.weights.get(s, 0.0), WORD_IN_CONCEPT_WEIGHT if len(alts) > 1 else 1.0
            )
        for _, _, c in spans:
            self.weights.setdefault(c, ENTITY_WEIGHT if c.startswith("@") else CONCEPT_WEIGHT)
        self.terms = frozenset(self.weights)


def _coverage(q: _Query, doc_terms: frozenset[str], index: SearchIndex) -> float:
    total = covered = 0.0
    for s, alts in q.units:
        w = index.bm25.term_weight(s)
        total += w
        if alts & doc_terms:
            covered += w
    return covered / total if total else 0.0


def _lay_topics(q: _Query, index: SearchIndex) -> list[str]:
    """Entities for the lay words of the question, in vocabulary order (first = main)."""
    topics = index.vocabulary.get("topics", {}) or {}
    out: list[str] = []
    for concept, addrs in topics.items():
        if "~" + concept in q.terms:
            out += [a for a in addrs if a not in out]
    return out


def question_topics(q: _Query, index: SearchIndex) -> tuple[set[str], set[str]]:
    """KB entities the question is about: (named conditions, drugs and therapies; lay topics).

    A named test is often context ("my MRI says…") rather than the subject, so it counts as a
    lay topic (the smaller boost).
    """
    named = {t[1:] for t in q.terms if t.startswith("@") and not t.startswith("@tests/")}
    tests = {t[1:] for t in q.terms if t.startswith("@tests/")}
    return named, (set(_lay_topics(q, index)) | tests) - named


def question_sections(question: str, index: SearchIndex) -> set[str]:
    """Passage sections the form of the question asks for ('what is' -> definitions…)."""
    low = question.lower().replace("’", "'")
    out: set[str] = set()
    for intent in index.vocabulary.get("intents", []) or []:
        if re.search(intent["pattern"], low):
            out |= set(intent["sections"])
    return out


def search(question: str, top: int = 5, index: SearchIndex | None = None) -> list[SearchResult]:
    """Rank KB passages for a question (BM25 + synonyms + FAQ, topic and intent boosts)."""
    index = index or get_index()
    q = _Query(question, index)
    raw = index.bm25.score(q.weights)
    for doc_id, terms in index.faq_terms.items():
        if doc_id in raw and terms:
            raw[doc_id] *= 1.0 + FAQ_BOOST * len(terms & q.terms) / len(terms)
    named, lay = question_topics(q, index)
    sections = question_sections(question, index)
    if named or lay or sections:
        for doc_id in raw:
            p = index.passages[doc_id]
            entity = f"{p.entity_kind}/{p.entity_id}"
            if entity in named:
                raw[doc_id] *= 1.0 + TOPIC_BOOST
            elif entity in lay:
                raw[doc_id] *= 1.0 + LAY_TOPIC_BOOST
            if p.section in sections:
                raw[doc_id] *= 1.0 + INTENT_BOOST
    promoted = _promote_definition(q, index, sections, raw)
    ranked = sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    kb_sources = index.sources
    out = []
    for rank, (doc_id, score) in enumerate(ranked, 1):
        p = index.passages[doc_id]
        out.append(
            SearchResult(
                rank=rank,
                address=p.address,
                title=p.title,
                section=p.section,
                score=round(score, 3),
                coverage=round(_coverage(q, index.doc_terms[doc_id], index), 3),
                text=p.text,
                question=p.question,
                sources=[_source_ref(s, kb_sources) for s in p.sources],
                topic_definition=doc_id in promoted,
            )
        )
    return out


def _promote_definition(
    q: _Query, index: SearchIndex, sections: set[str], raw: dict[int, float]
) -> set[int]:
    """'What is sciatica?': the main lay topic's plain summary goes first (no KB entity named)."""
    if "definition" not in sections or any(t.startswith("@") for t in q.terms):
        return set()
    lay = _lay_topics(q, index)
    if not lay:
        return set()
    best = max(raw.values(), default=MIN_SCORE)
    order = {"patient_summary": 1.1, "definition": 1.05}
    promoted: set[int] = set()
    for doc_id, p in enumerate(index.passages):
        if f"{p.entity_kind}/{p.entity_id}" == lay[0] and p.section in order:
            raw[doc_id] = max(raw.get(doc_id, 0.0), best * order[p.section])
            promoted.add(doc_id)
    return promoted


def _source_ref(source_id: str, sources: dict[str, Any]) -> SourceRef:
    s = sources.get(source_id)
    if s is None:
        return SourceRef(id=source_id, title=source_id)
    return SourceRef(id=source_id, title=s.title, publisher=s.publisher, url=s.url)


# ---------------------------------------------------------------------------------------------
# Red flags
# ---------------------------------------------------------------------------------------------

_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|never|without|denies|deny|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|"
    r"no longer|free of)\b(?:\s+\w+){0,3}\s*$"
)
_CLAUSE_BREAK = re.compile(r"[.;!?]|\bbut\b")


def _phrase_findings(text: str, vocabulary: dict[str, Any]) -> list[tuple[str, str]]:
    low = text.lower().replace("’", "'")
    hits: list[tuple[str, str]] = []
    for finding, patterns in vocabulary.get("red_flag_phrases", {}).items():
        for pattern in patterns:
            for m in re.finditer(pattern, low):
                before = low[: m.start()]
                clause = _CLAUSE_BREAK.split(before)[-1]
                if _NEGATION_BEFORE.search(clause):
                    continue
                hits.append((finding, text[m.start() : m.end()]))
                break
    return hits


def detect_red_flags(question: str, kb: KnowledgeBase, index: SearchIndex) -> list[RedFlagAdvice]:
    """Emergency and urgent red-flag rules the question's wording fires, most urgent first."""
    from spineguide.knowledge.schema import URGENCY_RANK, Urgency
    from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
    from spineguide.reasoning.triage import evaluate_rules
    from spineguide.text.pipeline import extract

    items: list[Evidence] = []
    for finding, words_matched in _phrase_findings(question, index.vocabulary):
        if finding in kb.findings:
            items.append(Evidence(id=finding, text=words_matched, source="text"))
    with contextlib.suppress(InputError):  # the question was validated; be defensive anyway
        items += [e for e in extract(question).evidence if e.choice == Choice.present]
    if not items:
        return []
    fired = evaluate_rules(EvidenceSet(items), kb)
    out: list[RedFlagAdvice] = []
    for rule in fired:
        if URGENCY_RANK[rule.urgency] < URGENCY_RANK[Urgency.urgent]:
            continue
        advice, addresses, srcs = _seek_care_items(kb, rule.id, rule.condition)
        srcs = list(dict.fromkeys([*srcs, *rule.sources]))
        out.append(
            RedFlagAdvice(
                rule=rule.id,
                name=rule.name,
                urgency=rule.urgency.value,
                advice=advice,
                action=rule.action,
                matched=[e.text for e in rule.evidence if e.text],
                addresses=[f"red_flags/{rule.id}", *addresses],
                sources=[_source_ref(s, kb.sources) for s in srcs],
            )
        )
    out.sort(key=lambda a: -URGENCY_RANK[Urgency(a.urgency)])
    return out


def _seek_care_items(
    kb: KnowledgeBase, rule_id: str, condition_id: str | None
) -> tuple[list[str], list[str], list[str]]:
    """The KB's patient-facing 'when to see a doctor' texts for a red-flag rule (at most two)."""
    ordered = list(kb.conditions.values())
    if condition_id in kb.conditions:
        ordered.sort(key=lambda c: c.id != condition_id)
    texts: list[str] = []
    addresses: list[str] = []
    sources: list[str] = []
    for c in ordered:
        for i, item in enumerate(c.when_to_see_doctor):
            if item.red_flag_rule == rule_id and item.text not in texts:
                texts.append(item.text)
                addresses.append(f"conditions/{c.id}#when_to_see_doctor[{i}]")
                sources += item.sources
            if len(texts) >= 2:
                return texts, addresses, sources
    return texts, addresses, sources


# ---------------------------------------------------------------------------------------------
# Answer composition
# ---------------------------------------------------------------------------------------------

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def _extract(text: str, question: str, limit: int = ANSWER_WORDS) -> str:
    """The passage itself when short; otherwise its sentences most about the question, in order."""
    if len(text.split()) <= limit:
        return text
    q = {stem(w) for w in words(question) if w not in STOPWORDS}
    sentences = _SENTENCE_RE.split(text)
    scored = sorted(
        range(len(sentences)),
        key=lambda i: (-len(q & {stem(w) for w in words(sentences[i])}), i),
    )
    chosen: list[int] = []
    used = 0
    for i in [0, *scored]:  # the first sentence usually names the subject
        n = len(sentences[i].split())
        if i in chosen or (chosen and used + n > limit):
            continue
        chosen.append(i)
        used += n
    return " ".join(sentences[i] for i in sorted(chosen))


def _validate(question: Any, top: int) -> str:
    if not isinstance(question, str):
        raise InputError("the question must be text")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputTooLargeError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}",
            "ask one short question at a time",
        )
    q = " ".join(question.split())
    if not q or not words(q):
        raise InputError("the question is empty", 'ask a question, e.g. "what causes sciatica?"')
    if not 1 <= top <= MAX_TOP:
        raise InputError(f"top must be between 1 and {MAX_TOP}, not {top}")
    return q


def answer_question(question: str, top: int = 3, kb: KnowledgeBase | None = None) -> Answer:
    """Answer a question from the knowledge base with citations (red-flag advice first)."""
    q = _validate(question, top)
    if kb is None:
        from spineguide.knowledge.loader import get_kb

        kb = get_kb()
    index = get_index(kb)
    red_flags = detect_red_flags(q, kb, index)
    results = search(q, top=max(top, 3), index=index)
    best = results[0] if results else None
    answered = best is not None and _relevant(best)
    citations: list[Citation] = []
    parts: list[str] = []
    if answered and best is not None:
        chosen = [best]
        for r in results[1:3]:
            if r.score >= SUPPORT_RATIO * best.score and _relevant(r) and _distinct(r, chosen):
                chosen.append(r)
        for n, r in enumerate(chosen, 1):
            parts.append(f"{_extract(r.text, q)} [{n}]")
            title = r.title + (f": {r.question}" if r.question else "")
            citations.append(Citation(n=n, address=r.address, title=title, sources=r.sources))
    text = " ".join(parts) if parts else NO_ANSWER
    if not answered and red_flags:
        text = "See the urgent advice above. " + NO_ANSWER.replace("this question", "the rest")
    return Answer(
        question=q,
        answered=answered or bool(red_flags),
        answer=text,
        red_flags=red_flags,
        citations=citations,
        results=results[:top] if answered else [],
        kb_version=kb.version,
    )


def _relevant(r: SearchResult) -> bool:
    if r.topic_definition:
        return True
    return (
        r.score >= MIN_SCORE
        and r.coverage >= MIN_COVERAGE
        and r.score * r.coverage >= MIN_RELEVANCE
    )


def _distinct(r: SearchResult, chosen: list[SearchResult]) -> bool:
    mine = set(words(r.text))
    for c in chosen:
        theirs = set(words(c.text))
        if len(mine & theirs) / max(1, len(mine | theirs)) > 0.6:
            return False
    return True


def render_text(ans: Answer) -> str:
    """Plain-text rendering: red flags, the answer, citations, related passages, disclaimer."""
    lines: list[str] = []
    for rf in ans.red_flags:
        head = "EMERGENCY" if rf.urgency == "emergency" else "URGENT"
        lines.append(f"!! {head}: {rf.name}")
        lines += [f"   {a}" for a in rf.advice]
        lines.append(f"   Clinician action: {rf.action}")
        lines.append("   Sources: " + "; ".join(f"{s.title} [{s.id}]" for s in rf.sources))
        lines.append("")
    lines.append(ans.answer)
    if ans.citations:
        lines.append("")
        lines.append("Sources:")
        for c in ans.citations:
            lines.append(f"  [{c.n}] {c.title} ({c.address})")
            for s in c.sources:
                lines.append(f"      {s.title} [{s.id}]")
    related = [r for r in ans.results if r.address not in {c.address for c in ans.citations}]
    if related:
        lines.append("")
        lines.append("Related in the knowledge base:")
        for r in related:
            lines.append(f"  - {r.title} ({r.address})")
    lines.append("")
    lines.append(ans.disclaimer)
    return "\n".join(lines)
