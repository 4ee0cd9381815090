"""Spinal level grammar: vertebrae (L1), disc levels (L4-L5), ranges, lists and side words."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

# Vertebrae a lumbar report names. T1-T9 are left out on purpose: "T1"/"T2" in MRI reports are
# almost always sequence names ("T2 hyperintense"), not thoracic vertebrae.
VERTEBRAE: tuple[str, ...] = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2")
_INDEX: dict[str, int] = {name: i for i, name in enumerate(VERTEBRAE)}
CONTRACT_LEVELS: tuple[str, ...] = ("T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
LUMBAR_DISC_LEVELS: tuple[str, ...] = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")

# One level token: "l4", "l4-5", "l4-l5", "l4/5", "l5/s1", "l4–l5", "t12-l1", and the way real
# reports also write them: "l45" (no separator), "l5s1", "l5-s 1" (stray space), "l5/sl" (letter l
# typed for the digit 1). Input is lower-cased. No nested quantifiers: every part is bounded, so
# matching is linear.
LEVEL_TOKEN_PATTERN = (
    r"[tls]\d{1,2}(?:[ \t]?[-/–—][ \t]?(?:[tls][ \t]?)?\d{1,2}|[ \t]?[-/–—][ \t]?sl|-?s1)?"
    r"(?![a-z0-9])"
)
_LEVEL_TOKEN_RE = re.compile(LEVEL_TOKEN_PATTERN)
_PART_RE = re.compile(r"([tls])(\d{1,2})(?:[-/–—]?([tls])?(\d{1,2}))?")

ON_WORDS = frozenset({"on", "over", "upon", "relative"})  # "L4 on L5", "L4 relative to L5"
RANGE_WORDS = frozenset({"through", "thru", "to", "till", "until", "up", "down", "-", "–", "—"})
LIST_WORDS = frozenset({"and", "or", ",", "&", "as", "well", "at", "the"})
ROOT_NOUNS = frozenset({"root", "roots", "nerve", "sleeve", "sleeves"})
ROOT_POSITION_WORDS = frozenset({"traversing", "descending", "exiting", "existing", "transiting"})
_SIDE_WORDS = frozenset({"left", "right", "bilateral"})
BODY_NOUNS = frozenset(
    {
        "vertebral",
        "vertebra",
        "vertebrae",
        "body",
        "bodies",
        "endplate",
        "endplates",
        "pedicle",
        "pedicles",
        "spinous",
        "lamina",
        "laminae",
        "pars",
        "transverse",
        "posterior",
        "superior",
        "inferior",
    }
)


def vertebra(letter: str, number: int) -> str | None:
    """Return the canonical vertebra name ("L4") or None when it is not one we track."""
    name = f"{letter.upper()}{number}"
    return name if name in _INDEX else None


def disc_between(upper: str, lower: str) -> str | None:
    """Return the disc level between two adjacent vertebrae ("L4", "L5" -> "L4-L5")."""
    i, j = _INDEX.get(upper), _INDEX.get(lower)
    if i is None or j is None or j != i + 1:
        return None
    return f"{upper}-{lower}"


def disc_below(body: str) -> str | None:
    """Return the disc level below a vertebra ("L5" -> "L5-S1")."""
    i = _INDEX.get(body)
    if i is None or i + 1 >= len(VERTEBRAE):
        return None
    return f"{body}-{VERTEBRAE[i + 1]}"


def bodies_between(first: str, last: str) -> list[str]:
    """Return the vertebrae from first to last inclusive (in either order)."""
    i, j = _INDEX[first], _INDEX[last]
    if i > j:
        i, j = j, i
    return list(VERTEBRAE[i : j + 1])


def discs_for_bodies(bodies: Sequence[str]) -> list[str]:
    """Return the disc levels between consecutive vertebrae of a run."""
    out = []
    for a, b in itertools.pairwise(bodies):
        disc = disc_between(a, b)
        if disc:
            out.append(disc)
    return out


class LevelToken(NamedTuple):
    """One level token as written: the vertebrae it spans and whether it names a disc.

    Immutable and compared by value; a named tuple so that the caches keyed by tokens hash in
    C."""

    bodies: tuple[str, ...]
    is_disc: bool


@lru_cache(maxsize=4096)
def parse_level_token(raw: str) -> LevelToken | None:
    """Parse "L4-5", "L4/L5", "L5-S1", "T12-L1", "L3-5" or "L1" into vertebrae (cached)."""
    norm = raw.strip().lower().replace(" ", "").replace("\t", "")
    if norm.endswith("sl"):
        norm = norm[:-1] + "1"  # "L5/Sl": the letter l typed for the digit 1
    m = _PART_RE.fullmatch(norm)
    if m is None:
        return None
    letter1, num1, letter2, num2 = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    first = vertebra(letter1, num1)
    if first is None:
        return _run_together(letter1, m.group(2)) if num2 is None else None
    if num2 is None:
        return LevelToken((first,), False)
    n2 = int(num2)
    if letter2:
        second = vertebra(letter2, n2)
    elif first == "T12" and n2 == 1:
        second = "L1"
    elif first == "L5" and n2 == 1:
        second = "S1"
    else:
        second = vertebra(letter1, n2)
    if second is None or _INDEX[second] <= _INDEX[first]:
        return LevelToken((first,), False)
    return LevelToken(tuple(bodies_between(first, second)), True)


def _run_together(letter: str, digits: str) -> LevelToken | None:
    """ "L45" / "L34" / "L51": a disc level typed without its separator."""
    if len(digits) != 2:
        return None
    a, b = int(digits[0]), int(digits[1])
    upper = vertebra(letter, a)
    lower = vertebra(letter, b) if b == a + 1 else ("S1" if (letter, a, b) == ("l", 5, 1) else None)
    if upper is None or lower is None or disc_between(upper, lower) is None:
        return None
    return LevelToken((upper, lower), True)


@dataclass(slots=True)
class LevelGroup:
    """A run of level tokens read together ("L2-L3 through L4-L5", "L4 on L5", "L3-4 and L4-5")."""

    start: int  # index of the first token of the run
    end: int  # index after the last token of the run
    discs: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    role: str = "level"  # level | body | root | all | multi

    def levels_for(self, kind: str) -> list[str | None]:
        """Return the levels a finding of this kind (disc, body, listhesis) takes from the run."""
        if self.role == "multi":
            return [None]
        if kind == "body":
            if self.bodies and (self.role == "body" or not self.discs or len(self.bodies) > 2):
                return list(self.bodies)
            return list(self.discs) or list(self.bodies)
        if self.discs:
            return list(self.discs)
        if len(self.bodies) > 1:
            return list(discs_for_bodies(self.bodies))
        if kind == "listhesis":
            below = [disc_below(b) for b in self.bodies]
            return [d for d in below if d] or list(self.bodies)
        return list(self.bodies)


_JOIN_WORDS = RANGE_WORDS | LIST_WORDS | ON_WORDS | {"from"}


def group_level_tokens(
    words: Sequence[str], level_tokens: dict[int, LevelToken]
) -> list[LevelGroup]:
    """Group level tokens (by position in `words`) into runs joined by list and range words."""
    groups: list[LevelGroup] = []
    positions = sorted(level_tokens)
    last = -1  # runs take the level tokens in order: those up to here are in a run already
    n = len(words)
    for pos in positions:
        if pos <= last:
            continue
        run = [pos]
        joins: list[str] = []
        cur = pos
        while True:
            j = cur + 1
            join_words: list[str] = []
            while j < n and j not in level_tokens and len(join_words) < 3:
                w = words[j]
                if w in _JOIN_WORDS:
                    join_words.append(w)
                    j += 1
                    continue
                break
            if j < n and j in level_tokens:
                run.append(j)
                joins.append(_join_kind(join_words))
                cur = j
                continue
            break
        last = run[-1]
        if len(run) == 1:  # the common single token
            discs, bodies = _run_levels((level_tokens[pos],), ())
        else:
            discs, bodies = _run_levels(tuple([level_tokens[i] for i in run]), tuple(joins))
        group = LevelGroup(run[0], run[-1] + 1, list(discs), list(bodies))
        group.role = _role(words, group, level_tokens, run)
        groups.append(group)
    return groups


@lru_cache(maxsize=4096)
def _run_levels(
    tokens: tuple[LevelToken, ...], joins: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(discs, bodies) of a run of level tokens and the joins between them (cached)."""
    group = _build_group(list(range(len(tokens))), list(joins), dict(enumerate(tokens)))
    return tuple(group.discs), tuple(group.bodies)


