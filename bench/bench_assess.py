"""Benchmark: full assessment from free text (p50/p95 latency, memory) vs a spaCy NLP peer.

Run: .venv/bin/python bench/bench_assess.py [--repeat N]

Target (issue 4): a full assessment from free text under 5 ms at the median, in process.
Peer, measured in the same run on the same texts: a medspaCy pipeline (tokenizer, sentence
splitter, ConText) doing only the linguistic pass that our extractor replaces. The ratio shows what
the whole assessment costs relative to running a standard clinical-NLP pipeline over the note.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def load_texts() -> list[str]:
    """Presentations to assess: the shared dev vignettes and the team's own, if present."""
    texts: list[str] = []
    for path in (
        SHARED / "cases" / "dev_vignettes.jsonl",
        ROOT / "tests" / "data" / "vignettes_team.jsonl",
    ):
        if path.exists():
            texts += [
                json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()
            ]
    if not texts:
        texts = [
            "54F, 3 weeks of left anterior thigh pain after lifting, weak knee extension, absent knee jerk."
        ]
    return texts


def time_calls(fn, texts: list[str], repeat: int) -> list[float]:
    """Per-call latencies in milliseconds."""
    out = []
    for _ in range(repeat):
        for t in texts:
            start = time.perf_counter()
            fn(t)
            out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    """The q-th percentile."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def main() -> int:
    """Run the benchmark and print our figures, the peer's and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from spineguide.knowledge.loader import get_kb
    from spineguide.reasoning.assess import assess

    texts = load_texts()
    get_kb()
    for t in texts:  # warm caches (regexes, KB indexes)
        assess(t)
    gc.collect()
    ours = time_calls(assess, texts, args.repeat)
    tracemalloc.start()
    for t in texts:
        assess(t)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p50, p95 = statistics.median(ours), pct(ours, 95)
    print(f"SpineGuide full assessment: n={len(ours)} p50={p50:.2f} ms p95={p95:.2f} ms "
          f"throughput={1000 / statistics.mean(ours):.0f}/s peak traced memory per batch={peak / 1e6:.1f} MB")  # fmt: skip
    print(f"target p50 < 5 ms: {'PASS' if p50 < 5 else 'FAIL'} ({5 / p50:.1f}x headroom)")
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")  # medspaCy logs every sentence at DEBUG
    try:
        import medspacy
    except ImportError:
        print("peer: medspaCy not installed (pip install medspacy) — peer not measured")
        return 0 if p50 < 5 else 1
    nlp = medspacy.load()
    for t in texts:
        nlp(t)
    peer = time_calls(nlp, texts, max(1, args.repeat // 4))
    peer50 = statistics.median(peer)
    print(f"peer medspaCy pipeline (NLP pass only): n={len(peer)} p50={peer50:.2f} ms")
    print(
        f"ratio: full SpineGuide assessment is {peer50 / p50:.1f}x faster than the peer's NLP pass alone"
    )
    return 0 if p50 < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
