"""Negation, uncertainty, history and hypothetical scopes over a tokenised sentence (ConText-style).

Cues are data (see ``vocabulary/imaging.yaml`` key ``context``); a cue's scope is its clause:
it runs from the cue to the end of the sentence, a terminating cue, another cue or a clause
boundary. Coordinated lists are distributed ("No disc herniation, canal stenosis or foraminal
narrowing" negates all three) as long as each list item holds a target and no list breaker
("mild", "is", ...), so "No herniation, mild foraminal narrowing" negates only the herniation.

The module knows nothing about imaging: callers pass words and the word index of each target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

FORWARD = "forward"
BACKWARD = "backward"
TERMINATE = "terminate"
PSEUDO = "pseudo"
DIRECTIONS = frozenset({FORWARD, BACKWARD, TERMINATE, PSEUDO, "bidirectional"})

DEFAULT_BOUNDARIES = frozenset({".", ";", ":", "!", "?", "(", ")", "[", "]"})
DEFAULT_SEPARATORS = frozenset({",", "or", "and", "nor", "/", "&"})


@dataclass(frozen=True, slots=True)
class CueMatch:
    """A cue found in a sentence: word span [start, end), category and direction."""

    start: int
    end: int
    category: str
    direction: str
    phrase: str


class ContextRules:
    """Compiled cue phrases, indexed by first word for linear-time matching."""

    def __init__(
        self,
        rules: Iterable[Mapping[str, object]],
        *,
        list_breakers: Iterable[str] = (),
        max_scope: int = 40,
    ) -> None:
        """Build from rule dicts: {category, direction, phrases: [..]}."""
        index: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for rule in rules:
            category = str(rule["category"])
            direction = str(rule["direction"])
            if direction not in DIRECTIONS:
                raise ValueError(f"unknown cue direction {direction!r} for {category}")
            phrases = rule.get("phrases") or []
            for phrase in phrases:  # type: ignore[union-attr]
                if not isinstance(phrase, str):
                    raise ValueError(f"cue {phrase!r} is not a string (quote it in YAML)")
                words = tuple(str(phrase).lower().split())
                if words:
                    index.setdefault(words[0], []).append((words, category, direction))
        for entries in index.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._index = index
        self.list_breakers = frozenset(list_breakers)
        self.max_scope = max_scope

    @classmethod
    def from_yaml(cls, path: str | Path, key: str = "context") -> ContextRules:
        """Load cue rules (and `list_breakers`) from a vocabulary YAML file."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return cls(data[key], list_breakers=data.get("list_breakers", ()))

    def match(self, words: Sequence[str]) -> list[CueMatch]:
        """Return the cues in `words`, longest match first, non-overlapping, left to right."""
        out: list[CueMatch] = []
        index = self._index
        n = len(words)
        i = 0
        while i < n:
            entries = index.get(words[i])
            if entries:
                for phrase, category, direction in entries:
                    k = len(phrase)
                    if tuple(words[i : i + k]) == phrase:
                        out.append(CueMatch(i, i + k, category, direction, " ".join(phrase)))
                        i += k
                        break
                else:
                    i += 1
                continue
            i += 1
        return out

    def resolve(
        self,
        words: Sequence[str],
        targets: Sequence[int],
        cues: Sequence[CueMatch] | None = None,
        *,
        boundaries: frozenset[str] = DEFAULT_BOUNDARIES,
        separators: frozenset[str] = DEFAULT_SEPARATORS,
    ) -> list[dict[str, CueMatch]]:
        """For each target word index, the cue (by category) whose scope covers it."""
        if cues is None:
            cues = self.match(words)
        result: list[dict[str, CueMatch]] = [{} for _ in targets]
        if not cues or not targets:
            return result
        active = [c for c in cues if c.direction != PSEUDO]
        cue_starts = {c.start for c in active}
        cue_ends = {c.end for c in active}
        target_set = frozenset(targets)
        for cue in active:
            if cue.direction in (TERMINATE, PSEUDO):
                continue
            lo, hi = cue.start, cue.end
            if cue.direction in (FORWARD, "bidirectional"):
                hi = self._forward_end(
                    words, cue.end, cue_starts, target_set, boundaries, separators
                )
                self._mark(result, targets, cue, cue.end, hi)
            if cue.direction in (BACKWARD, "bidirectional"):
                lo = self._backward_start(
                    words, cue.start, cue_ends, target_set, boundaries, separators
                )
                self._mark(result, targets, cue, lo, cue.start)
        return result

    @staticmethod
    def _mark(
        result: list[dict[str, CueMatch]], targets: Sequence[int], cue: CueMatch, lo: int, hi: int
    ) -> None:
        for k, t in enumerate(targets):
            if lo <= t < hi and cue.category not in result[k]:
                result[k][cue.category] = cue

    def _segment_ok(self, words: Sequence[str], lo: int, hi: int, targets: frozenset[int]) -> bool:
        """A list item continues a scope when it holds a target and no list breaker before it."""
        for j in range(lo, hi):
            if j in targets:
                return True
            if words[j] in self.list_breakers:
                return False
        return False

    def _forward_end(
        self,
        words: Sequence[str],
        start: int,
        cue_starts: set[int],
        targets: frozenset[int],
        boundaries: frozenset[str],
        separators: frozenset[str],
    ) -> int:
        n = len(words)
        limit = min(n, start + self.max_scope)
        j = start
        while j < limit:
            w = words[j]
            if w in boundaries or (j in cue_starts and j != start):
                return j
            if w in separators:
                k = j + 1
                while k < n and words[k] not in separators and words[k] not in boundaries:
                    if k in cue_starts:
                        break
                    k += 1
                if not self._segment_ok(words, j + 1, k, targets):
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
    ) -> int:
        floor = max(0, end - self.max_scope)
        j = end - 1
        while j >= floor:
            w = words[j]
            if w in boundaries or (j + 1 in cue_ends and j + 1 != end):
                return j + 1
            if w in separators:
                k = j - 1
                while k >= 0 and words[k] not in separators and words[k] not in boundaries:
                    if k + 1 in cue_ends:
                        break
                    k -= 1
                if not self._segment_ok(words, k + 1, j, targets):
                    return j + 1
            j -= 1
        return floor