def _join_kind(join_words: Sequence[str]) -> str:
    if not join_words:
        return "adjacent"
    if not ON_WORDS.isdisjoint(join_words):
        return "on"
    if not RANGE_WORDS.isdisjoint(join_words):
        return "range"
    return "list"


def _build_group(run: list[int], joins: list[str], tokens: dict[int, LevelToken]) -> LevelGroup:
    discs: list[str] = []
    bodies: list[str] = []

    def add_token(tok: LevelToken) -> None:
        if tok.is_disc:
            for d in discs_for_bodies(tok.bodies):
                if d not in discs:
                    discs.append(d)
        for b in tok.bodies:
            if b not in bodies:
                bodies.append(b)

    first = tokens[run[0]]
    add_token(first)
    prev = first
    for idx, join in zip(run[1:], joins, strict=True):
        tok = tokens[idx]
        if join in ("range", "on", "adjacent") and not prev.is_disc and not tok.is_disc:
            span = bodies_between(prev.bodies[-1], tok.bodies[0])
            if join == "adjacent" and len(span) != 2:
                add_token(tok)
            else:
                for d in discs_for_bodies(span):
                    if d not in discs:
                        discs.append(d)
                for b in span:
                    if b not in bodies:
                        bodies.append(b)
        elif join == "range":
            span = bodies_between(prev.bodies[0], tok.bodies[-1])
            for d in discs_for_bodies(span):
                if d not in discs:
                    discs.append(d)
            for b in span:
                if b not in bodies:
                    bodies.append(b)
        else:
            add_token(tok)
        prev = tok
    return LevelGroup(0, 0, discs, bodies)


