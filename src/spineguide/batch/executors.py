"""Run a batch job over a JSONL stream, in process or in a pool of worker processes.

Both executors take an iterator of ``(line_no, line)`` and yield ``(output_line, ok)`` in input
order. Nothing holds the whole file: the reader streams lines, the process pool keeps a bounded
number of chunks in flight, and :func:`run_batch` writes each result as it arrives.

Dask: not shipped. ``dask`` is not installed in this project; a Dask adapter would call the same
:func:`spineguide.batch.worker.process_line` from ``bag.map_partitions``.
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
from typing import IO, Protocol

from spineguide.batch.worker import MAX_LINE_CHARS, get_job, process_line, warm_up
from spineguide.errors import InputError

Item = tuple[int, str | None]  # (1-based line number, line text or None when over the limit)
Result = tuple[str, bool]  # (JSON output line, ok?)

EXECUTORS = ("local", "process")


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


def make_executor(name: str, workers: int = 1, chunk_size: int = 256) -> Executor:
    """An executor by name: local (in process) or process (a pool of `workers`)."""
    if workers < 1:
        raise InputError("--workers must be at least 1")
    if name == "local":
        return LocalExecutor()
    if name == "process":
        return ProcessExecutor(workers=workers, chunk_size=chunk_size)
    if name == "dask":
        raise InputError(
            "the Dask executor is not available", "dask is not installed; use local or process"
        )
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


def read_lines(fh: IO[str], summary: BatchSummary | None = None) -> Iterator[Item]:
    """Stream (line_no, line) from a text file; over-long lines come back as None, unread."""
    line_no = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        line_no += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            while True:  # skip the rest of the over-long line in bounded pieces
                rest = fh.readline(MAX_LINE_CHARS)
                if not rest or rest.endswith("\n"):
                    break
            yield line_no, None
            continue
        if not line.strip():
            if summary is not None:
                summary.blank_lines += 1
            continue
        yield line_no, line


def run_batch(
    job: str,
    input_path: str | Path,
    output_path: str | Path,
    executor: Executor | None = None,
) -> BatchSummary:
    """Run a job over a JSONL file ("-" for stdin/stdout), writing results as they arrive."""
    get_job(job)
    executor = executor or LocalExecutor()
    summary = BatchSummary(job=job)
    start = time.perf_counter()
    with ExitStack() as stack:
        if str(input_path) == "-":
            fin: IO[str] = sys.stdin
        else:
            path = Path(input_path)
            if not path.is_file():
                raise InputError(f"input file not found: {path}")
            fin = stack.enter_context(path.open(encoding="utf-8", errors="replace"))
        if str(output_path) == "-":
            fout: IO[str] = sys.stdout
        else:
            out = Path(output_path)
            if out.exists() and out.resolve() == Path(str(input_path)).resolve():
                raise InputError("the output file must differ from the input file")
            if out.parent and not out.parent.exists():
                raise InputError(f"output folder does not exist: {out.parent}")
            fout = stack.enter_context(out.open("w", encoding="utf-8"))
        for line, ok in executor.map_lines(job, read_lines(fin, summary)):
            fout.write(line)
            fout.write("\n")
            summary.records += 1
            if ok:
                summary.ok += 1
            else:
                summary.errors += 1
        fout.flush()
    summary.seconds = time.perf_counter() - start
    return summary


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
