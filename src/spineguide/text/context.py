"""The one context engine (ConText / medspaCy / EDS-NLP style) for notes and imaging reports.

It answers, for a target phrase in a sentence: is it negated, uncertain, historical, about a
family member, or hypothetical, and which cue words made it so. Cues and scope rules are data
(``vocabulary/<language>/context.yaml``); this module holds only the mechanism.

Public API (stable; the clinical-note reader and the imaging-report reader both use it)::

    from spineguide.text.context import ContextEngine

    engine = ContextEngine.for_language("en")          # cached per language
    q = engine.qualify("No canal, recess or foraminal stenosis.", (10, 16))
    q.negated, q.uncertain, q.historical, q.family, q.hypothetical   # bools
    q.cue_spans                                        # ((0, 2),) character spans of the cues
    q.cues                                             # (CueHit("negated", "no", (0, 2)),)

    engine.qualify_all(sentence, [span1, span2])       # several targets, one pass
    engine.qualify_tokens(words, [3, 7], starts, ends) # for readers that already tokenised

``doc_or_sentence`` is either a string (spans are offsets into it) or any object with parallel
``words`` (lower case), ``starts`` and ``ends`` lists (spans are offsets into the text those
offsets point at), such as ``spineguide.text.document.Sentence``.

Scope rules: a cue's scope is its clause. A forward cue's scope runs right of the cue to the
first boundary (``.``, ``;``, ``:``, brackets), terminating cue ("but", "which", "with", ...),
another cue, or ``max_scope`` words; a backward cue's scope runs left in the same way. Pseudo
cues ("no change", "not only") consume their words so the cue inside them never fires.
Coordinated lists are distributed: "no canal, recess or foraminal stenosis" negates all three
as long as each list item holds a target and does not open with a list breaker ("mild", "is",
...), so "no herniation, mild foraminal narrowing" negates only the herniation. In lenient mode
an item without a known target stays in the list only when a conjunction closes the list ("no
fever, sweats or weight loss"); a comma alone is no list ("right sciatica, absent ankle jerk"). A rule may carry
its own ``max_scope`` (normality predicates such as "are unremarkable" reach back only a few
words). Matching is linear in the sentence length (cues indexed by first word).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from spineguide.errors import InputError
from spineguide.knowledge.loader import read_yaml

FORWARD = "forward"
BACKWARD = "backward"
BIDIRECTIONAL = "bidirectional"
TERMINATE = "terminate"
PSEUDO = "pseudo"
DIRECTIONS = frozenset({FORWARD, BACKWARD, TERMINATE, PSEUDO, BIDIRECTIONAL})
CATEGORIES = ("negated", "uncertain", "historical", "family", "hypothetical")

VOCABULARY_DIR = Path(__file__).parent / "vocabulary"
CONTEXT_FILE = "context.yaml"

DEFAULT_BOUNDARIES = frozenset({".", ";", ":", "!", "?", "(", ")", "[", "]"})
DEFAULT_SEPARATORS = frozenset({",", "or", "and", "nor", "/", "&"})

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
# _TOKEN_RE without the hyphens and slashes that join two letters or digits ("l4/5", "x-ray"):
# `[^\W_]` is exactly `str.isalnum`, so one C-level scan gives the tokens `_words` keeps
_KEPT_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|(?<![^\W_])[-/]|[-/](?![^\W_])|[^\sa-z0-9/-]")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"})


def context_path(language: str) -> Path:
    """Return the cue file for a language folder ("en" -> vocabulary/en/context.yaml)."""
    return VOCABULARY_DIR / language / CONTEXT_FILE


@dataclass(frozen=True, slots=True)
class CueMatch:
    """A cue found in a sentence: word span [start, end), category and direction."""

    start: int
    end: int
    category: str
    direction: str
    phrase: str
    max_scope: int = 0


@dataclass(frozen=True, slots=True)
class CueHit:
    """A cue that qualified a target: its category, the words and their character span."""

    category: str
    phrase: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Qualifiers:
    """What the context says about one target, with the cues that said it."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    cues: tuple[CueHit, ...] = ()

    @property
    def cue_spans(self) -> tuple[tuple[int, int], ...]:
        """Character spans of the cues that qualified the target."""
        return tuple(c.span for c in self.cues)

    def spans_for(self, category: str) -> list[tuple[int, int]]:
        """Character spans of the cues of one category."""
        return [c.span for c in self.cues if c.category == category]


NO_QUALIFIERS = Qualifiers()

