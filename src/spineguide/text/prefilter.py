"""Literal prefilters read from a regular expression's parse tree.

A vocabulary pattern is scanned only when the text contains the plain strings that every match
must contain. The condition is computed from the pattern's syntax tree (Python's own regex
parser) as an AND/OR query over literals, so it is sound by construction: a text that fails the
query cannot match, and skipping the scan changes no result. This is the literal prefilter of
RE2 and of code search engines, kept small: single characters are treated as "could be
anywhere", and each AND keeps only its most selective parts. `LiteralIndex` answers the
question for many patterns at once with one Aho-Corasick pass over the text.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import marshal
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # Python 3.11+: the parser lives in re._parser; sre_parse is its deprecated alias
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_parse as _sre_parse  # type: ignore[no-redef]

log = logging.getLogger(__name__)
_C = _sre_parse  # the opcode names are re-exported by the parser module
_REPEATS = {_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", _C.MAX_REPEAT)}
_ATOMIC = getattr(_C, "ATOMIC_GROUP", None)
_ZERO_WIDTH = {_C.AT, _C.ASSERT, _C.ASSERT_NOT}
_MIN_LITERAL = 2  # a single character occurs in any note: not worth a test ...
_SYMBOL_WEIGHT = 4  # ... except a symbol outside ASCII ("↓"), weighed like a 4-letter string
_MAX_AND = 2  # parts of an AND that are tested (the most selective ones)
_BASE = 0.5  # each further character roughly halves how often a string occurs in prose
# English function words occur in nearly every note whatever their length: poor prefilters
_COMMON = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "in", "into", "is",
    "it", "its", "no", "nor", "not", "of", "off", "on", "or", "out", "over", "she", "since",
    "than", "that", "the", "their", "them", "then", "there", "they", "this", "to", "up", "was",
    "we", "were", "which", "while", "who", "will", "with", "would", "you",
))  # fmt: skip


def _chance(lit: str) -> float:
    """Rough chance that a note contains the string."""
    word = lit.strip()
    if _rare_symbol(word):
        return float(_BASE**_SYMBOL_WEIGHT)  # an arrow or a degree sign: as rare as a word
    return 1.0 if word in _COMMON else float(_BASE ** len(word))


@dataclass(frozen=True)
class Query:
    """A condition on a lower-cased text: `op` is "lit", "and" or "or"."""

    op: str
    lit: str = ""
    parts: tuple[Query, ...] = ()

    def __call__(self, lower_text: str) -> bool:
        """Whether the text satisfies the condition (so the pattern may match it)."""
        if self.op == "lit":
            return self.lit in lower_text
        if self.op == "and":
            return all(p(lower_text) for p in self.parts)
        return any(p(lower_text) for p in self.parts)

    @property
    def chance(self) -> float:
        """Rough chance that a text satisfies the condition: longer strings are rarer."""
        if self.op == "lit":
            return _chance(self.lit)
        if self.op == "and":
            out = 1.0
            for p in self.parts:
                out *= p.chance
            return out
        return min(1.0, sum(p.chance for p in self.parts))

    def literals(self) -> set[str]:
        """Every string the condition tests."""
        if self.op == "lit":
            return {self.lit}
        return set().union(*(p.literals() for p in self.parts))


_MAX_RUNS = 16  # alternative spellings a literal run may fork into ("[sz]", "bp|blood pressure")


def _rare_symbol(text: str) -> bool:
    """A single character outside ASCII that is no letter or digit ("↓", "°", "→")."""
    return len(text) == 1 and not text.isascii() and not text.isalnum()


def _worth_testing(run: str) -> bool:
    """Whether a literal run is selective enough to test: two characters, or a rare symbol."""
    core = run.strip()
    return len(core) >= _MIN_LITERAL or _rare_symbol(core)


def _lit(runs: list[str]) -> Query | None:
    """An OR of the literal runs, when every run is long enough to be worth testing."""
    runs = [r for r in dict.fromkeys(runs)]
    if not runs or not all(_worth_testing(r) for r in runs):
        return None
    if len(runs) == 1:
        return Query("lit", lit=runs[0])
    return Query("or", parts=tuple(Query("lit", lit=r) for r in runs))


def _and(parts: list[Query]) -> Query | None:
    parts = sorted(set(parts), key=lambda q: q.chance)[:_MAX_AND]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Query("and", parts=tuple(parts))


def _spellings(op: Any, av: Any) -> list[str] | None:
    """The plain strings a node can match, when it is a small set of them (else None)."""
    if op is _C.IN:
        chars: list[str] = []
        for kind, value in av:
            if kind is _C.LITERAL:
                chars.append(chr(value).lower())
            elif kind is _C.RANGE and value[1] - value[0] < _MAX_RUNS:
                chars += [chr(c).lower() for c in range(value[0], value[1] + 1)]
            else:
                return None  # negated sets, categories, wide ranges
        return chars
    if op is _C.BRANCH:
        out: list[str] = []
        for alt in av[1]:
            if not all(o is _C.LITERAL for o, _ in alt):
                return None
            out.append("".join(chr(v).lower() for _, v in alt))
        return out
    body = _group_body(op, av)
    if body is not None and len(body) == 1:
        return _spellings(*body[0])
    return None


def _group_body(op: Any, av: Any) -> Any:
    """The inner node sequence of a group, or None when the node is not a group."""
    if op is _C.SUBPATTERN:
        return av[-1]  # (group, add_flags, del_flags, pattern)
    if _ATOMIC is not None and op is _ATOMIC:
        return av  # the pattern itself
    return None


def _seq(items: Any) -> Query | None:
    """The condition every match of a sequence of parse nodes satisfies (None: no condition)."""
    parts: list[Query] = []
    runs: list[str] = []

    def close() -> None:
        if runs:
            q = _lit(runs)
            if q is not None:
                parts.append(q)
            runs.clear()

    for op, av in items:
        if op is _C.LITERAL:
            runs[:] = [r + chr(av).lower() for r in runs] or [chr(av).lower()]
            continue
        forks = _spellings(op, av)
        if forks and len(forks) * max(1, len(runs)) <= _MAX_RUNS:
            runs[:] = [r + f for r in (runs or [""]) for f in forks]
            continue
        close()
        if op in _ZERO_WIDTH:
            continue
        sub: Query | None = None
        body = _group_body(op, av)
        if body is not None:
            sub = _seq(body)
        elif op is _C.BRANCH:
            alts = [_seq(alt) for alt in av[1]]
            if all(a is not None for a in alts):
                flat: list[Query] = []
                for a in alts:
                    flat.extend(a.parts if a.op == "or" else (a,))  # type: ignore[union-attr]
                sub = Query("or", parts=tuple(dict.fromkeys(flat)))
        elif op in _REPEATS and av[0] >= 1:
            sub = _seq(av[2])
        if sub is not None:
            parts.append(sub)
    close()
    return _and(parts)


def query_for(pattern: str) -> Query | None:
    """The literal condition every match of `pattern` (case-insensitive) meets, or None."""
    try:
        tree = _sre_parse.parse(pattern, re.I)
    except re.error:
        return None
    return _seq(tree)


_MAX_TERMS = 64  # an AND of ORs is expanded into at most this many AND-terms


def _terms(query: Query) -> list[frozenset[str]]:
    """The condition as an OR of AND-terms of literals (larger ANDs keep their best part)."""
    if query.op == "lit":
        return [frozenset({query.lit})]
    if query.op == "or":
        return list(dict.fromkeys(t for p in query.parts for t in _terms(p)))
    expanded = [_terms(p) for p in query.parts]
    size = 1
    for e in expanded:
        size *= len(e)
    if size > _MAX_TERMS:  # keep the most selective part alone: weaker, still sound
        return min(expanded, key=lambda ts: sum(_term_chance(t) for t in ts))
    out: list[frozenset[str]] = [frozenset()]
    for e in expanded:
        out = [a | b for a in out for b in e]
    return list(dict.fromkeys(out))


def _term_chance(term: frozenset[str]) -> float:
    """Rough chance that a note contains every string of an AND-term."""
    out = 1.0
    for lit in term:
        out *= _chance(lit)
    return out


class LiteralIndex:
    """Which of many patterns may match a text, found with one Aho-Corasick pass over it.

    Each pattern's condition is an OR of AND-terms of literals; one automaton over every
    literal finds those present, and a pattern is a candidate when all literals of one of its
    terms are present. Patterns without a condition are always candidates.
    """

    def __init__(
        self, patterns: list[str], fallback: list[tuple[str, ...] | None] | None = None
    ) -> None:
        """Index `patterns` (case-insensitive); `fallback` gives literal sets where parsing finds none."""
        key = _index_key(patterns, fallback)
        built = _read_index(key)
        if built is None:
            self._build(patterns, fallback)
            _write_index(key, {name: getattr(self, name) for name in _INDEX_FIELDS})
        else:  # a cold command reads the index it built before (keyed by the patterns)
            for name in _INDEX_FIELDS:
                setattr(self, name, built[name])
        self._automaton = _automaton(self._literals)

    def _build(
        self, patterns: list[str], fallback: list[tuple[str, ...] | None] | None = None
    ) -> None:
        """Work out the literals, their admitted patterns and each pattern's support."""
        self._n = len(patterns)
        self._always: list[int] = []
        term_ids: dict[frozenset[str], int] = {}
        owners: list[set[int]] = []  # per term: the patterns it admits
        for i, terms in enumerate(pattern_terms(patterns)):
            if not terms and fallback is not None and fallback[i]:
                terms = [frozenset({s.lower()}) for s in fallback[i] or ()]
            if not terms:
                self._always.append(i)
            for term in terms:
                tid = term_ids.setdefault(term, len(term_ids))
                if tid == len(owners):
                    owners.append(set())
                owners[tid].add(i)
        single: dict[str, set[int]] = {}  # literal → patterns one literal admits
        multi: list[tuple[str, tuple[str, ...], tuple[int, ...]]] = []  # (anchor, others, owners)
        for term, tid in term_ids.items():
            if len(term) == 1:
                (lit,) = term
                single.setdefault(lit, set()).update(owners[tid])
                continue
            # the rarest literal anchors the term: common words present in every note are then
            # checked only when the rare one is there
            anchor = min(sorted(term), key=_chance)
            multi.append((anchor, tuple(sorted(term - {anchor})), tuple(owners[tid])))
        literals = sorted(single.keys() | {lit for a, others, _ in multi for lit in (a, *others)})
        number = {lit: n for n, lit in enumerate(literals)}
        anchored: list[list[tuple[tuple[int, ...], tuple[int, ...]]]] = [[] for _ in literals]
        # per pattern: (literal, the other literals its term needs) for each term; every match
        # of the pattern contains the literal of one term whose others the text holds
        support: list[list[tuple[int, frozenset[int]]]] = [[] for _ in range(self._n)]
        for lit, admits in single.items():
            for i in admits:
                support[i].append((number[lit], frozenset()))
        for anchor, others, admits in multi:
            anchored[number[anchor]].append((tuple(number[o] for o in others), admits))
            for i in admits:
                support[i].append((number[anchor], frozenset(number[o] for o in others)))
        self._support = [tuple(x) for x in support]
        self._lengths = [len(lit) for lit in literals]
        self._literals = literals
        # by literal number: the patterns the literal admits alone; the per-note answer is then
        # one C-level set union over the literals present, not a Python loop per literal
        self._single = [frozenset(single.get(lit, ())) for lit in literals]
        # literal number → (the other literals of a term, the patterns it admits), only for
        # literals that anchor some term (most anchor none)
        self._anchored = {
            n: tuple((frozenset(others), frozenset(admits)) for others, admits in x)
            for n, x in enumerate(anchored)
            if x
        }
        self._anchors = frozenset(self._anchored)

    def __len__(self) -> int:
        """How many patterns are indexed."""
        return self._n

    def candidates(self, lower_text: str) -> set[int]:
        """Indexes of the patterns that may match this lower-cased text."""
        if self._automaton is not None:
            present = {n for _, n in self._automaton.iter(lower_text)}
        else:  # pyahocorasick missing: the same answer, one substring test per literal
            present = {n for n, lit in enumerate(self._literals) if lit in lower_text}
        return self._admitted(present)

    def hits(self, lower_text: str) -> LiteralHits:
        """The candidates of this lower-cased text, and where in it each pattern may match."""
        starts: dict[int, list[int]] = {}  # literal number → its start offsets, ascending
        if self._automaton is not None:
            lengths = self._lengths
            for end, n in self._automaton.iter(lower_text):
                starts.setdefault(n, []).append(end - lengths[n] + 1)
        else:  # pyahocorasick missing: the same occurrences, one scan per literal
            for n, lit in enumerate(self._literals):
                found = [m.start() for m in re.finditer(f"(?={re.escape(lit)})", lower_text)]
                if found:
                    starts[n] = found
        return LiteralHits(self, self._admitted(set(starts)), starts)

    def _admitted(self, present: set[int]) -> set[int]:
        """The patterns the present literals (by number) admit."""
        out = set(self._always)
        single = self._single
        out.update(*[single[n] for n in present])
        anchored = self._anchored
        for n in present & self._anchors:
            for others, admits in anchored[n]:
                if others <= present:
                    out.update(admits)
        return out


