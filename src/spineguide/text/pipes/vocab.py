"""Vocabulary pipe: compile the imaging vocabulary and tag the words of a sentence with roles."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from spineguide.knowledge.loader import read_yaml
from spineguide.text.context import ContextEngine, longest_phrase_at
from spineguide.text.levels import LevelToken

_ROOT_WORD = re.compile(r"[ls][1-5]")  # a lumbar or sacral root named by its letter and number
_COMPARED = frozenset({">", "<", ">>", "=", "than", "and", "&", "/", "+"})  # "L > R", "L and R"

VOCABULARY_PATH = Path(__file__).resolve().parents[1] / "vocabulary" / "imaging.yaml"

_UNSEEN = object()
SPELL_MIN = 6  # only unknown words of at least this length are checked
SPELL_TARGET_MIN = 5
SPELL_LONG = 10  # from this length two edits are tolerated, below it one
_SOUND_MAX = 65536  # bound on the per-word "needs no correction" set


@lru_cache(maxsize=16384)
def _nearest(vocab: Vocab, word: str) -> str | None:
    """The vocabulary word `word` is a slip of (same first letter, 1-2 edits), else None."""
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    choices = vocab.spell_targets.get(word[0])
    if not choices:
        return None
    limit = 2 if len(word) >= SPELL_LONG else 1
    best = process.extractOne(word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=limit)
    if best is None or word.startswith(best[0]):
        return None  # "larger" is "large" inflected, not misspelt
    return best[0]


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "one": 1, "two": 2, "three": 3, "four": 4}


class Vocab:
    """The compiled vocabulary: phrase index, finding properties and context rules."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.findings: dict[str, dict[str, Any]] = {}
        index: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}

        def add(phrase: str, role: str, value: Any) -> None:
            if not isinstance(phrase, str):
                raise ValueError(f"vocabulary phrase {phrase!r} is not a string (quote it in YAML)")
            words = tuple(phrase.replace("-", " ").replace("/", " ").lower().split())
            if not words:
                return
            roles = index.setdefault(words[0], {}).setdefault(words, {})
            if role in ("anchor", "head", "softhead"):
                roles.setdefault(role, set()).add(value)
            else:
                roles.setdefault(role, value)

        for fid, spec in data["findings"].items():
            props = {
                "kind": spec.get("kind", "disc"),
                "graded": bool(spec.get("graded", True)),
                "default_side": spec.get("default_side", "central"),
                "negated_side": spec.get("negated_side", "central"),
                "inherit": bool(spec.get("inherit", True)),
                "inherit_positive_only": bool(spec.get("inherit_positive_only", False)),
                "skip_if": frozenset(spec.get("skip_if_sentence_has", ())),
                "skip_if_near": frozenset(spec.get("skip_if_near", ())),
                "fixed_side": spec.get("fixed_side"),
                "also": tuple(spec.get("also") or ()),
                "also_at_level_only": bool(spec.get("also_at_level_only", False)),
                "range_max_levels": int(spec.get("range_max_levels") or 0),
            }
            self.findings[fid] = props
            for term in spec.get("terms") or ():
                add(term, "find", fid)
            for term in spec.get("weak_terms") or ():
                add(term, "weakfind", fid)
            props["weak_need"] = frozenset(spec.get("weak_terms_need") or ())
            elsewhere = spec.get("elsewhere_if_sentence_has")
            props["elsewhere"] = (
                (
                    frozenset(elsewhere["words"]),
                    frozenset(elsewhere.get("unless") or ()),
                    str(elsewhere["finding"]),
                )
                if elsewhere
                else None
            )
        for name, phrases in data["anchors"].items():
            for p in phrases:
                add(p, "anchor", name)
        soft = frozenset(data.get("soft_heads") or ())
        for name, phrases in data["heads"].items():
            for p in phrases:
                # a soft head opens its compounds but, like a filler, never ends another phrase
                add(p, "softhead" if name in soft else "head", name)
        # (anchor, head set) -> (finding, polarity, default severity)
        self.compounds: dict[tuple[str, str], tuple[str, str, str | None]] = {}
        for c in data["compounds"]:
            for head in c["heads"]:
                self.compounds[(c["anchor"], head)] = (
                    c["finding"],
                    c.get("polarity", "positive"),
                    c.get("default_severity"),
                )
        self.exclusions: dict[str, frozenset[str]] = {
            e["anchor_phrase"]: frozenset(e["head_phrases"]) for e in data["anchor_head_exclusions"]
        }
        sev = data["severity"]
        for grade in ("mild", "moderate", "severe"):
            for p in sev[grade]:
                add(p, "sev", grade)
        for p in sev["quantity_severe"]:
            add(p, "qty", "severe")
        for p in sev["quantity_moderate"]:
            add(p, "qty", "moderate")
        for side, phrases in data["sides"].items():
            for p in phrases:
                add(p, "side", side)
        for side, phrases in (data.get("predominant_sides") or {}).items():
            for p in phrases:
                add(p, "side", side + "+")  # "left+": left predominates
        for zone, phrases in data["zones"].items():
            for p in phrases:
                add(p, "zone", zone)
        for pos, phrases in data["root_position"].items():
            for p in phrases:
                add(p, "rootpos", pos)
        for mig, phrases in data["migration"].items():
            for p in phrases:
                add(p, "mig", mig)
        for p in data["migration_verbs"]:
            add(p, "migverb", True)
        for d, phrases in data["listhesis_direction"].items():
            for p in phrases:
                add(p, "ldir", d)
        for p in data["filler"]:
            add(p, "filler", True)
        for p in data["copulas"]:
            add(p, "copula", True)
        for p in data.get("landmarks") or ():
            add(p, "landmark", True)
        for p in data["away_words"]:
            add(p, "away", True)
        for group in data.get("uninterpreted") or ():
            for p in group["phrases"]:
                add(p, "unint", str(group["reason"]))
        lw = data["level_words"]
        for p in lw["all_levels"]:
            add(p, "alllv", True)
        for p in lw["multilevel"]:
            add(p, "multilv", True)
        for p in lw["lumbosacral"]:
            add(p, "fixlv", "L5-S1")
        for p in lw["thoracolumbar"]:
            add(p, "fixlv", "T12-L1")
        self.index: dict[str, list[tuple[tuple[str, ...], dict[str, Any]]]] = {
            first: sorted(((w, r) for w, r in entries.items()), key=lambda e: -len(e[0]))
            for first, entries in index.items()
        }
        # freeze the anchor/head sets
        for entries in self.index.values():
            for _w, r in entries:
                for key in ("anchor", "head", "softhead"):
                    if key in r:
                        r[key] = frozenset(r[key])
        self.joined = {p: " ".join(p) for entries in self.index.values() for p, _r in entries}
        # the same phrases for `tag`: one-word phrases by word, longer ones by their first two
        # words (longest first, in index order), so a word tries only the phrases it can open
        self.single: dict[str, dict[str, Any]] = {}
        self.multi: dict[tuple[str, str], tuple[tuple[int, tuple[str, ...], Any, str], ...]] = {}
        multi: dict[tuple[str, str], list[tuple[int, tuple[str, ...], Any, str]]] = {}
        for first, entries in self.index.items():
            for phrase, roles in entries:
                if len(phrase) == 1:
                    self.single.setdefault(first, roles)
                else:
                    multi.setdefault((first, phrase[1]), []).append(
                        (len(phrase), phrase, roles, self.joined[phrase])
                    )
        self.multi = {key: tuple(v) for key, v in multi.items()}
        by_second: dict[str, dict[str, tuple[tuple[int, tuple[str, ...], Any, str], ...]]] = {}
        for (first, second), entries in self.multi.items():
            by_second.setdefault(first, {})[second] = entries
        # every word that opens a phrase -> (its one-word roles or None, the longer phrases it
        # opens by their second word, or None)
        self.first_words: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {
            first: (self.single.get(first), by_second.get(first)) for first in self.index
        }
        self.anchors_for_heads: dict[frozenset[str], frozenset[str]] = {}
        self.context = ContextEngine.for_language("en")  # the one shared context engine
        self.raw = data
        # spelling tolerance: every word the vocabulary spells is known; targets by first letter
        phrase_words = {w for entries in index.values() for phrase in entries for w in phrase}
        spelling = data.get("spelling") or {}
        self.known_words = frozenset(phrase_words) | frozenset(spelling.get("known") or ())
        by_initial: dict[str, list[str]] = {}
        for w in sorted(phrase_words):
            if len(w) >= SPELL_TARGET_MIN and w.isalpha():
                by_initial.setdefault(w[0], []).append(w)
        self.spell_targets = {k: tuple(v) for k, v in by_initial.items()}
        self._spell_cache: dict[str, str | None] = {}
        # words seen that need no correction (short, known or with no near target): a bounded
        # per-word set, so a sentence of such words is passed through in one set operation
        self._spelt_right: set[str] = set()
        letters = data.get("side_letters") or {}
        self._side_letters: dict[str, str] = dict(letters.get("letters") or {})
        self._side_before = frozenset(letters.get("before") or ())
        self._side_root_after = frozenset(letters.get("root_after") or ())
        self._side_root_before = frozenset(letters.get("root_before") or ())

    def side_letters(self, words: list[str]) -> list[str]:
        """Words with a clinician's side letter ("L paracentral", "the R S1 root") spelt out."""
        letters = self._side_letters
        if letters.keys().isdisjoint(words):
            return words
        out = words
        n = len(words)
        for i, w in enumerate(words):
            side = letters.get(w)
            if side is None or i + 1 >= n or (i > 0 and words[i - 1] in _COMPARED):
                continue  # "L > R foraminal narrowing" compares the sides: both are narrowed
            nxt = words[i + 1]
            names_root = _ROOT_WORD.fullmatch(nxt) is not None and (
                (i + 2 < n and words[i + 2] in self._side_root_after)
                or (i > 0 and words[i - 1] in self._side_root_before)
            )
            if nxt not in self._side_before and not names_root:
                continue
            if out is words:
                out = list(words)
            out[i] = side
        return out

    def correct_words(self, words: list[str]) -> tuple[list[str], set[int]]:
        """Words with vocabulary misspellings corrected, and the indices that were corrected."""
        fixed: set[int] = set()
        sound = self._spelt_right
        if sound.issuperset(words):
            return words, fixed  # every word already known to need no correction
        out = words
        cache = self._spell_cache
        for i, w in enumerate(words):
            if len(w) < SPELL_MIN:
                if len(sound) < _SOUND_MAX:
                    sound.add(w)
                continue
            target = cache.get(w, _UNSEEN)
            if target is _UNSEEN:
                known = w in self.known_words or not w.isalpha()
                target = None if known else _nearest(self, w)
                if len(cache) < 65536:
                    cache[w] = target
                if target is None and len(sound) < _SOUND_MAX:
                    sound.add(w)
            if target is not None:
                if out is words:
                    out = list(words)
                out[i] = target
                fixed.add(i)
        return out, fixed


