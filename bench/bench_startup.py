"""Cold start: `spineguide assess --text ...` vs `spineguide --help`, each a fresh process.

Run: .venv/bin/python bench/bench_startup.py [--repeat 3]

Both commands run as new processes (interpreter start, imports, and for assess: the knowledge
base, the vocabularies and one assessment). The knowledge-base cache (knowledge/loader.py) lives
in a temporary folder: it is built by one untimed run, then both commands run `--repeat` times
interleaved and the best of each is compared. Target (issue 13): assess <= 3.5x --help.
Also printed, for context: the first run with an empty cache (cache rebuilt) and a run with the
cache switched off (SPINEGUIDE_KB_CACHE=0: every YAML file parsed and validated). Wall time and
CPU time (user + system of the child) are both shown; CPU time is less disturbed by other jobs.
Bytecode is as installed: the package is compiled (`compileall`, what pip does at install) and
PYTHONDONTWRITEBYTECODE is dropped for the children, so neither command pays for compiling
source files that an installed copy would not compile again.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEXT = (
    "54F, 3 weeks of left anterior thigh pain after lifting, weak knee extension, absent knee jerk"
)
TARGET = 3.5


def _cmd() -> list[str]:
    exe = BIN / "spineguide"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "spineguide"]


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one command to completion; (wall seconds, child CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(_cmd() + args, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Measure and print the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    assess = ["assess", "--text", TEXT]
    with tempfile.TemporaryDirectory(prefix="sg_bench_startup_") as tmp:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "src")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        env = {**base, "SPINEGUIDE_CACHE_DIR": tmp, "SPINEGUIDE_KB_CACHE": "1"}
        first = run(assess, env)  # builds the cache
        helps, assesses = [], []
        for _ in range(args.repeat):
            helps.append(run(["--help"], env))
            assesses.append(run(assess, env))
        off_env = {**env, "SPINEGUIDE_KB_CACHE": "0"}
        uncached = min(run(assess, off_env) for _ in range(max(1, args.repeat - 1)))
        shutil.rmtree(tmp, ignore_errors=True)
    h_wall, h_cpu = min(w for w, _ in helps), min(c for _, c in helps)
    a_wall, a_cpu = min(w for w, _ in assesses), min(c for _, c in assesses)
    ratio = a_wall / h_wall
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}, interleaved, same run")
    print(
        f"  spineguide --help              wall {h_wall * 1000:6.0f} ms   CPU {h_cpu * 1000:6.0f} ms"
    )
    print(
        f"  spineguide assess (KB cached)  wall {a_wall * 1000:6.0f} ms   CPU {a_cpu * 1000:6.0f} ms"
    )
    print(
        f"  assess, first run (cache built) wall {first[0] * 1000:5.0f} ms   CPU {first[1] * 1000:6.0f} ms"
    )
    print(
        f"  assess, cache off (all YAML)   wall {uncached[0] * 1000:6.0f} ms   CPU {uncached[1] * 1000:6.0f} ms"
    )
    verdict = "MET" if ratio <= TARGET else "NOT MET"
    print(
        f"ratio: cold assess = {ratio:.2f}x --help by wall time, {a_cpu / h_cpu:.2f}x by CPU time "
        f"(target <= {TARGET}x: {verdict}) [peer: `spineguide --help` in the same environment, "
        "same run: interpreter + CLI start-up only]"
    )


if __name__ == "__main__":
    main()