_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")  # a letter or digit outside ASCII


def folds_like_ascii(text: str) -> bool:
    """Whether case-insensitive matching treats `text` as it treats an ASCII text.

    True when every character outside ASCII is a symbol or punctuation ("°", "↓", "→"), not a
    letter or digit. Lower-casing such a text maps each character to one character, so offsets
    into the lower-cased text are offsets into it, and no character in it folds to an ASCII
    letter or is a digit other than 0-9: the literal and first-character tests built for ASCII
    text give the same answers.
    """
    return text.isascii() or _NON_ASCII_WORD.search(text) is None


class LiteralHits:
    """One literal pass over a text: the candidate patterns, and where each may match.

    A match of a pattern contains the first literal of one of its terms (and the text holds the
    term's other literals), so a pattern can match inside a stretch of the text only where such
    a literal starts inside it. Answers are sound for the lower-cased text the pass read; a
    caller asks about the original text only when lower-casing kept every offset (an ASCII text).
    """

    def __init__(
        self, index: LiteralIndex, candidates: set[int], starts: dict[int, list[int]]
    ) -> None:
        """Hold the pass over one text (built by `LiteralIndex.hits`)."""
        self.candidates = candidates
        self._index = index
        self._starts = starts
        self._where: dict[int, list[int] | None] = {}  # pattern → its literal starts (lazy)

    def starts(self, pattern: int) -> list[int] | None:
        """Ascending offsets where a literal of the pattern starts (None: anywhere)."""
        if pattern in self._where:
            return self._where[pattern]
        where: list[int] | None
        if not self._index._support[pattern]:
            where = None if pattern in self.candidates else []  # no condition: always a candidate
        else:
            present = self._starts.keys()
            found: list[int] = []
            for lit, others in self._index._support[pattern]:
                if lit in self._starts and others <= present:
                    found += self._starts[lit]
            where = sorted(set(found))
        self._where[pattern] = where
        return where

    def may_match_within(self, pattern: int, start: int, end: int) -> bool:
        """Whether the pattern can match inside text[start:end] (False only when it cannot)."""
        where = self.starts(pattern)
        if where is None:
            return True
        k = bisect.bisect_left(where, start)
        return k < len(where) and where[k] < end