@lru_cache(maxsize=1)
def load_vocabulary(path: str | None = None) -> Vocab:
    """Load and compile the imaging vocabulary once per process."""
    p = Path(path) if path else VOCABULARY_PATH
    return Vocab(read_yaml(p))


_LEVEL_ROLES: dict[str, Any] = {"lvl": True}  # shared, never mutated


class Item:
    __slots__ = ("i0", "i1", "roles", "word")

    def __init__(self, i0: int, i1: int, roles: dict[str, Any] | None, word: str) -> None:
        self.i0 = i0
        self.i1 = i1
        self.roles = roles
        self.word = word


def tag(vocab: Vocab, words: list[str], level_tokens: dict[int, LevelToken]) -> list[Item]:
    """Tag the words of a sentence: the longest vocabulary phrase at each position, level
    tokens, numbers (digits, or a roman numeral after "type"/"grade"), else a plain word."""
    items: list[Item] = []
    append = items.append
    first_words = vocab.first_words
    n = len(words)
    i = 0
    while i < n:
        w = words[i]
        if level_tokens and i in level_tokens:
            append(Item(i, i + 1, _LEVEL_ROLES, w))
            i += 1
            continue
        info = first_words.get(w)
        if info is None:  # not a vocabulary word
            if w[0].isdigit():
                append(Item(i, i + 1, {"num": float(w)}, w))
            elif w in ROMAN and i > 0 and words[i - 1] in ("type", "grade"):
                append(Item(i, i + 1, {"num": float(ROMAN[w])}, w))
            else:
                append(Item(i, i + 1, None, w))
            i += 1
            continue
        roles, longer = info
        found = longer.get(words[i + 1]) if longer is not None and i + 1 < n else None
        if found:
            hit = longest_phrase_at(found, words, i)
            if hit is not None:
                k, _phrase, longer_roles, joined = hit
                append(Item(i, i + k, longer_roles, joined))
                i += k
                continue
        append(Item(i, i + 1, roles, w))  # roles None: it opens only longer phrases
        i += 1
    return items
