"""`spineguide batch imaging|notes|assess INPUT -o OUTPUT`: extraction and triage over cohorts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

batch_app = typer.Typer(
    help=(
        'Run a job over a JSONL file ({"id": ..., "text": ...} per line) or a Parquet file with '
        'the same columns; one JSON result per record, in input order. Bad records get an "error" '
        "field and never stop the batch. Output: one JSONL file (-o out.jsonl, or - for stdout) "
        "or a directory of part files with a _manifest.json (-o out_dir)."
    ),
    no_args_is_help=True,
)

_Input = Annotated[Path, typer.Argument(help='JSONL or Parquet input ("-" for stdin, JSONL)')]
_Output = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="out.jsonl (one file), - (stdout) or a directory (part files)"
    ),
]
_Workers = Annotated[
    int, typer.Option("--workers", "-w", help="worker processes (local Dask cluster or pool)")
]
_Executor = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="local (in process), process (a pool; default when workers > 1) or dask",
    ),
]
_Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="join a running Dask cluster at tcp://HOST:PORT instead of starting a local one",
    ),
]
_Chunk = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        help="records per task sent to a worker (default: 1024 on Dask, 256 in a local pool; "
        "a quarter of that for assess)",
    ),
]
# records per task by executor: Dask tasks should run for ~100 ms or more (scheduling overhead),
# a local pool balances better with smaller chunks; a full assessment costs ~10x an extraction
_CHUNK_DEFAULTS = {"dask": 1024, "process": 256, "local": 256}
_CHUNK_DIVISOR = {"imaging": 1, "notes": 1, "assess": 4}
_Progress = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress", help="progress bar on stderr (default: when stderr is a tty)"
    ),
]
_Format = Annotated[
    str, typer.Option("--input-format", help="auto (from the file name), jsonl or parquet")
]
_Layout = Annotated[
    str,
    typer.Option(
        "--layout", help="auto (from the output name), jsonl (one file) or parts (a directory)"
    ),
]
_PartSize = Annotated[int, typer.Option("--part-size", help="records per part file")]


def _run(
    job: str,
    input_file: Path,
    output: Path,
    workers: int,
    executor: str | None,
    scheduler: str | None,
    chunk: int | None,
    progress: bool | None,
    input_format: str,
    layout: str,
    part_size: int,
) -> None:
    import sys

    from spineguide.batch.executors import make_executor, run_batch
    from spineguide.errors import InputError

    if input_format not in ("auto", "jsonl", "parquet"):
        raise InputError(f"unknown --input-format {input_format!r}", "use auto, jsonl or parquet")
    if layout not in ("auto", "jsonl", "parts"):
        raise InputError(f"unknown --layout {layout!r}", "use auto, jsonl or parts")
    name = executor or ("dask" if scheduler else "process" if workers > 1 else "local")
    if chunk is None:
        chunk = max(1, _CHUNK_DEFAULTS.get(name, 256) // _CHUNK_DIVISOR.get(job.split(":")[0], 1))
    show = sys.stderr.isatty() if progress is None else progress
    summary = run_batch(
        job,
        input_file,
        output,
        make_executor(name, workers, chunk, scheduler=scheduler),
        input_format=input_format,  # type: ignore[arg-type]
        layout=layout,  # type: ignore[arg-type]
        part_size=part_size,
        progress=show,
    )
    where = (
        f"scheduler {scheduler}" if scheduler else f"workers {workers if name != 'local' else 1}"
    )
    print(summary.as_text() + f" [executor {name}, {where}]", file=sys.stderr)
    if summary.errors:
        print(f'{summary.errors} record(s) have an "error" field in the output', file=sys.stderr)


@batch_app.command("imaging")
def imaging(
    input_file: _Input,
    output: _Output,
    workers: _Workers = 1,
    executor: _Executor = None,
    scheduler: _Scheduler = None,
    chunk_size: _Chunk = None,
    progress: _Progress = None,
    input_format: _Format = "auto",
    layout: _Layout = "auto",
    part_size: _PartSize = 100_000,
) -> None:
    """Extract imaging findings from each report: {id, version, findings, warnings} per line."""
    _run(
        "imaging",
        input_file,
        output,
        workers,
        executor,
        scheduler,
        chunk_size,
        progress,
        input_format,
        layout,
        part_size,
    )


@batch_app.command("notes")
def notes(
    input_file: _Input,
    output: _Output,
    workers: _Workers = 1,
    executor: _Executor = None,
    scheduler: _Scheduler = None,
    chunk_size: _Chunk = None,
    progress: _Progress = None,
    input_format: _Format = "auto",
    layout: _Layout = "auto",
    part_size: _PartSize = 100_000,
) -> None:
    """Read each clinical note: {id, version, evidence, imaging, medications, ...} per line."""
    _run(
        "notes",
        input_file,
        output,
        workers,
        executor,
        scheduler,
        chunk_size,
        progress,
        input_format,
        layout,
        part_size,
    )


@batch_app.command("assess")
def assess(
    input_file: _Input,
    output: _Output,
    workers: _Workers = 1,
    executor: _Executor = None,
    scheduler: _Scheduler = None,
    chunk_size: _Chunk = None,
    progress: _Progress = None,
    input_format: _Format = "auto",
    layout: _Layout = "auto",
    part_size: _PartSize = 100_000,
    setting: Annotated[
        str,
        typer.Option(
            "--setting",
            help="care setting for records without one: primary, emergency, spine-clinic",
        ),
    ] = "primary",
) -> None:
    """Cohort triage: a full assessment per record, reported compactly.

    Each output line: {id, version, urgency, red_flags, top_diagnoses, roots, warnings}. A record
    holds "id" and a case ("text", and optionally "imaging_report", "age", "sex", "medications",
    "setting"; docs/CASE_FORMAT.md).
    """
    from spineguide.batch.worker import SETTINGS
    from spineguide.errors import InputError

    if setting not in SETTINGS:
        raise InputError(f"unknown setting {setting!r}", f"use one of: {', '.join(SETTINGS)}")
    job = "assess" if setting == "primary" else f"assess:{setting}"
    _run(
        job,
        input_file,
        output,
        workers,
        executor,
        scheduler,
        chunk_size,
        progress,
        input_format,
        layout,
        part_size,
    )


def register(app: typer.Typer) -> None:
    """Attach the `batch` command group to the main app."""
    app.add_typer(batch_app, name="batch")
