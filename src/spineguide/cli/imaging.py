"""`spineguide imaging parse …` and `spineguide eval imaging FILE`: imaging-report extraction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

imaging_app = typer.Typer(
    help="Extract structured findings from imaging reports.", no_args_is_help=True
)

_FORMATS = ("json", "text")


def _check_format(fmt: str) -> None:
    from spineguide.errors import InputError

    if fmt not in _FORMATS:
        raise InputError(f"unknown format {fmt!r}", "use --format json or --format text")


@imaging_app.command("parse")
def parse(
    text: Annotated[str | None, typer.Option("--text", help="report text")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="file holding one report")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "text",
) -> None:
    """Parse one imaging report into findings (level, side, severity, negation, uncertainty)."""
    from spineguide.errors import InputError
    from spineguide.text.imaging import MAX_REPORT_CHARS
    from spineguide.text.pipeline import extract

    _check_format(fmt)
    if (text is None) == (file is None):
        raise InputError("give exactly one of --text or --file")
    if file is not None:
        if not file.is_file():
            raise InputError(f"file not found: {file}")
        if file.stat().st_size > MAX_REPORT_CHARS * 4:
            raise InputError(
                f"{file} is larger than the {MAX_REPORT_CHARS:,}-character report limit",
                "split the file into one report per call",
            )
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{file} is not UTF-8 text") from None
    assert text is not None
    if not text.strip():
        raise InputError("the report text is empty", "pass the report with --text or --file")
    report = extract(text, kind="report").imaging_report()
    if fmt == "json":
        typer.echo(report.model_dump_json(indent=2))
        return
    if not report.findings:
        typer.echo("no findings")
    for f in report.findings:
        flags = []
        if f.negated:
            flags.append("negated")
        if f.uncertain:
            flags.append("uncertain")
        if f.historical:
            flags.append("historical")
        if f.confidence < 1.0:
            flags.append(f"confidence {f.confidence:.2f}")
        if f.root:
            flags.append(f"root {f.root}{' (inferred)' if f.root_inferred else ''}")
        if f.section != "findings":
            flags.append(f.section)
        typer.echo(
            f"{(f.level or '-'):<7} {(f.side or '-'):<9} {f.finding:<30} {f.severity:<11} "
            + ", ".join(flags)
        )
    for u in report.uninterpreted:
        typer.echo(f"not interpreted: {u.text!r} at {u.span[0]}-{u.span[1]} ({u.reason})")


def _eval_imaging(
    file: Annotated[Path, typer.Argument(help="JSONL file: {id, text, expected: [...]} per line")],
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "text",
) -> None:
    """Score the imaging extractor on a JSONL set: precision, recall, F1 and every miss."""
    from spineguide.evaluation.imaging_eval import evaluate_file, format_text

    _check_format(fmt)
    result = evaluate_file(file)
    if fmt == "json":
        typer.echo(json.dumps(result.model_dump(), indent=2))
    else:
        typer.echo(format_text(result))


def register(app: typer.Typer) -> None:
    """Attach the `imaging` command group to the main app."""
    app.add_typer(imaging_app, name="imaging")


def register_eval(eval_app: typer.Typer) -> None:
    """Attach `imaging` to the lead's `eval` command group."""
    eval_app.command("imaging")(_eval_imaging)