# The hot path builds these frozen records without the generated __init__ (which sets each field
# through object.__setattr__ by name): a new instance and the slot descriptors' setters, in
# field order. Same objects, same values; the public constructors are unchanged.
_new = object.__new__
_CUE_MATCH_SET = tuple(getattr(CueMatch, f).__set__ for f in CueMatch.__slots__)
_CUE_HIT_SET = tuple(getattr(CueHit, f).__set__ for f in CueHit.__slots__)
_QUALIFIERS_SET = tuple(getattr(Qualifiers, f).__set__ for f in Qualifiers.__slots__)


def _cue_match(
    start: int, end: int, category: str, direction: str, phrase: str, max_scope: int
) -> CueMatch:
    obj = _new(CueMatch)
    s0, s1, s2, s3, s4, s5 = _CUE_MATCH_SET
    s0(obj, start)
    s1(obj, end)
    s2(obj, category)
    s3(obj, direction)
    s4(obj, phrase)
    s5(obj, max_scope)
    return obj


class TokenisedSentence(Protocol):
    """Anything with parallel lower-case words and their character offsets."""

    words: list[str]
    starts: list[int]
    ends: list[int]


class ContextRules:
    """Compiled cue phrases, indexed by first word for linear-time matching, and scope rules."""

    def __init__(
        self,
        rules: Iterable[Mapping[str, object]],
        *,
        list_breakers: Iterable[str] = (),
        max_scope: int = 40,
        boundaries: Iterable[str] | None = None,
        separators: Iterable[str] | None = None,
    ) -> None:
        """Build from rule dicts: {category, direction, phrases: [..], max_scope?}."""
        index: dict[str, list[tuple[tuple[str, ...], str, str, int]]] = {}
        for rule in rules:
            category = str(rule["category"])
            direction = str(rule["direction"])
            if direction not in DIRECTIONS:
                raise ValueError(f"unknown cue direction {direction!r} for {category}")
            scope = int(rule.get("max_scope") or 0)  # type: ignore[call-overload]
            phrases = rule.get("phrases") or []
            for phrase in phrases:  # type: ignore[union-attr]
                if not isinstance(phrase, str):
                    raise ValueError(f"cue {phrase!r} is not a string (quote it in YAML)")
                words = tuple(_words(phrase))
                if words:
                    index.setdefault(words[0], []).append((words, category, direction, scope))
        for entries in index.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._index = index
        # for `match`: one-word cues by word, longer ones by their first two words (longest
        # first, in rule order), so each word tries only the cues it can open
        single: dict[str, tuple[int, str, str, str, int]] = {}
        multi: dict[tuple[str, str], list[tuple[int, tuple[str, ...], str, str, str, int]]] = {}
        for first, entries in index.items():
            for words, category, direction, scope in entries:
                joined = " ".join(words)
                if len(words) == 1:
                    single.setdefault(first, (1, category, direction, joined, scope))
                else:
                    multi.setdefault((first, words[1]), []).append(
                        (len(words), words, category, direction, joined, scope)
                    )
        self._single = single
        self._multi = {key: tuple(v) for key, v in multi.items()}
        self._multi_firsts = frozenset(first for first, _second in multi)
        self._firsts = frozenset(index)
        self.list_breakers = frozenset(list_breakers)
        self.max_scope = max_scope
        self.boundaries = frozenset(boundaries) if boundaries else DEFAULT_BOUNDARIES
        self.separators = frozenset(separators) if separators else DEFAULT_SEPARATORS

    @classmethod
    def from_yaml(cls, path: str | Path) -> ContextRules:
        """Load cue rules and scope settings from a context YAML file."""
        data = read_yaml(Path(path))
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ContextRules:
        """Build from the parsed content of a context YAML file."""
        return cls(
            data["rules"],
            list_breakers=data.get("list_breakers", ()),
            max_scope=int(data.get("max_scope", 40)),
            boundaries=data.get("boundaries"),
            separators=data.get("separators"),
        )

    def match(self, words: Sequence[str]) -> list[CueMatch]:
        """Return the cues in `words`, longest match first, non-overlapping, left to right."""
        out: list[CueMatch] = []
        firsts = self._firsts
        if firsts.isdisjoint(words):
            return out
        single = self._single
        multi = self._multi
        multi_firsts = self._multi_firsts
        n = len(words)
        i = 0
        while i < n:
            w = words[i]
            if w not in firsts:
                i += 1
                continue
            found = multi.get((w, words[i + 1])) if w in multi_firsts and i + 1 < n else None
            if found:
                longer = longest_phrase_at(found, words, i)
                if longer is not None:
                    k, _phrase, category, direction, joined, scope = longer
                    out.append(_cue_match(i, i + k, category, direction, joined, scope))
                    i += k
                    continue
            hit = single.get(w)
            if hit is not None:
                k, category, direction, joined, scope = hit
                out.append(_cue_match(i, i + 1, category, direction, joined, scope))
            i += 1
        return out

    def resolve(
        self,
        words: Sequence[str],
        targets: Sequence[int],
        cues: Sequence[CueMatch] | None = None,
        *,
        boundaries: frozenset[str] | None = None,
        separators: frozenset[str] | None = None,
        lenient_lists: int = False,
    ) -> list[dict[str, CueMatch]]:
        """For each target word index, the cue (by category) whose scope covers it.

        Strict lists (default): a list item stays in scope only if it holds one of `targets`
        (the caller passes every target of the sentence). Lenient lists: an item stays in scope
        unless it opens with a list breaker (for callers that qualify one target at a time).
        """
        if cues is None:
            cues = self.match(words)
        result: list[dict[str, CueMatch]] = [{} for _ in targets]
        if not cues or not targets:
            return result
        bounds = boundaries if boundaries is not None else self.boundaries
        seps = separators if separators is not None else self.separators
        active: list[CueMatch] = []  # pseudo cues only consume their words
        cue_starts: set[int] = set()
        cue_ends: set[int] = set()
        term_ends: set[int] = set()
        for c in cues:  # a plain loop: sentences hold a cue or two
            if c.direction == PSEUDO:
                continue
            active.append(c)
            cue_starts.add(c.start)
            cue_ends.add(c.end)
            if c.direction == TERMINATE:
                term_ends.add(c.end)
        target_set = frozenset(targets)
        ranked = sorted(range(len(targets)), key=targets.__getitem__)
        order = ([targets[k] for k in ranked], ranked)
        for cue in active:
            if cue.direction == TERMINATE:
                continue
            limit = cue.max_scope or self.max_scope
            if cue.direction in (FORWARD, BIDIRECTIONAL):
                hi = self._forward_end(
                    words, cue.end, cue_starts, target_set, bounds, seps, limit, lenient_lists
                )
                self._mark(result, order, cue, cue.end, hi)
            if cue.direction in (BACKWARD, BIDIRECTIONAL) and cue.start not in term_ends:
                # "..., which is likely to ...": a terminator right before the cue closes it
                lo = self._backward_start(
                    words, cue.start, cue_ends, target_set, bounds, seps, limit, lenient_lists
                )
                self._mark(result, order, cue, lo, cue.start)
        return result

    @staticmethod
    def _mark(
        result: list[dict[str, CueMatch]],
        order: tuple[list[int], list[int]],
        cue: CueMatch,
        lo: int,
        hi: int,
    ) -> None:
        positions, which = order  # targets sorted by word index, and their input order
        i = bisect.bisect_left(positions, lo)
        while i < len(positions) and positions[i] < hi:
            k = which[i]
            if cue.category not in result[k]:
                result[k][cue.category] = cue
            i += 1

    def _segment_ok(
        self, words: Sequence[str], lo: int, hi: int, targets: frozenset[int], lenient: bool
    ) -> bool:
        """A list item continues a scope when it holds a target and no list breaker before it."""
        for j in range(lo, hi):
            if j in targets:
                return True
            if words[j] in self.list_breakers:
                return False
        return lenient

    def _forward_end(
        self,
        words: Sequence[str],
        start: int,
        cue_starts: set[int],
        targets: frozenset[int],
        boundaries: frozenset[str],
        separators: frozenset[str],
        max_scope: int,
        lenient: int,
    ) -> int:
        n = len(words)
        limit = min(n, start + max_scope)
        j = start
        while j < limit:
            w = words[j]
            if w in boundaries or (j in cue_starts and j != start):
                return j
            if w in separators:
                k = j + 1
                while k < limit and words[k] not in separators and words[k] not in boundaries:
                    if k in cue_starts:
                        break
                    k += 1
                if k == j + 1 and k < n and words[k] in separators:
                    j += 1  # ", or" / ", and": one separator
                    continue
                closed = w in _CONJUNCTIONS or _conjunction_in(words, j + 1, limit, boundaries)
                if lenient == _CLOSED:
                    if not closed or not self._segment_ok(words, j + 1, k, frozenset(), True):
                        return j  # one target at a time: only a list closed by and/or counts
                elif not self._segment_ok(words, j + 1, k, targets, bool(lenient) and closed):
                    return j
            j += 1
        return limit

    def _backward_start(
        self,
        words: Sequence[str],
        end: int,
        cue_ends: set[int],
        targets: frozenset[int],
        boundaries: frozenset[str],
        separators: frozenset[str],
        max_scope: int,
        lenient: int,
    ) -> int:
        floor = max(0, end - max_scope)
        j = end - 1
        while j >= floor:
            w = words[j]
            if w in boundaries or (j + 1 in cue_ends and j + 1 != end):
                return j + 1
            if w in separators:
                k = j - 1
                while k >= floor and words[k] not in separators and words[k] not in boundaries:
                    if k + 1 in cue_ends:
                        break
                    k -= 1
                if k == j - 1 and k >= 0 and words[k] in separators:
                    j -= 1  # ", or" / ", and": one separator
                    continue
                closed = w in _CONJUNCTIONS or _conjunction_in(words, j + 1, end, boundaries)
                if not closed:
                    return j + 1  # "right sciatica, absent ankle jerk": a comma alone is no list
                if not self._segment_ok(words, k + 1, j, targets, bool(lenient)):
                    return j + 1
            j -= 1
        return floor


