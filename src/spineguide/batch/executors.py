"""Run a batch job over a JSONL stream, in process or in a pool of worker processes.

Both executors take an iterator of ``(line_no, line)`` and yield ``(output_line, ok)`` in input
order. Nothing holds the whole file: the reader streams lines, the process pool keeps a bounded
number of chunks in flight, and :func:`run_batch` writes each result as it arrives.

Dask (extra ``dask``): :class:`spineguide.batch.dask_executor.DaskExecutor` runs the same
:func:`spineguide.batch.worker.process_line` on a local cluster or an existing scheduler.
Input may be JSONL or Parquet; output one JSONL file or a directory of parts with a manifest
(:mod:`spineguide.batch.io`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from spineguide.batch.io import (
    Counter,
    InputFormat,
    JsonlWriter,
    Layout,
    PartsWriter,
    Progress,
    output_layout,
    read_lines,
    read_parquet,
)
from spineguide.batch.io import input_format as io_input_format
from spineguide.batch.worker import MAX_LINE_CHARS, get_job, process_line, warm_up
from spineguide.errors import InputError

Item = tuple[int, str | None]  # (1-based line number, line text or None when over the limit)
Result = tuple[str, bool]  # (JSON output line, ok?)

EXECUTORS = ("local", "process", "dask")


class Executor(Protocol):
    """Maps a job over input lines, yielding output lines in input order."""

    def map_lines(self, job: str, items: Iterable[Item]) -> Iterator[Result]:
        """Yield one (output line, ok) per input item, in order."""
        ...


def _too_long(line_no: int) -> Result:
    import json

    msg = f"line is longer than {MAX_LINE_CHARS:,} characters; split the record"
    return json.dumps({"id": None, "line": line_no, "error": msg}), False


def _process_item(job: str, line_no: int, line: str | None) -> Result:
    if line is None:
        return _too_long(line_no)
    return process_line(job, line_no, line)


class LocalExecutor:
    """Runs the job in this process, one record after another."""

    def map_lines(self, job: str, items: Iterable[Item]) -> Iterator[Result]:
        """Yield one (output line, ok) per input item, in order."""
        get_job(job)
        warm_up(job)
        for line_no, line in items:
            yield _process_item(job, line_no, line)


# -- process pool ------------------------------------------------------------------------------

_WORKER_JOB: str | None = None


def _init_worker(job: str) -> None:
    """Pool initializer: load the job's pipeline once per worker process."""
    global _WORKER_JOB
    _WORKER_JOB = job
    warm_up(job)


def _process_chunk(chunk: list[Item]) -> list[Result]:
    job = _WORKER_JOB
    assert job is not None, "worker not initialised"
    return [_process_item(job, line_no, line) for line_no, line in chunk]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _BoundedFeed:
    """Iterates chunks but lets at most `limit` be in flight (Pool.imap reads its input eagerly)."""

    def __init__(self, chunks: Iterator[list[Item]], limit: int) -> None:
        self._chunks = chunks
        self._slots = threading.Semaphore(limit)
        self._stop = threading.Event()

    def __iter__(self) -> Iterator[list[Item]]:
        for chunk in self._chunks:
            while not self._slots.acquire(timeout=0.1):
                if self._stop.is_set():
                    return
            if self._stop.is_set():
                return
            yield chunk

    def done_one(self) -> None:
        """A chunk's results were consumed: let the next one in."""
        self._slots.release()

    def stop(self) -> None:
        """Stop feeding (the consumer is gone)."""
        self._stop.set()


@dataclass
class ProcessExecutor:
    """A multiprocessing pool: pipeline loaded once per worker, chunked ordered imap."""

    workers: int = 2
    chunk_size: int = 256
    chunks_in_flight: int | None = None  # default: 4 per worker
    start_method: str | None = None  # platform default (fork on Linux)

    def map_lines(self, job: str, items: Iterable[Item]) -> Iterator[Result]:
        """Yield one (output line, ok) per input item, in order."""
        get_job(job)
        if self.workers < 1:
            raise InputError("--workers must be at least 1")
        if self.chunk_size < 1:
            raise InputError("--chunk-size must be at least 1")
        ctx = mp.get_context(self.start_method)
        feed = _BoundedFeed(
            _chunks(items, self.chunk_size), self.chunks_in_flight or 4 * self.workers
        )
        pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(job,))
        try:
            for results in pool.imap(_process_chunk, feed, chunksize=1):
                feed.done_one()
                yield from results
            pool.close()
        finally:
            feed.stop()
            pool.terminate()
            pool.join()


