"""Clinical-note extraction throughput: SpineGuide's note reader vs a medspaCy pipeline.

Run: .venv/bin/python bench/bench_notes.py [--repeat N]

Both sides read the SAME vocabulary: medspaCy gets one TargetRule per finding phrase, body region
and muscle of ``text/vocabulary/clinical.yaml`` (the regexes, with their macros expanded, through
medspaCy's RegexMatcher) plus one per medicine name and class word of
``text/vocabulary/medications.yaml``; its ConText gets the shared English cues
(``text/vocabulary/en/context.yaml``) plus the note cues of ``clinical.yaml``. The peer is
configured as its users run it: spaCy's ``sentencizer`` for sentences (the fastest medspaCy
splitter), ``medspacy_target_matcher`` and ``medspacy_context``. Same notes (the team snippets, the
blind note set and the shared dev vignettes when present, repeated), same process, one core.

Our side is the one extractor interface, ``text.pipeline.extract(text)``: evidence with context,
medicines, imaging sentences sent to the imaging reader, uninterpreted red-flag wording. The
target is >= 3x the peer.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from medspacy_peer import CONTEXT_CATEGORY  # noqa: E402  (the benches' shared peer table)

from spineguide.text.pipeline import extract  # noqa: E402

VOCAB_DIR = ROOT / "src/spineguide/text/vocabulary"
TARGET_RATIO = 3.0


def load_notes() -> list[str]:
    """The team snippets, the blind note set and the shared dev vignettes (when present)."""
    texts: list[str] = []
    for path in (
        ROOT / "tests/data/clinical_snippets.jsonl",
        ROOT / "tests/data/blind_notes.jsonl",
        ROOT.parent / "shared/cases/dev_vignettes.jsonl",
    ):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    text = row.get("text") or row.get("presentation")
                    if isinstance(text, str) and text.strip():
                        texts.append(text)
    return texts


def measure(name: str, fn: Any, notes: list[str]) -> float:
    """Notes per second for fn over the notes (after a warm-up)."""
    for text in notes[:20]:
        fn(text)
    gc.collect()
    start = time.perf_counter()
    for text in notes:
        fn(text)
    rate = len(notes) / (time.perf_counter() - start)
    print(f"{name:<34} {rate:>9,.0f} notes/s")
    return rate


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for key, value in macros.items():
        pattern = pattern.replace(f"<<{key}>>", value)
    return pattern


def build_medspacy() -> tuple[Any, str]:
    """A medspaCy pipeline (sentencizer + TargetMatcher + ConText) from our note vocabulary."""
    import medspacy
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule

    vocab = yaml.safe_load((VOCAB_DIR / "clinical.yaml").read_text(encoding="utf-8"))
    meds = yaml.safe_load((VOCAB_DIR / "medications.yaml").read_text(encoding="utf-8"))
    shared = yaml.safe_load((VOCAB_DIR / "en" / "context.yaml").read_text(encoding="utf-8"))
    macros = vocab["macros"]
    nlp = medspacy.load(medspacy_enable=["medspacy_target_matcher"], load_rules=False)
    nlp.add_pipe("sentencizer", first=True)
    rules = []
    for phrase in vocab["phrases"]:
        for p in phrase["patterns"]:
            rules.append(
                TargetRule(
                    phrase["finding"],
                    phrase["finding"].upper(),
                    pattern=rf"(?i)\b(?:{_expand(p, macros)})\b",
                )
            )
    for region in vocab["regions"]:
        pattern = _expand(region["pattern"], macros)
        rules.append(TargetRule(region["name"], "REGION", pattern=rf"(?i)\b(?:{pattern})\b"))
    for muscle in vocab["muscles"]:
        pattern = _expand(muscle["pattern"], macros)
        rules.append(
            TargetRule(
                muscle["finding"], muscle["finding"].upper(), pattern=rf"(?i)\b(?:{pattern})\b"
            )
        )
    for name in meds["generic_classes"]:
        rules.append(TargetRule(str(name), "MEDICINE"))
    for cls, words in meds["class_words"].items():
        rules += [TargetRule(str(w), f"MEDICINE_{cls.upper()}") for w in words]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    category = CONTEXT_CATEGORY
    note = vocab["context"]
    replaced = set(note.get("replace_categories", ()))
    cue_rules = [r for r in shared["rules"] if r["category"] not in replaced] + note["rules"]
    context_rules = []
    for rule in cue_rules:
        kwargs: dict[str, Any] = {"direction": rule["direction"].upper()}
        if rule.get("max_scope"):
            kwargs["max_scope"] = int(rule["max_scope"])
        context_rules += [
            ConTextRule(str(p), category[rule["category"]], **kwargs) for p in rule["phrases"]
        ]
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    context.add(context_rules)
    config = (
        f"spaCy sentencizer + medspacy_target_matcher ({len(rules)} TargetRules: clinical.yaml "
        f"phrases, regions and muscles as regexes, medications.yaml names) + medspacy_context "
        f"({len(context_rules)} ConTextRules: en/context.yaml + clinical.yaml note cues)"
    )
    return nlp, config


def main() -> None:
    """Run both readers on the same notes and print rates and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="times to repeat the note set")
    args = parser.parse_args()
    base = load_notes()
    notes = base * args.repeat
    chars = sum(len(t) for t in base) / max(1, len(base))
    print(f"notes: {len(base)} distinct x {args.repeat} = {len(notes)} (mean {chars:.0f} chars)")
    t0 = time.perf_counter()
    extract("warm-up: 54F on apixaban with left leg pain")  # loads vocabularies, KB, drug names
    print(
        f"first call (vocabularies, knowledge base, drug dictionary): {time.perf_counter() - t0:.2f} s"
    )
    ours = measure("spineguide pipeline.extract", extract, notes)
    n_ours = sum(len(extract(t).evidence) for t in base)
    try:
        nlp, config = build_medspacy()
    except ImportError as exc:
        print(f"medspaCy not importable ({exc}); `pip install -e '.[bench]'` to compare.")
        return

    def run_medspacy(text: str) -> list[tuple[str, bool, bool]]:
        doc = nlp(text)
        return [(e.label_, e._.is_negated, e._.is_historical) for e in doc.ents]

    n_theirs = sum(len(run_medspacy(t)) for t in base)
    theirs = measure("medspaCy + sentencizer", run_medspacy, base * max(1, args.repeat // 5))
    print(f"peer configuration: {config}")
    print(
        f"extracted on the {len(base)} distinct notes: spineguide {n_ours} evidence items, "
        f"medspaCy {n_theirs} entities"
    )
    ratio = ours / theirs
    verdict = "MET" if ratio >= TARGET_RATIO else "NOT MET"
    print(
        f"  ratio: spineguide is {ratio:.1f}x medspaCy (target >= {TARGET_RATIO:.0f}x: {verdict})"
    )


if __name__ == "__main__":
    main()