_CONJUNCTIONS = frozenset({"and", "or", "nor", "&", "/"})
_CLOSED = 2  # list mode for callers that qualify one target at a time


def _conjunction_in(words: Sequence[str], lo: int, hi: int, boundaries: frozenset[str]) -> bool:
    """True when a coordinating conjunction closes the list between lo and hi (a comma alone
    does not make a list: "right sciatica, absent ankle jerk")."""
    for x in range(lo, hi):
        w = words[x]
        if w in boundaries:
            return False
        if w in _CONJUNCTIONS:
            return True
    return False


def longest_phrase_at(
    candidates: Sequence[tuple[Any, ...]], words: Sequence[str], i: int
) -> tuple[Any, ...] | None:
    """The first of `candidates` whose words are written at word i, or None.

    Candidates are entries ``(length, words, ...)``, longest first, that all share the words
    at i and i + 1 (a two-word index found them), so a two-word entry matches at once. Shared
    by the cue matcher and the imaging vocabulary tagger."""
    n = len(words)
    for entry in candidates:
        k = entry[0]
        if i + k <= n and (k == 2 or tuple(words[i : i + k]) == entry[1]):
            return entry
    return None


def _words(text: str) -> list[str]:
    """Lower-case words and punctuation; a hyphen or slash between letters joins, not splits."""
    low = text.translate(_QUOTES).lower()
    out: list[str] = []
    for m in _TOKEN_RE.finditer(low):
        w = m.group()
        s, e = m.start(), m.end()
        if w in "-/" and s > 0 and e < len(low) and low[s - 1].isalnum() and low[e].isalnum():
            continue
        out.append(w)
    return out


