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
from functools import cache, partial
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
    job = job.partition(":")[0]
    vocab_dir = Path(__file__).resolve().parents[1] / "text" / "vocabulary"
    rules = _file_digest(*sorted(vocab_dir.rglob("*.yaml")))
    if job == "imaging":
        return f"{__version__}+rules.{rules}"
    from spineguide.knowledge.loader import get_kb

    return f"{get_kb().version}+rules.{rules}"


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
    from spineguide.text.pipeline import extract

    rid, text = _record_text(record)
    out = extract(text, kind="report")
    return {
        "id": rid,
        "version": pipeline_version("imaging"),
        "findings": [f.model_dump(mode="json") for f in out.imaging],
        "warnings": list(out.warnings),
    }


def notes_job(record: dict[str, Any]) -> dict[str, Any]:
    """Clinical-note extraction for one record: {id, text} -> {id, version, evidence, ...}.

    Everything the one extractor (`spineguide.text.pipeline.extract`) reads from a note: clinical
    evidence, imaging findings quoted in the note, medicines, and wording it could not interpret.
    """
    from spineguide.text.pipeline import extract

    rid, text = _record_text(record)
    data = extract(text, kind="note").model_dump(mode="json")
    return {"id": rid, "version": pipeline_version("notes"), **data}


ASSESS_FIELDS = ("text", "imaging_report", "evidence", "age", "sex", "medications", "patient")
"""Case fields an `assess` record may carry besides "id" (and "setting"); see docs/CASE_FORMAT.md."""
TOP_DIAGNOSES = 5
TOP_ROOTS = 3


def assess_job(record: dict[str, Any], setting: str = "primary") -> dict[str, Any]:
    """Cohort triage for one record: a full assessment, reported compactly.

    {id, text | imaging_report | evidence, [age, sex, medications, patient, setting]} ->
    {id, version, urgency, red_flags, top_diagnoses, roots, warnings}. A record without its own
    "setting" is assessed in `setting` (the run's ``--setting``, primary care by default).
    """
    from spineguide.reasoning.assess import CaseInput, assess

    if not isinstance(record, dict):
        raise InputError('each line must be a JSON object like {"id": ..., "text": ...}')
    if "id" not in record:
        raise InputError('the record has no "id"')
    rid = record["id"]
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        raise InputError('"id" must be a string or an integer')
    unknown = sorted(set(record) - {"id", "setting", *ASSESS_FIELDS})
    if unknown:
        raise InputError(
            f"unknown field(s) {', '.join(map(repr, unknown))}",
            f"an assess record may have: id, setting, {', '.join(ASSESS_FIELDS)}",
        )
    case = {k: v for k, v in record.items() if k != "id"}
    case.setdefault("setting", setting)
    try:
        parsed = CaseInput.model_validate(case)
    except ValueError as exc:  # pydantic's ValidationError: a readable first problem
        errors = getattr(exc, "errors", lambda: [])()
        first = errors[0] if errors else {"loc": (), "msg": str(exc)}
        where = ".".join(str(x) for x in first.get("loc", ())) or "record"
        raise InputError(f"invalid case ({where}): {first.get('msg')}") from None
    result = assess(parsed)
    return {
        "id": rid,
        "version": pipeline_version("assess"),
        "urgency": result.triage.urgency.value,
        "red_flags": [
            {"id": r.id, "name": r.name, "urgency": r.urgency.value}
            for r in result.triage.red_flags
        ],
        "top_diagnoses": [
            {
                "id": d.id,
                "name": d.name,
                "probability": round(d.probability, 4),
                "must_not_miss": d.must_not_miss,
                **({"level": d.level} if d.level else {}),
                **({"side": d.side} if d.side else {}),
            }
            for d in result.differential[:TOP_DIAGNOSES]
        ],
        "roots": [
            {"root": r.root, "side": r.side, "probability": round(r.probability, 4)}
            for r in result.localization.roots[:TOP_ROOTS]
        ],
        "warnings": list(result.warnings),
    }


SETTINGS = ("primary", "emergency", "spine-clinic")
JOBS: dict[str, Job] = {"imaging": imaging_job, "notes": notes_job, "assess": assess_job}


def get_job(name: str) -> Job:
    """The job function for a name, or an InputError listing the valid names.

    ``assess:SETTING`` is the assess job with another default care setting (e.g. assess:emergency).
    """
    base, _, option = name.partition(":")
    try:
        job = JOBS[base]
    except KeyError:
        raise InputError(
            f"unknown batch job {base!r}", f"use one of: {', '.join(sorted(JOBS))}"
        ) from None
    if not option:
        return job
    if base != "assess" or option not in SETTINGS:
        raise InputError(
            f"unknown batch job {name!r}", f"the assess job takes a setting: {', '.join(SETTINGS)}"
        )
    return partial(assess_job, setting=option)


def warm_up(name: str) -> None:
    """Load a job's pipeline now (vocabularies, knowledge base) so the first record is not slow."""
    get_job(name)
    pipeline_version(name)
    name = name.partition(":")[0]
    from spineguide.text.pipeline import extract

    if name == "imaging":
        extract("L4-5: small disc bulge.", kind="report")
    elif name == "notes":
        extract("warm-up: 40M, back pain. MRI: L4-5 disc bulge.", kind="note")
    else:
        from spineguide.reasoning.assess import assess

        assess("warm-up: 40M, back pain for a week, no leg symptoms")


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
