"""`spineguide batch imaging|notes INPUT.jsonl -o OUTPUT.jsonl`: extraction over JSONL files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

batch_app = typer.Typer(
    help=(
        'Run extraction over a JSONL file ({"id": ..., "text": ...} per line); one JSON result '
        'line per record, bad records get an "error" field and never stop the batch.'
    ),
    no_args_is_help=True,
)

_Input = Annotated[Path, typer.Argument(help='JSONL input ("-" for stdin)')]
_Output = Annotated[Path, typer.Option("--output", "-o", help='JSONL output ("-" for stdout)')]
_Workers = Annotated[int, typer.Option("--workers", "-w", help="worker processes")]
_Executor = Annotated[
    str | None,
    typer.Option("--executor", help="local (in process) or process (default when workers > 1)"),
]
_Chunk = Annotated[int, typer.Option("--chunk-size", help="records per task sent to a worker")]


def _run(
    job: str, input_file: Path, output: Path, workers: int, executor: str | None, chunk: int
) -> None:
    import sys

    from spineguide.batch.executors import make_executor, run_batch

    name = executor or ("process" if workers > 1 else "local")
    summary = run_batch(job, input_file, output, make_executor(name, workers, chunk))
    print(
        summary.as_text() + f" [executor {name}, workers {workers if name != 'local' else 1}]",
        file=sys.stderr,
    )
    if summary.errors:
        print(f'{summary.errors} record(s) have an "error" field in the output', file=sys.stderr)


@batch_app.command("imaging")
def imaging(
    input_file: _Input,
    output: _Output,
    workers: _Workers = 1,
    executor: _Executor = None,
    chunk_size: _Chunk = 256,
) -> None:
    """Extract imaging findings from each report: {id, version, findings, warnings} per line."""
    _run("imaging", input_file, output, workers, executor, chunk_size)


@batch_app.command("notes")
def notes(
    input_file: _Input,
    output: _Output,
    workers: _Workers = 1,
    executor: _Executor = None,
    chunk_size: _Chunk = 256,
) -> None:
    """Extract clinical evidence from each note: {id, version, evidence} per line."""
    _run("notes", input_file, output, workers, executor, chunk_size)


def register(app: typer.Typer) -> None:
    """Attach the `batch` command group to the main app."""
    app.add_typer(batch_app, name="batch")