@dataclass(slots=True)
class _Tokens:
    words: list[str]
    starts: list[int]
    ends: list[int]


def tokenise(text: str, offset: int = 0) -> _Tokens:
    """Split text into lower-case words with character offsets (hyphenated words split)."""
    low = text.translate(_QUOTES).lower()
    found = list(_KEPT_TOKEN_RE.finditer(low))  # the regex skips the joining hyphens itself
    return _Tokens(
        [m.group() for m in found],
        [m.start() + offset for m in found],
        [m.end() + offset for m in found],
    )


class ContextEngine:
    """Negation, uncertainty, history, family and hypothetical context for target phrases."""

    def __init__(self, rules: ContextRules) -> None:
        """Wrap compiled rules (use `for_language` to load the shipped cue data)."""
        self.rules = rules

    @classmethod
    def for_language(cls, language: str = "en") -> ContextEngine:
        """Return the (cached) engine for a language folder under text/vocabulary/."""
        return _engine_for(language)

    @classmethod
    def from_file(cls, path: str | Path) -> ContextEngine:
        """Build an engine from a context YAML file (for tests and other languages)."""
        return cls(ContextRules.from_yaml(path))

    def qualify(
        self, doc_or_sentence: str | TokenisedSentence, target_span: tuple[int, int]
    ) -> Qualifiers:
        """Qualify one target (a character span) in a sentence."""
        return self.qualify_all(doc_or_sentence, [target_span])[0]

    def qualify_all(
        self, doc_or_sentence: str | TokenisedSentence, target_spans: Sequence[tuple[int, int]]
    ) -> list[Qualifiers]:
        """Qualify several targets (character spans) in one sentence in one pass.

        Lists are read for one target at a time: an item stays inside a negated list when a
        conjunction closes the list ("no fever, sweats or weight loss") and it does not open with
        a list breaker; a comma alone is no list ("no fever, pain radiates to the calf").
        """
        if isinstance(doc_or_sentence, str):
            toks: TokenisedSentence = tokenise(doc_or_sentence)
        elif all(hasattr(doc_or_sentence, a) for a in ("words", "starts", "ends")):
            toks = doc_or_sentence
        else:
            raise InputError("qualify needs a string or a tokenised sentence (words/starts/ends)")
        groups: list[list[int]] = []
        ends = toks.ends
        for span in target_spans:
            if not (isinstance(span, tuple | list) and len(span) == 2):
                raise InputError(f"target span {span!r} must be a (start, end) pair")
            lo, hi = int(span[0]), int(span[1])
            i = bisect.bisect_right(ends, lo)  # first token ending after the span starts
            idx = []
            while i < len(ends) and toks.starts[i] < hi:
                idx.append(i)
                i += 1
            groups.append(idx)
        return self._qualify_groups(toks.words, toks.starts, toks.ends, groups, lenient=_CLOSED)

    def qualify_tokens(
        self,
        words: Sequence[str],
        targets: Sequence[int | Sequence[int]],
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
        cues: Sequence[CueMatch] | None = None,
        *,
        lenient_lists: bool = False,
    ) -> list[Qualifiers]:
        """Qualify targets given as word indices of an already tokenised sentence.

        A target is one word index or several (e.g. the anchor and head words of "canal ...
        stenosis"); it is qualified when any of its words is in a cue's scope. Pass every target
        of the sentence at once: by default list items are distributed only over items that hold
        a target (strict lists); `lenient_lists` also keeps items that hold no known target
        ("no listhesis, pars defect or fracture") unless they open with a list breaker.
        """
        groups: list[Sequence[int]] = []
        for t in targets:  # read, never changed
            groups.append([t] if isinstance(t, int) else t)
        return self._qualify_groups(words, starts, ends, groups, cues, lenient=lenient_lists)

    def _qualify_groups(
        self,
        words: Sequence[str],
        starts: Sequence[int] | None,
        ends: Sequence[int] | None,
        groups: Sequence[Sequence[int]],
        cues: Sequence[CueMatch] | None = None,
        *,
        lenient: int = False,
    ) -> list[Qualifiers]:
        if cues is None:
            cues = self.rules.match(words)
        if not cues:
            return [NO_QUALIFIERS] * len(groups)
        flat = [i for g in groups for i in g]
        if not flat:
            return [NO_QUALIFIERS] * len(groups)
        per_token = self.rules.resolve(words, flat, cues, lenient_lists=lenient)
        out: list[Qualifiers] = []
        k = 0
        for g in groups:
            found: dict[str, CueMatch] = {}
            for _ in g:
                hits = per_token[k]
                if hits:
                    for cat, cue in hits.items():
                        found.setdefault(cat, cue)
                k += 1
            out.append(_qualifiers(found, starts, ends) if found else NO_QUALIFIERS)
        return out


