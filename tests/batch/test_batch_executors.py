"""Batch jobs: same results as the in-process pipeline for 1 and 2 workers, order, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spineguide.batch.executors import (
    LocalExecutor,
    ProcessExecutor,
    make_executor,
    read_lines,
    run_batch,
)
from spineguide.batch.worker import (
    MAX_LINE_CHARS,
    imaging_job,
    notes_job,
    process_line,
    run_record,
)
from spineguide.errors import InputError
from spineguide.text.clinical import extract_clinical_evidence
from spineguide.text.imaging import parse_imaging_report

DATA = Path(__file__).resolve().parents[1] / "data"


def _records(name: str) -> list[dict]:
    rows = [
        json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    return [{"id": r["id"], "text": r["text"]} for r in rows]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


BAD_LINES = [
    "this is not json",
    json.dumps([1, 2, 3]),
    json.dumps({"text": "L4-5: disc bulge"}),
    json.dumps({"id": "empty", "text": "   "}),
    json.dumps({"id": "num", "text": 42}),
    json.dumps({"id": "huge", "text": "x" * 250_000}),
]


def test_imaging_job_matches_pipeline() -> None:
    rec = _records("imaging_reports.jsonl")[0]
    out = imaging_job(rec)
    expected = parse_imaging_report(rec["text"]).findings
    assert out["id"] == rec["id"]
    assert out["findings"] == [f.model_dump(mode="json") for f in expected]
    json.dumps(out)  # plain data only


def test_notes_job_matches_pipeline() -> None:
    rec = {"id": 7, "text": "54F, 3 weeks of left anterior thigh pain, absent knee jerk"}
    out = notes_job(rec)
    assert out["evidence"] == [
        e.model_dump(mode="json") for e in extract_clinical_evidence(rec["text"])
    ]
    assert out["evidence"]


@pytest.mark.parametrize("record", [None, [], {"text": "x"}, {"id": 1}, {"id": True, "text": "x"}])
def test_bad_records_raise_input_error(record) -> None:
    with pytest.raises(InputError):
        imaging_job(record)
    out = run_record(imaging_job, record, 3)
    assert out["line"] == 3 and out["error"]


@pytest.mark.parametrize("workers", [1, 2])
def test_process_pool_matches_in_process_and_keeps_order(tmp_path: Path, workers: int) -> None:
    recs = _records("imaging_reports.jsonl") * 3
    recs = [{**r, "id": f"{r['id']}-{i}"} for i, r in enumerate(recs)]
    lines = [json.dumps(r) for r in recs]
    lines[5:5] = BAD_LINES  # bad records in the middle
    src = _write(tmp_path / "in.jsonl", lines)
    local_out, pool_out = tmp_path / "local.jsonl", tmp_path / "pool.jsonl"
    s_local = run_batch("imaging", src, local_out, LocalExecutor())
    s_pool = run_batch("imaging", src, pool_out, ProcessExecutor(workers=workers, chunk_size=7))
    assert local_out.read_text() == pool_out.read_text()
    assert s_pool.records == len(lines) and s_pool.errors == len(BAD_LINES)
    assert (s_local.records, s_local.ok, s_local.errors) == (
        s_pool.records,
        s_pool.ok,
        s_pool.errors,
    )
    out = [json.loads(x) for x in pool_out.read_text().splitlines()]
    good = [o for o in out if "error" not in o]
    assert [o["id"] for o in good] == [r["id"] for r in recs]  # order preserved
    for o, r in zip(good, recs, strict=True):
        expected = parse_imaging_report(r["text"]).findings
        assert o["findings"] == [f.model_dump(mode="json") for f in expected]
    errors = [o for o in out if "error" in o]
    assert [e["line"] for e in errors] == list(range(6, 6 + len(BAD_LINES)))
    assert any("invalid JSON" in e["error"] for e in errors)
    assert any(e["id"] == "huge" and "limit" in e["error"] for e in errors)


def test_notes_batch_with_two_workers(tmp_path: Path) -> None:
    rows = [
        json.loads(x)
        for x in (DATA / "clinical_snippets.jsonl").read_text().splitlines()
        if x.strip()
    ]
    lines = [json.dumps({"id": i, "text": r["text"]}) for i, r in enumerate(rows[:30])]
    src = _write(tmp_path / "notes.jsonl", lines)
    out = tmp_path / "notes_out.jsonl"
    summary = run_batch("notes", src, out, ProcessExecutor(workers=2, chunk_size=4))
    assert summary.errors == 0 and summary.records == 30
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["id"] for g in got] == list(range(30))
    for g, r in zip(got, rows[:30], strict=True):
        assert g["evidence"] == [
            e.model_dump(mode="json") for e in extract_clinical_evidence(r["text"])
        ]


def test_blank_and_overlong_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n"
        + json.dumps({"id": 1, "text": "L4-5: disc bulge"})
        + "\n\n"
        + "y" * (MAX_LINE_CHARS + 10)
        + "\n"
        + json.dumps({"id": 2, "text": "L5-S1: no stenosis"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    summary = run_batch("imaging", src, out, LocalExecutor())
    assert (summary.records, summary.ok, summary.errors, summary.blank_lines) == (3, 2, 1, 2)
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [1, None, 2]
    assert got[1]["line"] == 4 and "longer than" in got[1]["error"]


def test_reader_streams(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps({"id": i, "text": "x"}) for i in range(5)])
    with src.open() as fh:
        it = read_lines(fh)
        assert next(it)[0] == 1  # lazily read, one line at a time
        assert fh.tell() < src.stat().st_size


def test_process_line_is_plain_json() -> None:
    line, ok = process_line("imaging", 1, json.dumps({"id": "a", "text": "L3-4: mild disc bulge."}))
    assert ok and json.loads(line)["findings"][0]["finding"] == "disc_bulge"


def test_executor_and_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        make_executor("spark")
    with pytest.raises(InputError, match="--scheduler needs --executor dask"):
        make_executor("process", workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(InputError, match="chunk-size"):
        make_executor("process", workers=2, chunk_size=0)
    with pytest.raises(InputError):
        make_executor("process", workers=0)
    with pytest.raises(InputError):
        run_batch("imaging", tmp_path / "missing.jsonl", tmp_path / "o.jsonl")
    with pytest.raises(InputError):
        run_batch("radiology", tmp_path / "missing.jsonl", tmp_path / "o.jsonl")