_MAX_FIRST = 40  # more possible first characters than this: not worth a test


def first_chars(pattern: str, ascii_text: bool = False) -> frozenset[str] | None:
    """The characters (as written, before case folding) a non-empty match must start with.

    None when the pattern can match the empty string or start with a character from a class
    (`\\w`, `.`, a negated set) or more than a few characters. With `ascii_text`, the answer
    holds for ASCII texts only, and a digit class (`\\d`) stands for 0-9.
    """
    try:
        tree = _sre_parse.parse(pattern, re.I)
    except re.error:
        return None
    chars, can_be_empty = _first(tree, ascii_text)
    if chars is None or can_be_empty or len(chars) > _MAX_FIRST:
        return None
    return frozenset(chars)


def with_first_char_test(regex: re.Pattern[str]) -> re.Pattern[str]:
    """`regex` with a lookahead for the characters its matches start with (same matches).

    For texts that fold like ASCII (`folds_like_ascii`) only: one character test rejects most
    positions before the pattern is tried. The lookahead consumes nothing and adds no group.
    The pattern itself when no such set exists.
    """
    first = first_chars(regex.pattern, ascii_text=True)
    if first is None:
        return regex
    chars = "".join(re.escape(c) for c in sorted(first))
    return re.compile(f"(?=[{chars}])(?:{regex.pattern})", regex.flags)