def _qualifiers(
    found: Mapping[str, CueMatch], starts: Sequence[int] | None, ends: Sequence[int] | None
) -> Qualifiers:
    if not found:
        return NO_QUALIFIERS
    hits = []
    h0, h1, h2 = _CUE_HIT_SET
    for cat in CATEGORIES:
        cue = found.get(cat)
        if cue is None:
            continue
        if starts is not None and ends is not None:
            span = (starts[cue.start], ends[cue.end - 1])
        else:
            span = (cue.start, cue.end)
        hit = _new(CueHit)
        h0(hit, cat)
        h1(hit, cue.phrase)
        h2(hit, span)
        hits.append(hit)
    q = _new(Qualifiers)  # the fields in order: negated, uncertain, historical, ...
    q0, q1, q2, q3, q4, q5 = _QUALIFIERS_SET
    q0(q, "negated" in found)
    q1(q, "uncertain" in found)
    q2(q, "historical" in found)
    q3(q, "family" in found)
    q4(q, "hypothetical" in found)
    q5(q, tuple(hits))
    return q


@lru_cache(maxsize=8)
def _engine_for(language: str) -> ContextEngine:
    if not re.fullmatch(r"[a-z]{2,3}(?:_[a-z]{2})?", language or ""):
        raise InputError(f"unknown language {language!r}", "use a code such as 'en'")
    path = context_path(language)
    if not path.is_file():
        raise InputError(f"no context cues for language {language!r}", f"expected {path}")
    return ContextEngine(ContextRules.from_yaml(path))
