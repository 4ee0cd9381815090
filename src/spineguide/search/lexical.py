"""Lexical retrieval: tokenizer, light stemmer, phrase-synonym concepts and an Okapi BM25 index.

Pure Python, no dependencies: the knowledge base holds a few thousand passages, so an in-memory
inverted index scores a question in well under a millisecond and builds in a fraction of a second.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spineguide.textnorm import FUNCTION_WORDS

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "%": " percent "})

# Function words and question scaffolding that carry no topic ("how long does ... take").
STOPWORDS: frozenset[str] = FUNCTION_WORDS | frozenset(
    {
        "anything",
        "aren't",
        "can't",
        "cannot",
        "couldn't",
        "didn't",
        "doctor's",
        "doesn't",
        "don't",
        "ever",
        "get",
        "go",
        "going",
        "got",
        "hadn't",
        "hasn't",
        "haven't",
        "hello",
        "herself",
        "hi",
        "himself",
        "i'd",
        "i'm",
        "i've",
        "isn't",
        "it's",
        "know",
        "let's",
        "myself",
        "ok",
        "okay",
        "ours",
        "ourselves",
        "please",
        "really",
        "see",
        "shall",
        "shouldn't",
        "someone",
        "something",
        "still",
        "tell",
        "thank",
        "thanks",
        "that's",
        "theirs",
        "themselves",
        "there's",
        "thing",
        "things",
        "want",
        "wasn't",
        "weren't",
        "what's",
        "won't",
        "wouldn't",
        "yes",
        "yours",
        "yourself",
        "yourselves",
    }
)


def _has_vowel(s: str) -> bool:
    return any(c in "aeiouy" for c in s)


def stem(word: str) -> str:
    """Reduce a lower-case word to a crude stem (plural, -ing, -ed, -ly, -ation, -ness...)."""
    w = word
    if len(w) <= 3 or w.isdigit():
        return w
    if w.endswith("'s"):
        w = w[:-2]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    if len(w) > 5 and w.endswith("y") and w[-2] not in "aeiou" and not w.endswith("ly"):
        w = w[:-1]  # "recovery" -> "recover", "surgery" -> "surger"
    for suffix, repl, min_stem in (
        ("ational", "ate", 3),
        ("ations", "ate", 3),
        ("ation", "ate", 3),
        ("ness", "", 3),
        ("ment", "", 4),
        ("ingly", "", 3),
        ("edly", "", 3),
        ("ing", "", 3),
        ("ed", "", 3),
        ("ly", "", 4),
        ("ive", "", 4),
        ("ity", "", 4),
        ("ful", "", 3),
        ("al", "", 4),
        ("e", "", 3),
    ):
        if w.endswith(suffix):
            base = w[: -len(suffix)]
            if len(base) >= min_stem and _has_vowel(base):
                w = base + repl
                if repl == "ate":
                    w = w[:-1]  # "inflammation" and "inflamed" meet at "inflammat"/"inflam"
                break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # "stopped" -> "stop", "fitting" -> "fit"
    if w.endswith("at") and len(w) > 5:
        w = w[:-2]  # "inflammat" -> "inflamm", matching "inflamm(ed)" from -ed stripping
    return w


def words(text: str) -> list[str]:
    """Lower-case word tokens of a text (apostrophes and dashes normalised)."""
    return _WORD_RE.findall(text.lower().translate(_APOSTROPHES))


def analyze(text: str) -> list[str]:
    """Stemmed content tokens of a text (stopwords removed), in order."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def analyze_all(text: str) -> tuple[list[str], list[str]]:
    """(content tokens, every stemmed word): the second keeps stopwords for phrase matching."""
    ws = words(text)
    all_stems = [stem(w) for w in ws]
    content = [s for w, s in zip(ws, all_stems, strict=True) if w not in STOPWORDS]
    return content, all_stems


@dataclass
class ConceptMatcher:
    """Maps phrases (synonyms, aliases) to shared concept tokens, so either wording matches."""

    _by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)

    def add(self, concept: str, phrases: Iterable[str]) -> None:
        """Register phrases that all stand for one concept."""
        for phrase in phrases:
            toks = tuple(stem(w) for w in words(phrase))
            if not toks:
                continue
            entries = self._by_first.setdefault(toks[0], [])
            if (toks, concept) not in entries:
                entries.append((toks, concept))
                entries.sort(key=lambda e: -len(e[0]))

    def concepts(self, tokens: Sequence[str]) -> list[str]:
        """Concept tokens for every registered phrase in a stemmed word sequence (stopwords kept)."""
        return [concept for _, _, concept in self.spans(tokens)]

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
        """(start, end, concept) for every registered phrase occurring in a token sequence."""
        found: list[tuple[int, int, str]] = []
        n = len(tokens)
        for i, tok in enumerate(tokens):
            for phrase, concept in self._by_first.get(tok, ()):
                k = len(phrase)
                if i + k <= n and tuple(tokens[i : i + k]) == phrase:
                    found.append((i, i + k, concept))
        return found


@dataclass
class Bm25Index:
    """Okapi BM25 over pre-tokenised documents (k1, b as in Lucene defaults)."""

    k1: float = 1.2
    b: float = 0.75
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    doc_len: list[int] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    avg_len: float = 0.0

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> Bm25Index:
        """Index token lists; document i is addressed by its position."""
        index = cls(k1=k1, b=b)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc_id, toks in enumerate(docs):
            index.doc_len.append(len(toks))
            for term, tf in Counter(toks).items():
                postings[term].append((doc_id, tf))
        index.postings = dict(postings)
        n = len(docs)
        index.avg_len = (sum(index.doc_len) / n) if n else 0.0
        index.idf = {
            term: math.log(1.0 + (n - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in index.postings.items()
        }
        return index

    @property
    def max_idf(self) -> float:
        """The idf a term found in no document would have (for coverage weighting)."""
        n = len(self.doc_len)
        return math.log(1.0 + (n + 0.5) / 0.5) if n else 0.0

    def term_weight(self, term: str) -> float:
        """The idf of a term, or the unseen-term idf when it is not in the index."""
        return self.idf.get(term, self.max_idf)

    def score(self, query: dict[str, float]) -> dict[int, float]:
        """BM25 score of every document sharing a term with a weighted query {term: weight}."""
        scores: dict[int, float] = defaultdict(float)
        k1, b, avg = self.k1, self.b, self.avg_len or 1.0
        doc_len = self.doc_len
        for term, qw in query.items():
            plist = self.postings.get(term)
            if not plist:
                continue
            w = self.idf[term] * qw
            for doc_id, tf in plist:
                norm = k1 * (1.0 - b + b * doc_len[doc_id] / avg)
                scores[doc_id] += w * tf * (k1 + 1.0) / (tf + norm)
        return dict(scores)


def normalize(text: str) -> str:
    """Lower-cased words of a text joined by single spaces."""
    return " ".join(words(text))