def _first(items: Any, ascii_text: bool = False) -> tuple[set[str] | None, bool]:
    """(characters a match of the node sequence may start with, whether it may be empty)."""
    chars: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # lookarounds and anchors consume nothing
        found, empty = _first_of(op, av, ascii_text)
        if found is None:
            return None, False
        chars |= found
        if not empty:
            return chars, False
    return chars, True


_DIGITS = frozenset("0123456789")


def _first_of(op: Any, av: Any, ascii_text: bool = False) -> tuple[set[str] | None, bool]:
    if op is _C.LITERAL:
        return {chr(av)}, False
    if op is _C.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _C.LITERAL:
                chars.add(chr(value))
            elif kind is _C.RANGE and value[1] - value[0] < _MAX_FIRST:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            elif kind is _C.CATEGORY and value is _C.CATEGORY_DIGIT and ascii_text:
                chars |= _DIGITS  # in an ASCII text, \d is 0-9
            else:
                return None, False  # negated sets, other categories, wide ranges
        return chars, False
    if op is _C.BRANCH:
        out: set[str] = set()
        any_empty = False
        for alt in av[1]:
            found, empty = _first(alt, ascii_text)
            if found is None:
                return None, False
            out |= found
            any_empty = any_empty or empty
        return out, any_empty
    if op in _REPEATS:
        found, empty = _first(av[2], ascii_text)
        return found, empty or av[0] == 0
    body = _group_body(op, av)
    if body is not None:
        return _first(body, ascii_text)
    return None, False  # any character, classes, back references