def _role(
    words: Sequence[str], group: LevelGroup, tokens: dict[int, LevelToken], run: list[int]
) -> str:
    for i in run:
        if tokens[i].is_disc:
            return "level"  # a disc level is neither a root nor a vertebral body
    after = words[group.end] if group.end < len(words) else ""
    before = words[group.start - 1] if group.start > 0 else ""
    if before in _SIDE_WORDS and group.start > 1:
        before = words[group.start - 2]  # "the exiting right L5"
    if before in ROOT_POSITION_WORDS or after in ROOT_NOUNS:
        return "root"
    if after in BODY_NOUNS:
        return "body"
    return "level"


_WORD_RE = re.compile(LEVEL_TOKEN_PATTERN + r"|[a-z]+|[,&]")
_ALL_LEVELS_RE = re.compile(
    r"\b(?:at (?:each|every|all|any)(?: of the)?(?: lumbar| visuali[sz]ed| imaged)? levels?)\b"
)
_MULTI_RE = re.compile(r"\b(?:multi-?level|multiple (?:lumbar )?levels|several levels)\b")


def find_levels(text: str) -> list[LevelGroup]:
    """Find level runs in free text; root mentions ("L5 nerve root") are returned with role root."""
    lower = text.lower()
    words: list[str] = []
    tokens: dict[int, LevelToken] = {}
    for m in _WORD_RE.finditer(lower):
        w = m.group()
        if w[0] in "tls" and len(w) > 1 and w[1].isdigit():
            tok = parse_level_token(w)
            if tok is not None:
                tokens[len(words)] = tok
        words.append(w)
    groups = group_level_tokens(words, tokens)
    if _ALL_LEVELS_RE.search(lower):
        groups.append(LevelGroup(-1, -1, list(LUMBAR_DISC_LEVELS), [], "all"))
    if _MULTI_RE.search(lower):
        groups.append(LevelGroup(-1, -1, [], [], "multi"))
    return groups


def normalise_level(raw: str) -> str | None:
    """Return the contract form of one level string ("l4/5" -> "L4-L5", "L1" -> "L1")."""
    tok = parse_level_token(raw)
    if tok is None:
        return None
    if tok.is_disc:
        discs = discs_for_bodies(tok.bodies)
        return discs[0] if len(discs) == 1 else None
    return tok.bodies[0]
