"""Misspelling tolerance for vocabulary words ("sciatia", "numbess", "anasthesia").

A word the vocabulary does not know is compared (rapidfuzz, Damerau-Levenshtein) with a curated
list of clinical target words (``vocabulary/clinical.yaml`` key ``spelling``) and replaced by the
nearest one when it is within one edit (words of 5-6 letters) or two edits (7 letters or more) and
starts with the same letter. Decisions are cached per word, so the cost is bounded by the number
of distinct unknown words, and the reader maps every corrected offset back to the original text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spineguide.knowledge.loader import read_yaml

VOCAB_PATH = Path(__file__).parent / "vocabulary" / "clinical.yaml"
_WORD = re.compile(r"[A-Za-z]{5,}")
_MIN_LEN = 5
_LONG = 7  # from this length two edits are tolerated


@dataclass(frozen=True)
class _Lexicon:
    targets: tuple[str, ...]
    by_initial: dict[str, tuple[str, ...]]
    known: frozenset[str]


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    raw = read_yaml(VOCAB_PATH)
    spelling = raw.get("spelling") or {}
    targets = tuple(sorted({t.lower() for t in spelling.get("targets", [])}))
    # every plain word the vocabulary's own patterns spell out is known (never "corrected")
    known = {w.lower() for w in re.findall(r"[A-Za-z]{5,}", VOCAB_PATH.read_text(encoding="utf-8"))}
    known |= {w.lower() for w in spelling.get("known", [])}
    known |= set(targets)
    by_initial: dict[str, list[str]] = {}
    for t in targets:
        by_initial.setdefault(t[0], []).append(t)
    return _Lexicon(targets, {k: tuple(v) for k, v in by_initial.items()}, frozenset(known))


@lru_cache(maxsize=8192)
def nearest_target(word: str) -> str | None:
    """The clinical target word `word` is a slip of, or None (lower-case input)."""
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    lex = _lexicon()
    if len(word) < _MIN_LEN or word in lex.known:
        return None
    choices = lex.by_initial.get(word[0])
    if not choices:
        return None
    limit = 2 if len(word) >= _LONG else 1
    best = process.extractOne(word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=limit)
    return best[0] if best else None


def correct(text: str) -> tuple[str, Callable[[int], int]]:
    """Text with vocabulary misspellings corrected, and a map from its offsets to the input's."""
    pieces: list[str] = []
    corr_starts: list[int] = []
    segments: list[tuple[int, int, int, int]] = []  # corrected start/end, original start/end
    last = 0
    shift = 0
    for m in _WORD.finditer(text):
        fixed = nearest_target(m.group(0).lower())
        if fixed is None:
            continue
        if m.group(0)[0].isupper():
            fixed = fixed[0].upper() + fixed[1:]
        pieces.append(text[last : m.start()])
        c_start = m.start() + shift
        pieces.append(fixed)
        shift += len(fixed) - (m.end() - m.start())
        segments.append((c_start, c_start + len(fixed), m.start(), m.end()))
        corr_starts.append(c_start)
        last = m.end()
    if not segments:
        return text, _identity
    pieces.append(text[last:])

    def to_original(pos: int) -> int:
        i = bisect.bisect_right(corr_starts, pos) - 1
        if i < 0:
            return pos
        c_start, c_end, o_start, o_end = segments[i]
        if pos < c_end:
            return o_start if pos == c_start else min(o_end, o_start + (pos - c_start))
        return o_end + (pos - c_end)

    return "".join(pieces), to_original


def _identity(pos: int) -> int:
    return pos
