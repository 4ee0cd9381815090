"""The Dask executor: same output as in process, survives a killed worker, keeps failed records."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("distributed")

from distributed import Client, LocalCluster

from spineguide.batch.dask_executor import DaskExecutor
from spineguide.batch.executors import LocalExecutor, run_batch
from spineguide.batch.io import MANIFEST, read_parts
from spineguide.cli import app
from spineguide.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()

BAD_LINES = [
    "{not json",
    json.dumps({"text": "L4-5: disc bulge"}),  # no id
    json.dumps({"id": "blank", "text": "  "}),
]


def _texts(name: str) -> list[str]:
    return [
        json.loads(x)["text"]
        for x in (DATA / name).read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _imaging_input(tmp_path: Path, copies: int = 1) -> Path:
    texts = _texts("imaging_reports.jsonl") * copies
    lines = [json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate(texts)]
    lines[7:7] = BAD_LINES
    return _write(tmp_path / "reports.jsonl", lines)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A 2-worker local cluster shared by the tests that join an existing scheduler."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def test_cli_dask_two_workers_identical_to_in_process(tmp_path: Path) -> None:
    src = _imaging_input(tmp_path)
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    r1 = runner.invoke(app, ["batch", "imaging", str(src), "-o", str(local)])
    r2 = runner.invoke(
        app,
        [
            "batch",
            "imaging",
            str(src),
            "-o",
            str(dask),
            "--executor",
            "dask",
            "--workers",
            "2",
            "--chunk-size",
            "5",
        ],
    )
    assert r1.exit_code == 0 and r2.exit_code == 0, r2.output
    assert "[executor dask, workers 2]" in r2.stderr
    assert local.read_bytes() == dask.read_bytes()
    out = [json.loads(x) for x in dask.read_text().splitlines()]
    n_reports = len(_texts("imaging_reports.jsonl"))
    assert len(out) == n_reports + len(BAD_LINES)
    errors = [o for o in out if "error" in o]
    assert [e["line"] for e in errors] == [8, 9, 10]  # kept, with their line numbers
    assert sum(len(o["findings"]) for o in out if "findings" in o) > n_reports  # real findings


def test_notes_and_assess_on_a_running_scheduler(tmp_path: Path, cluster: LocalCluster) -> None:
    notes = _texts("clinical_snippets.jsonl")[:24]
    src = _write(
        tmp_path / "notes.jsonl", [json.dumps({"id": i, "text": t}) for i, t in enumerate(notes)]
    )
    for job in ("notes", "assess"):
        local, dask = tmp_path / f"{job}-local.jsonl", tmp_path / f"{job}-dask.jsonl"
        run_batch(job, src, local, LocalExecutor())
        summary = run_batch(
            job, src, dask, DaskExecutor(scheduler=cluster.scheduler_address, chunk_size=3)
        )
        assert summary.records == len(notes) and summary.errors == 0
        assert local.read_bytes() == dask.read_bytes(), job
    triage = [json.loads(x) for x in (tmp_path / "assess-dask.jsonl").read_text().splitlines()]
    assert set(triage[0]) == {
        "id",
        "version",
        "urgency",
        "red_flags",
        "top_diagnoses",
        "roots",
        "warnings",
    }
    assert triage[0]["urgency"] == "emergency"  # the first snippet is a cauda equina presentation
    assert any(f["id"] == "cauda_equina" for f in triage[0]["red_flags"])


def test_partitioned_output_with_manifest(tmp_path: Path, cluster: LocalCluster) -> None:
    src = _imaging_input(tmp_path)
    single, parts = tmp_path / "one.jsonl", tmp_path / "parts"
    run_batch("imaging", src, single, LocalExecutor())
    summary = run_batch(
        "imaging",
        src,
        parts,
        DaskExecutor(scheduler=cluster.scheduler_address, chunk_size=8),
        part_size=10,
    )
    manifest = json.loads((parts / MANIFEST).read_text())
    assert manifest["records"] == summary.records and manifest["errors"] == len(BAD_LINES)
    assert [p["records"] for p in manifest["parts"]][:-1] == [10] * (len(manifest["parts"]) - 1)
    assert sum(p["records"] for p in manifest["parts"]) == summary.records
    assert list(read_parts(parts)) == single.read_text().splitlines()
    with pytest.raises(InputError, match="already holds a batch run"):
        run_batch("imaging", src, parts, LocalExecutor())
    first = parts / manifest["parts"][0]["file"]
    first.write_text(first.read_text().replace("disc", "DISC", 1))
    with pytest.raises(InputError, match="checksum"):
        list(read_parts(parts))


def test_job_completes_with_every_record_when_a_worker_is_killed(tmp_path: Path) -> None:
    src = _imaging_input(tmp_path, copies=8)
    expected = tmp_path / "local.jsonl"
    run_batch("imaging", src, expected, LocalExecutor())
    n_lines = len(expected.read_text().splitlines())
    killed: list[int] = []

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cl,
        Client(cl, set_as_default=False) as spy,
    ):
        pids = spy.run(os.getpid)

        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                busy = [w for w, keys in spy.processing().items() if keys]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])
                    return
                time.sleep(0.005)

        executor = DaskExecutor(scheduler=cl.scheduler_address, chunk_size=4)
        original = executor.map_lines

        def map_lines(job: str, items):  # start the killer once work is on the cluster
            killer = threading.Thread(target=kill_a_busy_worker)
            started = False
            for result in original(job, items):
                if not started:
                    killer.start()
                    started = True
                yield result
            killer.join()

        executor.map_lines = map_lines  # type: ignore[method-assign]
        out = tmp_path / "dask.jsonl"
        summary = run_batch("imaging", src, out, executor)
        assert killed, "no busy worker was found to kill"
        with pytest.raises(ProcessLookupError):
            os.kill(killed[0], 0)  # that worker process is really gone
    assert summary.records == n_lines
    assert out.read_bytes() == expected.read_bytes()


class _Future:
    def __init__(self, fn) -> None:
        self._fn = fn

    def result(self):
        return self._fn()

    def release(self) -> None:
        pass


class _FlakyClient:
    """Chunks always fail; single records fail only for the record with id 'poison'."""

    def submit(self, fn, job, chunk, **kwargs):
        def run():
            if len(chunk) > 1:
                raise RuntimeError("KilledWorker: worker died 3 times")
            (_line_no, line) = chunk[0]
            if '"poison"' in line:
                raise RuntimeError("KilledWorker: this record kills its worker")
            return fn(job, chunk)

        return _Future(run)


def test_a_chunk_the_cluster_cannot_run_is_retried_record_by_record() -> None:
    chunk = [
        (1, json.dumps({"id": "a", "text": "L4-5: small disc bulge."})),
        (2, json.dumps({"id": "poison", "text": "L5-S1: extrusion."})),
        (3, json.dumps({"id": 7, "text": "L3-4: mild canal stenosis."})),
    ]
    failed = _Future(lambda: (_ for _ in ()).throw(RuntimeError("KilledWorker")))
    out = DaskExecutor()._collect(_FlakyClient(), "imaging", failed, chunk)
    got = [json.loads(line) for line, _ in out]
    assert [ok for _, ok in out] == [True, False, True]
    assert [g["id"] for g in got] == ["a", "poison", 7]
    assert got[1]["line"] == 2 and got[1]["error"].startswith("cluster failure: RuntimeError")
    assert got[0]["findings"] and got[2]["findings"]


def test_parquet_input_matches_jsonl(tmp_path: Path, cluster: LocalCluster) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    texts = _texts("imaging_reports.jsonl")[:20]
    ids = [f"r{i}" for i in range(len(texts))]
    texts[4] = None  # a null text: kept as an error record
    pq.write_table(pa.table({"id": ids, "text": texts, "site": ["x"] * 20}), tmp_path / "in.pq")
    lines = [
        json.dumps({"id": i, "text": t} if t is not None else {"id": i})
        for i, t in zip(ids, texts, strict=True)
    ]
    src = _write(tmp_path / "in.jsonl", lines)
    run_batch("imaging", src, tmp_path / "a.jsonl", LocalExecutor())
    summary = run_batch(
        "imaging",
        tmp_path / "in.pq",
        tmp_path / "b.jsonl",
        DaskExecutor(scheduler=cluster.scheduler_address, chunk_size=6),
    )
    assert summary.records == 20 and summary.errors == 1
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    src = _imaging_input(tmp_path)
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_batch(
            "imaging",
            src,
            tmp_path / "o.jsonl",
            DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout=2),
        )
    result = runner.invoke(
        app,
        ["batch", "imaging", str(src), "-o", str(tmp_path / "o.jsonl"), "--scheduler", "8786"],
    )
    assert result.exit_code != 0 and isinstance(result.exception, InputError)


def test_scheduler_without_workers_is_a_clear_error(tmp_path: Path) -> None:
    src = _imaging_input(tmp_path)
    with (
        LocalCluster(n_workers=0, processes=True, dashboard_address=None) as empty,
        pytest.raises(InputError, match="no Dask workers joined"),
    ):
        run_batch(
            "imaging",
            src,
            tmp_path / "o.jsonl",
            DaskExecutor(scheduler=empty.scheduler_address, connect_timeout=2),
        )


def test_a_run_that_cannot_start_leaves_no_output(tmp_path: Path) -> None:
    src = _imaging_input(tmp_path)
    for out in (tmp_path / "o.jsonl", tmp_path / "parts"):
        with pytest.raises(InputError):
            run_batch(
                "imaging", src, out, DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout=1)
            )
        assert not out.exists()
