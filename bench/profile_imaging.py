"""Where the imaging reader spends its CPU: CPU time per report and a cProfile table.

Run: .venv/bin/python bench/profile_imaging.py [--repeat N] [--top N] [--sort tottime|cumulative]

Reads the same reports as bench/bench_imaging.py (tests/data corpus + the shared dev set).
CPU time (process_time, best of several passes) is steadier than wall time on a shared
machine; the profile table (which slows every Python call) shows where the time goes. For a
deterministic count, run one pass under valgrind:
  valgrind --tool=cachegrind --cache-sim=no .venv/bin/python bench/profile_imaging.py --repeat 4
and compare the instruction total with a --repeat 0 run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_imaging import load_reports  # noqa: E402

from spineguide.text.imaging import parse_imaging_report  # noqa: E402


def cpu_per_report(reports: list[str], passes: int = 5) -> float:
    """Best CPU seconds per report over `passes` passes."""
    best = float("inf")
    for _ in range(passes):
        gc.collect()
        start = time.process_time()
        for text in reports:
            parse_imaging_report(text)
        best = min(best, time.process_time() - start)
    return best / max(1, len(reports))


def main() -> None:
    """Print CPU time per report, then the top of a cProfile table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="times to repeat the report set")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile to print")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--no-profile", action="store_true", help="CPU time only")
    args = parser.parse_args()
    base = load_reports()
    for text in base:  # warm the vocabulary and the per-word caches
        parse_imaging_report(text)
    reports = base * args.repeat
    if not reports:
        return
    per = cpu_per_report(reports)
    print(f"{len(base)} reports x {args.repeat}: {per * 1e6:.1f} us CPU per report")
    print(f"  = {1 / per:,.0f} reports/s of CPU time")
    if args.no_profile:
        return
    profile = cProfile.Profile()
    profile.enable()
    for text in reports:
        parse_imaging_report(text)
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