def make_executor(
    name: str,
    workers: int = 1,
    chunk_size: int = 256,
    scheduler: str | None = None,
) -> Executor:
    """An executor by name: local (in process), process (a pool) or dask (a Dask cluster)."""
    if workers < 1:
        raise InputError("--workers must be at least 1")
    if chunk_size < 1:
        raise InputError("--chunk-size must be at least 1")
    if scheduler and name != "dask":
        raise InputError("--scheduler needs --executor dask")
    if name == "local":
        return LocalExecutor()
    if name == "process":
        return ProcessExecutor(workers=workers, chunk_size=chunk_size)
    if name == "dask":
        from spineguide.batch.dask_executor import DaskExecutor, require_dask

        require_dask()
        return DaskExecutor(workers=workers, scheduler=scheduler, chunk_size=chunk_size)
    raise InputError(f"unknown executor {name!r}", f"use one of: {', '.join(EXECUTORS)}")


# -- streaming I/O -------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    """Counts for one batch run."""

    job: str
    records: int = 0
    ok: int = 0
    errors: int = 0
    blank_lines: int = 0
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        """Throughput over the whole run (records per wall-clock second)."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_text(self) -> str:
        """One human-readable line."""
        return (
            f"{self.job}: {self.records} records, {self.ok} ok, {self.errors} errors"
            + (f", {self.blank_lines} blank lines skipped" if self.blank_lines else "")
            + f" in {self.seconds:.2f} s ({self.records_per_second:,.0f} records/s)"
        )


def _input_columns(job: str) -> tuple[str, ...]:
    if job.partition(":")[0] == "assess":
        from spineguide.batch.worker import ASSESS_FIELDS

        return ("id", "setting", *ASSESS_FIELDS)
    return ("id", "text")


def _open_input(
    input_path: str | Path, input_format: InputFormat, job: str, counter: Counter, stack: ExitStack
) -> tuple[Iterable[Item], str]:
    if str(input_path) == "-":
        return read_lines(sys.stdin, counter), "jsonl"
    path = Path(input_path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    fmt = io_input_format(path, input_format)
    if fmt == "parquet":
        return read_parquet(path, _input_columns(job), counter), fmt
    counter.total = path.stat().st_size
    fin = stack.enter_context(path.open(encoding="utf-8", errors="replace"))
    return read_lines(fin, counter), fmt


def _open_output(
    output_path: str | Path, input_path: str | Path, layout: Layout, part_size: int
) -> JsonlWriter | PartsWriter:
    kind = output_layout(output_path, layout)
    if str(output_path) == "-":
        if kind == "parts":
            raise InputError("partitioned output needs a directory, not stdout")
        return JsonlWriter("-")
    out = Path(output_path)
    if str(input_path) != "-" and out.exists() and out.resolve() == Path(input_path).resolve():
        raise InputError("the output must differ from the input file")
    if kind == "parts":
        return PartsWriter(out, part_size)
    if out.is_dir():
        raise InputError(f"output {out} is a directory; use --layout parts or name a .jsonl file")
    if out.parent and not out.parent.exists():
        raise InputError(f"output folder does not exist: {out.parent}")
    return JsonlWriter(out)


def run_batch(
    job: str,
    input_path: str | Path,
    output_path: str | Path,
    executor: Executor | None = None,
    *,
    input_format: InputFormat = "auto",
    layout: Layout = "auto",
    part_size: int = 100_000,
    progress: bool = False,
) -> BatchSummary:
    """Run a job over a JSONL or Parquet file ("-": stdin/stdout), writing results as they arrive.

    Every input record gives exactly one output line, in input order; a record that fails gives
    its id, line number and error instead of results. Output is one JSONL file ("-" or a name
    ending .jsonl) or a directory of part files with a manifest (see `spineguide.batch.io`).
    """
    from spineguide.batch.worker import pipeline_version

    get_job(job)
    executor = executor or LocalExecutor()
    summary = BatchSummary(job=job)
    counter = Counter()
    start = time.perf_counter()
    with ExitStack() as stack:
        items, fmt = _open_input(input_path, input_format, job, counter, stack)
        writer = _open_output(output_path, input_path, layout, part_size)
        bar = Progress(job, counter) if progress else None
        try:
            for line, ok in executor.map_lines(job, items):
                writer.write(line, ok)
                summary.records += 1
                if ok:
                    summary.ok += 1
                else:
                    summary.errors += 1
                if bar is not None:
                    bar.update(summary.records)
        finally:
            if bar is not None:
                bar.close()
        summary.blank_lines = counter.blank_lines
        summary.seconds = time.perf_counter() - start
        writer.close(
            {
                "job": job,
                "version": pipeline_version(job),
                "input": str(input_path),
                "input_format": fmt,
                "executor": type(executor).__name__,
                "records": summary.records,
                "ok": summary.ok,
                "errors": summary.errors,
                "blank_lines": summary.blank_lines,
                "seconds": round(summary.seconds, 3),
            }
        )
    return summary


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