_CACHE_FORMAT = "prefilter-3"


def pattern_terms(patterns: list[str]) -> list[list[frozenset[str]]]:
    """Each pattern's condition as AND-terms ([] = none), read from the user cache when current.

    Parsing a few hundred vocabulary patterns takes tens of milliseconds, which a cold command
    would pay on its first note; the cache is keyed by the patterns themselves, so it is never
    stale.
    """
    key = hashlib.sha256("\x00".join([_CACHE_FORMAT, *patterns]).encode()).hexdigest()[:20]
    path = _cache_path(key)
    if path is not None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, list) and len(raw) == len(patterns):
                return [[frozenset(t) for t in terms] for terms in raw]
        except (OSError, ValueError, TypeError):
            pass  # absent or torn: rebuild
    out = []
    for pattern in patterns:
        query = query_for(pattern)
        out.append(_terms(query) if query is not None else [])
    if path is not None:
        _write_cache(path, [[sorted(t) for t in terms] for terms in out])
    return out


# What a built index keeps (plain tuples, frozensets and dicts: `marshal` writes and reads them
# without running code, and ten times faster than rebuilding them on a cold start).
_INDEX_FIELDS = (
    "_n", "_always", "_support", "_lengths", "_literals", "_single", "_anchored", "_anchors",
)  # fmt: skip
_INDEX_FORMAT = "literal-index-1"


def _index_key(patterns: list[str], fallback: list[tuple[str, ...] | None] | None) -> str:
    """The cache key of an index: its patterns and fallbacks (never stale)."""
    extra = [repr(fallback)] if fallback is not None else []
    parts = [_INDEX_FORMAT, _CACHE_FORMAT, *patterns, *extra]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


def _index_path(key: str) -> Path | None:
    from spineguide.knowledge.loader import cache_dir

    folder = cache_dir()
    return None if folder is None else folder / f"prefilter-index-{key}.marshal"


def _read_index(key: str) -> dict[str, Any] | None:
    """A built index from the user cache, or None (absent, torn or another format)."""
    path = _index_path(key)
    if path is None:
        return None
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or any(name not in data for name in _INDEX_FIELDS):
        return None
    return data


def _write_index(key: str, data: dict[str, Any]) -> None:
    """Keep a built index in the user cache (atomic; silently skipped when not writable)."""
    from spineguide.knowledge.loader import write_cache_file

    path = _index_path(key)
    if path is not None:
        write_cache_file(path, marshal.dumps(data), "prefilter index")


def _cache_path(key: str) -> Path | None:
    from spineguide.knowledge.loader import cache_dir

    folder = cache_dir()
    return None if folder is None else folder / f"prefilter-{key}.json"


def _write_cache(path: Path, data: Any) -> None:
    from spineguide.knowledge.loader import write_cache_file

    write_cache_file(path, json.dumps(data).encode("utf-8"), "prefilter terms")


def _automaton(literals: list[str]) -> Any:
    """An Aho-Corasick automaton giving each literal's number (None without pyahocorasick)."""
    try:
        import ahocorasick
    except ImportError:  # pragma: no cover - it is a core dependency
        return None
    auto = ahocorasick.Automaton()
    for n, lit in enumerate(literals):
        auto.add_word(lit, n)
    if literals:
        auto.make_automaton()
        return auto
    return None


class LiteralFinder:
    """Where any of a set of strings starts in a text (one Aho-Corasick pass)."""

    def __init__(self, literals: list[str]) -> None:
        """Find these lower-case strings."""
        self._literals = sorted({lit for lit in literals if lit})
        self._automaton = _automaton(self._literals)

    def starts(self, lower_text: str) -> list[int]:
        """Sorted start offsets of every occurrence of any of the strings."""
        if self._automaton is None:
            found = {  # a lookahead finds overlapping occurrences too
                m.start()
                for lit in self._literals
                for m in re.finditer(f"(?={re.escape(lit)})", lower_text)
            }
            return sorted(found)
        lits = self._literals
        return sorted({end - len(lits[n]) + 1 for end, n in self._automaton.iter(lower_text)})
