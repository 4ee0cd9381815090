"""Medicines named in a clinical note: drug or brand names and class words → mentions and evidence.

Drug and brand names are found with the maintained ``drug-named-entity-recognition`` dictionary
(loaded lazily, once per process: importing it unpickles a dictionary of ~1 s) and resolved to
knowledge-base drugs where they exist (``kb.drug``). Classes come from the knowledge base, else from
``vocabulary/medications.yaml``; that file also holds the class words ("blood thinners"), the
evidence each class gives and the context cues ("stopped", "not on", "previously"), which are read
with the shared context engine (``text/context.py``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from spineguide.knowledge.loader import read_yaml
from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.context import ContextEngine, ContextRules, tokenise
from spineguide.text.drug_lexicon import drug_name_tokens, find_drug_names
from spineguide.text.pipeline import MedicationMention
from spineguide.text.prefilter import LiteralFinder, folds_like_ascii

VOCAB_PATH = Path(__file__).parent / "vocabulary" / "medications.yaml"
REPORTED_CLASSES = (
    "anticoagulant",
    "antiplatelet",
    "corticosteroid",
    "immunosuppressant",
    "opioid",
    "nsaid",
    "antidiabetic",
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|;")
_STEROID_WINDOW = 40  # characters after a steroid mention checked for "inhaler", "course", …


@dataclass(frozen=True)
class _MedVocab:
    class_evidence: dict[str, str | None]
    generic_classes: dict[str, tuple[str, ...]]
    class_words: re.Pattern[str]
    class_word_starts: LiteralFinder  # where a class word may start (one pass per note)
    class_of_word: dict[str, str]
    steroid_not_systemic: re.Pattern[str]
    not_medicines: frozenset[str]
    context: ContextEngine


@lru_cache(maxsize=1)
def _vocab() -> _MedVocab:
    raw: dict[str, Any] = read_yaml(VOCAB_PATH)
    class_of_word = {w.lower(): cls for cls, words in raw["class_words"].items() for w in words}
    words = sorted(class_of_word, key=len, reverse=True)
    return _MedVocab(
        class_evidence=dict(raw["class_evidence"]),
        generic_classes={k.lower(): tuple(v) for k, v in raw["generic_classes"].items()},
        class_words=re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.I
        ),
        class_of_word=class_of_word,
        class_word_starts=LiteralFinder(words),
        steroid_not_systemic=re.compile(
            r"(?<!\w)(?:"
            + "|".join(re.escape(w) for w in raw["steroid_not_systemic"])
            + r")(?!\w)",
            re.I,
        ),
        not_medicines=frozenset(w.lower() for w in raw["not_medicines"]),
        context=ContextEngine(
            ContextRules(raw["context"], list_breakers=raw.get("list_breakers", ()))
        ),
    )


def _classes_for(name: str, drug_id: str | None, vocab: _MedVocab) -> list[str]:
    from spineguide.knowledge.loader import get_kb

    out: list[str] = []
    if drug_id is not None:
        drug = get_kb().drugs.get(drug_id)
        if drug is not None:
            out = [c for c in drug.classes if c in REPORTED_CLASSES]
    for c in vocab.generic_classes.get(name.lower(), ()):
        if c not in out:
            out.append(c)
    return out


def _resolve(generic: str, written: str) -> str | None:
    from spineguide.knowledge.loader import get_kb

    kb = get_kb()
    for name in (written, generic):
        drug = kb.drug(name)
        if drug is not None:
            return drug.id
    return None


def find_medications(text: str) -> list[MedicationMention]:
    """Medicines and medicine classes named in `text`, with their context (negated, historical)."""
    if not text or not text.strip():
        return []
    vocab = _vocab()
    mentions: list[MedicationMention] = []
    start = 0
    lower = text.lower()
    # where a class word may start: a sentence holding none is not scanned for them (such a
    # text lower-cases character for character, so the offsets are the note's; else the class
    # pattern itself is asked, sentence by sentence)
    class_starts = vocab.class_word_starts.starts(lower) if folds_like_ascii(text) else None
    # where a dictionary name may be: the note's words are its sentences' words (a sentence end
    # never splits a word), so a sentence holding none of these has no name to read
    words = list(_WORD.finditer(text))
    named = drug_name_tokens([w.group().lower() for w in words])
    name_starts = [words[i].start() for i in named]
    if class_starts == [] and not name_starts:
        return []
    bounds = [m.end() for m in _SENTENCE.finditer(text)] + [len(text)]
    for end in bounds:
        if end <= start:
            continue
        has_class = (
            _any_within(class_starts, start, end)
            if class_starts is not None
            else vocab.class_words.search(text, start, end) is not None
        )
        if has_class or _any_within(name_starts, start, end):
            mentions += _sentence_mentions(text, start, end, vocab, class_starts)
        start = end
    return mentions


def _any_within(starts: list[int], start: int, end: int) -> bool:
    """Whether the sorted offsets hold one in [start, end)."""
    k = bisect.bisect_left(starts, start)
    return k < len(starts) and starts[k] < end


def _sentence_mentions(
    text: str,
    s_start: int,
    s_end: int,
    vocab: _MedVocab,
    class_starts: list[int] | None = None,
) -> list[MedicationMention]:
    words = list(_WORD.finditer(text, s_start, s_end))
    if not words:
        return []
    found: list[tuple[int, int, str | None, list[str]]] = []  # char start, end, drug id, classes
    taken: set[int] = set()
    if any(len(w.group(0)) >= 4 for w in words):
        for generic, a, b in find_drug_names([w.group(0) for w in words]):
            written = " ".join(w.group(0).lower() for w in words[a:b])
            if generic.lower() in vocab.not_medicines or written in vocab.not_medicines:
                continue
            if written in vocab.class_of_word:
                continue  # a class word ("anticoagulants") is handled below with its class
            drug_id = _resolve(generic, written)
            start, end = words[a].start(), words[b - 1].end()
            found.append((start, end, drug_id, _classes_for(generic, drug_id, vocab)))
            taken.update(range(start, end))
    k = bisect.bisect_left(class_starts, s_start) if class_starts is not None else 0
    class_words = (
        vocab.class_words.finditer(text, s_start, s_end)
        if class_starts is None or (k < len(class_starts) and class_starts[k] < s_end)
        else ()
    )
    for m in class_words:
        if m.start() in taken:
            continue
        found.append((m.start(), m.end(), None, [vocab.class_of_word[m.group(0).lower()]]))
        taken.update(range(m.start(), m.end()))
    if not found:
        return []
    found.sort(key=lambda f: (f[0], -f[1]))
    kept: list[tuple[int, int, str | None, list[str]]] = []
    for f in found:  # "low molecular weight heparin" is one mention, not two
        if not kept or f[0] >= kept[-1][1]:
            kept.append(f)
    found = kept
    toks = tokenise(text[s_start:s_end], s_start)
    targets = [
        min(len(toks.words) - 1, bisect.bisect_right(toks.ends, start)) for start, *_ in found
    ]
    quals = vocab.context.qualify_tokens(toks.words, targets, toks.starts, toks.ends)
    out = []
    for (start, end, drug_id, classes), q in zip(found, quals, strict=True):
        negated, historical = q.negated or q.hypothetical, q.historical
        neg = next((c for c in q.cues if c.category == "negated"), None)
        if neg is not None and neg.span[0] >= end and "," in text[end : neg.span[0]]:
            negated = False  # "on apixaban, warfarin stopped": the cue after a comma is not ours
        out.append(
            MedicationMention(
                name=text[start:end],
                drug_id=drug_id,
                classes=classes,
                span=(start, end),
                negated=negated,
                historical=historical,
            )
        )
    return out


def medication_evidence(text: str, mentions: list[MedicationMention]) -> list[Evidence]:
    """Evidence the medicines stand for: anticoagulant_use, antiplatelet_use, steroids, …"""
    vocab = _vocab()
    out: list[Evidence] = []
    for m in mentions:
        for cls in m.classes:
            fid = vocab.class_evidence.get(cls)
            if not fid:
                continue
            if cls == "corticosteroid" and vocab.steroid_not_systemic.search(
                text, max(0, m.span[0] - 25), min(len(text), m.span[1] + _STEROID_WINDOW)
            ):
                continue  # an inhaler, a joint or epidural injection, a short course
            choice = (
                Choice.absent if m.negated else Choice.unknown if m.historical else Choice.present
            )
            out.append(
                Evidence(
                    id=fid,
                    choice=choice,
                    span=m.span,
                    text=text[m.span[0] : m.span[1]],
                    source="text",
                    history=m.historical,
                )
            )
    return out
