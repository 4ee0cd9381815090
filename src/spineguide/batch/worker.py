"""Batch jobs: one pure function per job, record dict in, result dict out (plain data only).

Each job takes ``{"id": ..., "text": ...}`` and returns ``{"id", "version", ...results}``. A bad
record raises ``InputError``; :func:`process_line` turns any failure into an ``error`` record so
one bad line never stops a batch. Pipelines (vocabularies, the knowledge base) load once per
process, on first use or in :func:`warm_up`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from spineguide import __version__
from spineguide.errors import InputError, SpineGuideError

MAX_LINE_CHARS = 1_000_000
"""Longest input line accepted (characters); longer lines become error records unread."""

Job = Callable[[dict[str, Any]], dict[str, Any]]


def _file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


@cache
def pipeline_version(job: str) -> str:
    """Version stamp of a job's pipeline: package version plus a hash of its rule files."""
    if job == "imaging":
        from spineguide.text.imaging import VOCABULARY_PATH

        return f"{__version__}+rules.{_file_digest(VOCABULARY_PATH)}"
    from spineguide.knowledge.loader import get_kb

    vocab_dir = Path(__file__).resolve().parents[1] / "text" / "vocabulary"
    return f"{get_kb().version}+rules.{_file_digest(*sorted(vocab_dir.glob('*.yaml')))}"


def _record_text(record: Any) -> tuple[Any, str]:
    if not isinstance(record, dict):
        raise InputError('each line must be a JSON object like {"id": ..., "text": ...}')
    if "id" not in record:
        raise InputError('the record has no "id"')
    rid = record["id"]
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        raise InputError('"id" must be a string or an integer')
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string')
    if not text.strip():
        raise InputError('"text" is empty')
    return rid, text


def imaging_job(record: dict[str, Any]) -> dict[str, Any]:
    """Imaging-report extraction for one record: {id, text} -> {id, version, findings, warnings}."""
    from spineguide.text.imaging import parse_imaging_report

    rid, text = _record_text(record)
    report = parse_imaging_report(text)
    return {
        "id": rid,
        "version": pipeline_version("imaging"),
        "findings": [f.model_dump(mode="json") for f in report.findings],
        "warnings": list(report.warnings),
    }


def notes_job(record: dict[str, Any]) -> dict[str, Any]:
    """Clinical-note evidence extraction for one record: {id, text} -> {id, version, evidence}."""
    from spineguide.text.clinical import extract_clinical_evidence

    rid, text = _record_text(record)
    evidence = extract_clinical_evidence(text)
    return {
        "id": rid,
        "version": pipeline_version("notes"),
        "evidence": [e.model_dump(mode="json") for e in evidence],
    }


JOBS: dict[str, Job] = {"imaging": imaging_job, "notes": notes_job}


def get_job(name: str) -> Job:
    """The job function for a name, or an InputError listing the valid names."""
    try:
        return JOBS[name]
    except KeyError:
        raise InputError(
            f"unknown batch job {name!r}", f"use one of: {', '.join(sorted(JOBS))}"
        ) from None


def warm_up(name: str) -> None:
    """Load a job's pipeline now (vocabularies, knowledge base) so the first record is not slow."""
    get_job(name)
    pipeline_version(name)
    if name == "imaging":
        from spineguide.text.imaging import load_vocabulary

        load_vocabulary()
    else:
        from spineguide.text.clinical import extract_clinical_evidence

        extract_clinical_evidence("warm-up: 40M, back pain")


def run_record(job: Job, record: Any, line_no: int | None = None) -> dict[str, Any]:
    """Run a job on one record; any failure becomes {id, line, error} instead of an exception."""
    try:
        return job(record)
    except SpineGuideError as exc:
        message = exc.message
    except Exception as exc:  # a pipeline bug must not stop the batch; report it on the record
        message = f"internal error: {type(exc).__name__}: {exc}"
    rid = record.get("id") if isinstance(record, dict) else None
    out: dict[str, Any] = {"id": rid if isinstance(rid, (str, int)) else None}
    if line_no is not None:
        out["line"] = line_no
    out["error"] = message
    return out


def process_line(job_name: str, line_no: int, line: str) -> tuple[str, bool]:
    """One JSONL input line -> (one JSON output line, ok?); bad JSON becomes an error record."""
    job = get_job(job_name)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        result: dict[str, Any] = {
            "id": None,
            "line": line_no,
            "error": f"invalid JSON: {exc.msg} at column {exc.colno}",
        }
    else:
        result = run_record(job, record, line_no)
    return json.dumps(result, ensure_ascii=False), "error" not in result
