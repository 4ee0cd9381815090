"""The Dask executor: batch jobs on a Dask cluster (a local one, or an existing scheduler).

The client (this process) streams the input, submits chunks of lines as tasks and writes results
in input order as they complete; at most ``chunks_in_flight`` chunks are on the cluster at once, so
memory stays flat whatever the input size. Each worker loads the job's pipeline once (knowledge
base from its validated cache, vocabularies) and runs the same
:func:`spineguide.batch.worker.process_line` as the local executor, so results are identical.

Failures: a worker that dies mid-task (killed, out of memory) is replaced by its nanny and the
scheduler reruns its tasks elsewhere; a chunk that still cannot finish is retried record by
record, and any record that fails then comes back as an error record naming the failure. Nothing
is dropped.
"""

from __future__ import annotations

import json
import logging
import pickle
import uuid
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from spineguide.batch.worker import get_job, process_line, warm_up
from spineguide.errors import InputError

Item = tuple[int, str | None]
Result = tuple[str, bool]

_WARM: set[str] = set()
# records per task: ~0.3 s of work per imaging or note chunk, above Dask's advice that a task
# should take at least ~100 ms so scheduling overhead stays small (the CLI's --chunk-size wins)
DASK_CHUNK = 1024


def _warm(job: str) -> None:
    """Load the job's pipeline in this worker process (once)."""
    if job not in _WARM:
        warm_up(job)
        _WARM.add(job)


def _too_long(line_no: int) -> Result:
    from spineguide.batch.worker import MAX_LINE_CHARS

    msg = f"line is longer than {MAX_LINE_CHARS:,} characters; split the record"
    return json.dumps({"id": None, "line": line_no, "error": msg}), False


def run_chunk(job: str, chunk: list[Item]) -> list[Result]:
    """Task body on a Dask worker: one chunk of (line_no, line) -> [(output line, ok)]."""
    _warm(job)
    return [
        _too_long(line_no) if line is None else process_line(job, line_no, line)
        for line_no, line in chunk
    ]


def pack(obj: Any) -> bytes:
    """Pickle and compress (zlib level 1): JSON text shrinks ~10x, so the client moves less.

    Measured on one machine, sending results uncompressed saved ~7 % of worker CPU but the
    client's peak memory then grew with the input (+60 MiB from 10k to 100k records: larger
    comm buffers fragment its heap); compressed, it stays flat. Flat memory wins.
    """
    return zlib.compress(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(blob: bytes) -> Any:
    """Inverse of :func:`pack` (only for blobs this module's own tasks produced)."""
    return pickle.loads(zlib.decompress(blob))


def run_packed(job: str, blob: bytes) -> bytes:
    """Task body with compressed input and output (see :func:`pack`)."""
    return pack(run_chunk(job, unpack(blob)))


def _record_id(line: str | None) -> Any:
    try:
        rid = json.loads(line).get("id") if line else None
    except (ValueError, AttributeError):
        return None
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def _failed(line_no: int, line: str | None, exc: BaseException) -> Result:
    """An error record for a record whose task could not complete on the cluster."""
    reason = f"{type(exc).__name__}: {exc}".strip()
    out = {
        "id": _record_id(line),
        "line": line_no,
        "error": f"cluster failure: {reason[:300]}",
    }
    return json.dumps(out, ensure_ascii=False), False


def require_dask() -> None:
    """Raise a clear InputError when dask[distributed] is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(
            "the Dask executor needs dask[distributed]",
            "install it with: pip install 'spineguide[dask]'",
        ) from None


@dataclass
class DaskExecutor:
    """Runs a job on a Dask cluster: a LocalCluster of `workers` processes, or `scheduler`."""

    workers: int = 2
    scheduler: str | None = None
    chunk_size: int = DASK_CHUNK
    chunks_in_flight: int | None = None  # default: 4 per worker
    retries: int = 2
    connect_timeout: float = 20.0

    def _client(self, stack: ExitStack) -> Any:
        from distributed import Client, LocalCluster

        if self.scheduler:
            if not self.scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
                raise InputError(
                    f"--scheduler must be an address like tcp://HOST:8786, not {self.scheduler!r}"
                )
            try:
                return stack.enter_context(
                    Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
                )
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {type(exc).__name__}",
                    "start one with `dask scheduler` (see docs/CLUSTER.md)",
                ) from None
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        )
        return stack.enter_context(Client(cluster, set_as_default=False))

    def map_lines(self, job: str, items: Iterable[Item]) -> Iterator[Result]:
        """Yield one (output line, ok) per input item, in order."""
        get_job(job)
        require_dask()
        if self.workers < 1:
            raise InputError("--workers must be at least 1")
        if self.chunk_size < 1:
            raise InputError("--chunk-size must be at least 1")
        from spineguide.batch.executors import _chunks

        with ExitStack() as stack:
            client = self._client(stack)
            self._prepare_workers(client, job)
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            limit = self.chunks_in_flight or 4 * n_workers
            run_id = uuid.uuid4().hex[:8]
            job_label = job.replace(":", "-")
            pending: deque[tuple[Any, list[Item]]] = deque()
            for idx, chunk in enumerate(_chunks(items, self.chunk_size)):
                future = client.submit(
                    run_packed,
                    job,
                    pack(chunk),
                    key=f"spineguide-{job_label}-{run_id}-{idx}",
                    pure=False,
                    retries=self.retries,
                )
                pending.append((future, chunk))
                while len(pending) >= limit:
                    yield from self._collect(client, job, *pending.popleft())
            while pending:
                yield from self._collect(client, job, *pending.popleft())

    def _prepare_workers(self, client: Any, job: str) -> None:
        """Wait for a worker and load the job's pipeline on every worker there now (later ones
        load it on their first task); a cluster that cannot run SpineGuide is a clear error."""
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError:
            raise InputError(
                f"no Dask workers joined the scheduler within {self.connect_timeout:.0f} s",
                "start workers with `dask worker tcp://HOST:8786` (see docs/CLUSTER.md)",
            ) from None
        try:
            client.run(_warm, job)
        except Exception as exc:
            raise InputError(
                f"the Dask workers cannot run SpineGuide: {type(exc).__name__}: {exc}"[:400],
                "install the same spineguide version on every worker (see docs/CLUSTER.md)",
            ) from None

    def _collect(self, client: Any, job: str, future: Any, chunk: list[Item]) -> list[Result]:
        """The chunk's results; if the cluster could not run it, retry one record at a time."""
        try:
            return unpack(future.result())
        except Exception:
            future.release()
        out: list[Result] = []
        for line_no, line in chunk:
            single = client.submit(run_chunk, job, [(line_no, line)], pure=False)
            try:
                out += single.result()
            except Exception as exc:
                out.append(_failed(line_no, line, exc))
            finally:
                single.release()
        return out
