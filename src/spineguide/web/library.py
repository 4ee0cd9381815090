"""The condition library: every KB condition with its linked tests and treatments, and search."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.knowledge.schema import Condition, DiagnosticTest

_TOKEN = re.compile(r"[a-z0-9]+")
GROUP_LABELS = {
    "seed": "Lumbar spine conditions",
    "red_flag": "Serious conditions not to miss",
    "mimic": "Conditions that can look like a spine problem",
    "topic": "Topics",
}


def tokens(text: str) -> list[str]:
    """Lower-case word tokens."""
    return _TOKEN.findall(text.lower())


@dataclass
class _Doc:
    condition_id: str
    name_tokens: set[str]
    body_tokens: set[str]


@dataclass
class Library:
    """Search index over conditions (built once per knowledge-base version)."""

    version: str
    docs: list[_Doc] = field(default_factory=list)

    def search(self, query: str) -> list[tuple[str, float]]:
        """Condition ids matching every query token (prefix match), best first."""
        q = [t for t in tokens(query) if t]
        if not q:
            return [(d.condition_id, 0.0) for d in self.docs]
        hits = []
        for d in self.docs:
            score = 0.0
            for t in q:
                if t in d.name_tokens:
                    score += 5
                elif any(n.startswith(t) for n in d.name_tokens if len(t) >= 3):
                    score += 3
                elif t in d.body_tokens:
                    score += 1
                elif len(t) >= 4 and any(b.startswith(t) for b in d.body_tokens):
                    score += 0.5
                else:
                    score = 0
                    break
            if score > 0:
                hits.append((d.condition_id, score))
        hits.sort(key=lambda h: -h[1])
        return hits


def _condition_text(c: Condition) -> str:
    parts: list[str] = [c.definition, c.patient_summary, c.prognosis or ""]
    parts += c.key_features
    for t in c.types:
        parts += [t.name, t.description, *t.aliases]
    for x in c.causes:
        parts += [x.name, x.description, *x.aliases]
    for s in c.symptoms:
        parts += [s.name, s.description, *s.aliases]
    for n in c.background:
        parts += [n.title, n.text]
    for group in (c.prevention, c.dos, c.donts):
        parts += [i.text for i in group]
    parts += [w.text for w in c.when_to_see_doctor]
    for f in c.faqs:
        parts += [f.question, f.answer]
    parts += [m.text for m in c.management]
    parts += [code.code for code in c.icd10cm]
    return " ".join(parts)


_CACHE: dict[str, Library] = {}


def library(kb: KnowledgeBase) -> Library:
    """The search index for this knowledge base."""
    lib = _CACHE.get(kb.version)
    if lib is None:
        lib = Library(kb.version)
        for c in sorted(kb.conditions.values(), key=lambda c: c.name):
            lib.docs.append(
                _Doc(
                    c.id,
                    set(tokens(" ".join([c.name, c.id, *c.aliases]))),
                    set(tokens(_condition_text(c))),
                )
            )
        _CACHE.clear()
        _CACHE[kb.version] = lib
    return lib


def condition_tests(c: Condition, kb: KnowledgeBase) -> list[DiagnosticTest]:
    """Tests for a condition: its first investigations, then tests its seed article describes."""
    ids = list(c.first_investigations)
    if c.seed_article:
        ids += [
            t.id
            for t in kb.tests.values()
            if any(s.source == c.seed_article for s in t.article_statements)
        ]
    return [kb.tests[i] for i in dict.fromkeys(ids) if i in kb.tests]


def stance_lines(stances: list[Any]) -> list[str]:
    """'NICE NG59 1.2.11 (sciatica): recommended' lines for every addressed stance."""
    from spineguide.reasoning.plan import guideline_short_name

    out = []
    for s in stances:
        if s.stance.value == "not_addressed":
            continue
        rec = f" {s.recommendation}" if s.recommendation else ""
        pop = f" ({s.population})" if s.population else ""
        out.append(
            f"{guideline_short_name(s.guideline)}{rec}{pop}: {s.stance.value.replace('_', ' ')}"
        )
    return out


def find_conditions(query: str, kb: KnowledgeBase) -> tuple[list[tuple[str, float]], list[str]]:
    """Library search that understands lay words: exact word hits, then the question search's
    condition passages (synonyms such as 'trapped nerve'); red-flag conditions the words point
    to come first. Returns (condition id, score) best first, and the red-flag condition ids."""
    from spineguide.errors import InputError

    hits = dict(library(kb).search(query))
    if not tokens(query):
        return list(hits.items()), []
    red: list[str] = []
    try:
        from spineguide.search.answer import detect_red_flags, search
        from spineguide.search.index import get_index

        index = get_index(kb)
        for rank, r in enumerate(search(query, top=30, index=index)):
            kind, _, rest = r.address.partition("/")
            cid = rest.split("#", 1)[0]
            if kind == "conditions" and cid in kb.conditions and (r.coverage >= 0.5 or cid in hits):
                hits[cid] = hits.get(cid, 0.0) + max(0.5, 3.0 - rank * 0.1)
        for rf in detect_red_flags(query, kb, index):
            for addr in rf.addresses:
                cid = (
                    addr.split("/", 1)[1].split("#", 1)[0] if addr.startswith("conditions/") else ""
                )
                if cid in kb.conditions and cid not in red:
                    red.append(cid)
    except InputError:
        pass
    for cid in red:
        hits[cid] = hits.get(cid, 0.0) + 100.0
    return sorted(hits.items(), key=lambda kv: -kv[1]), red
