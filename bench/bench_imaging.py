"""Imaging extraction throughput and peak memory: SpineGuide's extractor vs a medspaCy pipeline.

Run: .venv/bin/python bench/bench_imaging.py [--repeat N] [--no-pyrush]

Both sides read the SAME vocabulary file (src/spineguide/text/vocabulary/imaging.yaml): medspaCy
gets TargetRules from its finding terms, anchors and heads, ConTextRules from its context cues,
and SectionRules for the report headings. Same reports (tests/data corpus + dev set, repeated),
same process, one core.

The peer that leads (the fair one) uses spaCy's `sentencizer` as sentence splitter: the fastest
medspaCy configuration. medspaCy's default PyRuSH splitter is ~6x slower again (see
../shared/research/software-anchors.md 2.1); it is shown after, for reference only, and is not the
ratio we quote. Targets (issue 10): >= 3,000 reports/s for our extractor and >= 2x the
sentencizer peer.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from medspacy_peer import CONTEXT_CATEGORY  # noqa: E402  (the benches' shared peer table)

from spineguide.text.imaging import VOCABULARY_PATH, parse_imaging_report  # noqa: E402

TARGET_RATE = 3000.0  # issue 10: >= 3,000 reports/s on one core
TARGET_RATIO = 2.0  # issue 10: >= 2x the sentencizer peer


def load_reports() -> list[str]:
    """Our corpus plus the shared dev set (when present)."""
    texts: list[str] = []
    for path in (
        ROOT / "tests/data/imaging_reports.jsonl",
        ROOT.parent / "shared/imaging/dev_reports.jsonl",
    ):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


def measure(name: str, fn, reports: list[str]) -> tuple[float, float, float]:
    """Return (reports/s wall clock, peak MiB of traced allocations, reports/s of CPU time).

    Both sides are measured the same way. The CPU-time rate counts only this process's own
    work, so it is the steadier figure on a machine shared with other jobs."""
    for text in reports[:20]:  # warm-up (vocabulary/pipeline already loaded)
        fn(text)
    gc.collect()
    start = time.perf_counter()
    cpu_start = time.process_time()
    for text in reports:
        fn(text)
    cpu = time.process_time() - cpu_start
    elapsed = time.perf_counter() - start
    rate = len(reports) / elapsed
    cpu_rate = len(reports) / max(cpu, 1e-9)
    tracemalloc.start()
    for text in reports[: min(len(reports), 500)]:
        fn(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name:<28} {rate:>10,.0f} reports/s ({cpu_rate:,.0f}/s of CPU time)   "
        f"peak traced memory {peak / 2**20:6.2f} MiB"
    )
    return rate, peak / 2**20, cpu_rate


def build_medspacy(pyrush: bool):
    """A medspaCy pipeline (sentence splitter + TargetMatcher + ConText + Sectionizer) from our
    vocabulary; pyrush=True keeps medspaCy's default PyRuSH splitter, False uses spaCy's
    sentencizer (the fastest configuration)."""
    import medspacy
    import yaml
    from medspacy.context import ConTextRule
    from medspacy.section_detection import SectionRule
    from medspacy.target_matcher import TargetRule

    vocab = yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8"))
    enable = (
        ["medspacy_pyrush", "medspacy_target_matcher"] if pyrush else ["medspacy_target_matcher"]
    )
    nlp = medspacy.load(medspacy_enable=enable, load_rules=False)
    if not pyrush:
        nlp.add_pipe("sentencizer", first=True)
    target_rules = []
    for fid, spec in vocab["findings"].items():
        for term in spec.get("terms") or ():
            target_rules.append(TargetRule(term, fid.upper()))
    for name, phrases in vocab["anchors"].items():
        for p in phrases:
            target_rules.append(TargetRule(p, f"ANCHOR_{name.upper()}"))
    for name, phrases in vocab["heads"].items():
        for p in phrases:
            target_rules.append(TargetRule(p, f"HEAD_{name.upper()}"))
    nlp.get_pipe("medspacy_target_matcher").add(target_rules)
    category = CONTEXT_CATEGORY
    # the context cues our imaging reader uses: the shared English file (plus any in imaging.yaml)
    shared = yaml.safe_load((VOCABULARY_PATH.parent / "en" / "context.yaml").read_text("utf-8"))
    context_rules = []
    for rule in [*shared.get("rules", []), *vocab.get("context", [])]:
        kwargs = {"direction": rule["direction"].upper()}
        if rule.get("max_scope"):
            kwargs["max_scope"] = int(rule["max_scope"])
        context_rules += [
            ConTextRule(str(p), category[rule["category"]], **kwargs) for p in rule["phrases"]
        ]
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    context.add(context_rules)
    sectionizer = nlp.add_pipe("medspacy_sectionizer", config={"rules": None})
    sectionizer.add(
        [
            SectionRule(f"{h}:", cat)
            for h, cat in (
                ("findings", "findings"),
                ("impression", "impression"),
                ("conclusion", "impression"),
                ("history", "history"),
                ("clinical history", "history"),
                ("indication", "history"),
                ("technique", "technique"),
                ("comparison", "comparison"),
            )
        ]
    )
    return nlp


def main() -> None:
    """Run both extractors on the same reports and print rates, memory and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40, help="times to repeat the report set")
    parser.add_argument(
        "--no-pyrush", action="store_true", help="skip the slow PyRuSH reference peer"
    )
    args = parser.parse_args()
    base = load_reports()
    reports = base * args.repeat
    chars = sum(len(t) for t in base) / max(1, len(base))
    print(
        f"reports: {len(base)} distinct x {args.repeat} = {len(reports)} (mean {chars:.0f} chars)"
    )
    ours, _, ours_cpu = measure("spineguide extractor", parse_imaging_report, reports)
    print(
        f"  target >= {TARGET_RATE:,.0f} reports/s: {'MET' if ours >= TARGET_RATE else 'NOT MET'}"
    )
    try:
        from loguru import logger  # PyRuSH logs every token unless removed

        logger.remove()
    except ImportError:
        pass
    peers = [("medspaCy + sentencizer", False)]
    if not args.no_pyrush:
        peers.append(("medspaCy default (PyRuSH)", True))
    for label, pyrush in peers:
        try:
            nlp = build_medspacy(pyrush)
        except ImportError as exc:
            print(f"medspaCy not importable ({exc}); `pip install medspacy` to compare.")
            return
        med_reports = base * max(1, args.repeat // (20 if pyrush else 4))  # fewer repeats
        n_ents = sum(len(nlp(t).ents) for t in base)

        def run_medspacy(text: str, nlp=nlp) -> list[tuple[str, bool, bool]]:
            doc = nlp(text)
            return [(e.label_, e._.is_negated, e._.is_uncertain) for e in doc.ents]

        theirs, _, theirs_cpu = measure(label, run_medspacy, med_reports)
        splitter = "PyRuSH" if pyrush else "spaCy sentencizer"
        config = (
            f"{splitter} + TargetMatcher + ConText + Sectionizer, rules from imaging.yaml; "
            f"{n_ents} entities on the {len(base)} distinct reports"
        )
        if pyrush:
            print(
                f"  reference only: spineguide is {ours / theirs:.1f}x {label} "
                f"(slow default splitter; not the quoted ratio) [peer: {config}]"
            )
        else:
            ratio, cpu_ratio = ours / theirs, ours_cpu / theirs_cpu
            verdict = "MET" if ratio >= TARGET_RATIO else "NOT MET"
            print(
                f"  ratio: spineguide is {ratio:.2f}x {label} ({cpu_ratio:.2f}x by CPU time; "
                f"target >= {TARGET_RATIO:.0f}x: {verdict}) [peer: {config}]"
            )


if __name__ == "__main__":
    main()
