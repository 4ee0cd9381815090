"""Batch imaging extraction: 1 vs 2 workers for the process pool and for Dask, and memory vs size.

Run: .venv/bin/python bench/bench_batch.py [--records 100000] [--memory-records 10000]
     [--chunk-size 1024] [--configs process-1,process-2,dask-1,dask-2]

Input: N records cycling through the team's imaging reports (tests/data/imaging_reports.jsonl),
written to a temporary JSONL file. Each configuration runs `run_batch("imaging", ...)` end to end
(read, parse JSON, extract, serialise, write in input order) in a fresh Python process, so the
peak-memory figures (ru_maxrss) belong to that configuration alone:
  - process-K: spineguide's multiprocessing pool with K workers (fork, chunked ordered imap);
  - dask-K: a Dask LocalCluster of K worker processes, 1 thread each (nanny, spawn), started
    and warmed up (pipeline loaded on each worker) before the clock starts (that time is printed
    separately), driven by DaskExecutor; the process pool's timing includes its warm-up.
Chunk: 1024 records per task for both executors (~0.3 s of work per task, above Dask's advice of
>= 100 ms per task; the CLI's Dask default). Peer configuration printed with each ratio. The ratio that matters is dask-2 / dask-1 (target
>= 1.7x on 2 cores; the client process that reads, writes and schedules shares those cores).
Memory: the Dask 2-worker run is repeated on --memory-records records; client and worker peak
RSS must stay flat from the small to the large input (nothing holds the whole file).
On a machine shared with other jobs the rates are noisy: run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def make_input(path: Path, n: int) -> None:
    """Write n records cycling through the team's imaging reports."""
    texts = [
        json.loads(line)["text"]
        for line in (ROOT / "tests/data/imaging_reports.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"R{i:07d}", "text": texts[i % len(texts)]}) + "\n")


def _maxrss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def run_one(config: str, src: Path, out: Path, chunk: int) -> dict:
    """Run one configuration in this process; return rate and peak memory."""
    from spineguide.batch.executors import ProcessExecutor, run_batch

    kind, _, k = config.partition("-")
    workers = int(k)
    result: dict = {"config": config}
    client_cpu0 = _cpu_s()
    if kind == "process":
        start = time.perf_counter()
        summary = run_batch("imaging", src, out, ProcessExecutor(workers, chunk))
        result["seconds"] = time.perf_counter() - start
        result["worker_rss_mib"] = _maxrss_mib(resource.RUSAGE_CHILDREN)
        result["worker_cpu_s"] = _cpu_s(resource.RUSAGE_CHILDREN)
    else:
        import logging

        from distributed import Client, LocalCluster

        from spineguide.batch.dask_executor import DaskExecutor

        t0 = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            from spineguide.batch.dask_executor import _warm

            client.run(_warm, "imaging")  # pipeline loaded on every worker before the clock
            result["cluster_start_s"] = time.perf_counter() - t0
            cpu0 = sum(client.run(_cpu_s).values())
            client_cpu0 = _cpu_s()
            start = time.perf_counter()
            summary = run_batch(
                "imaging",
                src,
                out,
                DaskExecutor(scheduler=cluster.scheduler_address, chunk_size=chunk),
            )
            result["seconds"] = time.perf_counter() - start
            rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            result["worker_rss_mib"] = max(rss.values())
            result["worker_cpu_s"] = sum(client.run(_cpu_s).values()) - cpu0
    assert summary.errors == 0, summary
    result["records"] = summary.records
    result["rate"] = summary.records / result["seconds"]
    result["client_rss_mib"] = _maxrss_mib()
    result["client_cpu_s"] = _cpu_s() - client_cpu0
    return result


def _cpu_bound_rate(r: dict, workers: int, cores: int) -> float:
    """Records/s the measured CPU per record allows on idle cores: workers in parallel, the
    client beside them, all of it within `cores`."""
    w = r["worker_cpu_s"] / r["records"]
    c = r["client_cpu_s"] / r["records"]
    return min(workers / w, 1 / c if c else float("inf"), cores / (w + c))


def spawn(config: str, src: Path, chunk: int) -> dict:
    """Run one configuration in a fresh interpreter and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="sg_bench_out_") as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [sys.executable, __file__, "--one", config, "--input", str(src), "--output", str(out)]
        cmd += ["--chunk-size", str(chunk)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{config} failed:\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run every configuration and print the table, the ratios and the memory check."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--memory-records", type=int, default=10_000)
    ap.add_argument("--chunk-size", type=int, default=1024)
    ap.add_argument("--configs", default="process-1,process-2,dask-1,dask-2")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, Path(args.input), Path(args.output), args.chunk_size)))
        return

    from spineguide.batch.executors import cpu_count

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sg_bench_batch_") as tmp:
        big, small = Path(tmp) / "big.jsonl", Path(tmp) / "small.jsonl"
        make_input(big, args.records)
        make_input(small, args.memory_records)
        print(
            f"imaging batch: {args.records:,} records ({big.stat().st_size / 1e6:.0f} MB), "
            f"{cpu_count()} CPUs, load average {load:.1f} at start, chunk {args.chunk_size} "
            "records/task, one run per configuration (fresh process each)"
        )
        res = {}
        for config in args.configs.split(","):
            r = spawn(config, big, args.chunk_size)
            res[config] = r
            extra = (
                f"  (cluster start + warm-up {r['cluster_start_s']:.1f} s, untimed)"
                if "dask" in config
                else ""
            )
            per = 1e6 / r["records"]
            print(
                f"  {config:<10} {r['rate']:>8,.0f} records/s  {r['seconds']:6.1f} s  "
                f"CPU/record: workers {r['worker_cpu_s'] * per:4.0f} us, client "
                f"{r['client_cpu_s'] * per:4.0f} us  peak RSS: client {r['client_rss_mib']:4.0f} "
                f"MiB, worker {r['worker_rss_mib']:4.0f} MiB{extra}"
            )
        for kind, peer in (
            ("process", "multiprocessing pool, fork, ordered imap, 4 chunks in flight per worker"),
            (
                "dask",
                "Dask LocalCluster, nanny worker processes, 1 thread each, 4 tasks in flight per worker",
            ),
        ):
            one, two = res.get(f"{kind}-1"), res.get(f"{kind}-2")
            if one and two:
                est = _cpu_bound_rate(two, 2, cpu_count()) / _cpu_bound_rate(one, 1, cpu_count())
                print(
                    f"{kind}: CPU-time model on idle cores (not a measurement): 2 workers / 1 "
                    f"worker = {est:.2f}x from the CPU per record above"
                )
                ratio = two["rate"] / one["rate"]
                target = " (target >= 1.70x: " + ("MET" if ratio >= 1.7 else "NOT MET") + ")"
                print(
                    f"{kind}: 2 workers / 1 worker = {ratio:.2f}x on {args.records:,} records"
                    f"{target if kind == 'dask' else ''}  [peer = same executor with 1 worker: {peer}]"
                )
        if "dask-2" in res:
            smallr = spawn("dask-2", small, args.chunk_size)
            bigr = res["dask-2"]
            print(
                f"memory, dask 2 workers: {args.memory_records:,} records -> client "
                f"{smallr['client_rss_mib']:.0f} MiB, workers {smallr['worker_rss_mib']:.0f} MiB; "
                f"{args.records:,} records -> client {bigr['client_rss_mib']:.0f} MiB, workers "
                f"{bigr['worker_rss_mib']:.0f} MiB"
            )
            grow = max(
                bigr["client_rss_mib"] - smallr["client_rss_mib"],
                bigr["worker_rss_mib"] - smallr["worker_rss_mib"],
            )
            print(
                f"  growth {grow:+.0f} MiB for {args.records / args.memory_records:.0f}x the records: "
                + ("flat (< 16 MiB)" if grow < 16 else "NOT flat")
            )
        print(
            f"load average at end {os.getloadavg()[0]:.1f} (other jobs on this machine skew rates)"
        )


if __name__ == "__main__":
    main()
