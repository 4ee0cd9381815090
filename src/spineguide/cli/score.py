"""`spineguide score …`: score outcome instruments (ODI, STarT Back, RMDQ, NRS) and change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel

score_app = typer.Typer(
    help=(
        "Score outcome instruments from JSON response files (see docs/INSTRUMENTS.md) and judge "
        "change against the minimal important change."
    ),
    no_args_is_help=True,
)

MAX_INPUT_BYTES = 1_000_000  # response files are tiny; refuse anything that is clearly not one

FormatOption = Annotated[str, typer.Option("--format", help="text or json")]
FileArgument = Annotated[
    str, typer.Argument(help="JSON response file (see docs/INSTRUMENTS.md); '-' reads stdin")
]


def _run(action: Callable[[], None]) -> None:
    """Run a command body, turning SpineGuide errors into a clean message and exit code 2."""
    from spineguide.cli import fail
    from spineguide.errors import SpineGuideError

    try:
        action()
    except SpineGuideError as exc:
        fail(exc.message, exc.hint)


def _check_format(fmt: str) -> str:
    from spineguide.errors import InputError

    if fmt not in ("text", "json"):
        raise InputError(f"unknown output format {fmt!r}", "use --format text or --format json")
    return fmt


def _read_json(source: str) -> Any:
    """Read and parse a JSON response file (or stdin for '-')."""
    import json
    import sys

    from spineguide.errors import InputError, InputTooLargeError

    if source == "-":
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        label = "stdin"
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no such file: {source}", "give the path of a JSON response file")
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InputTooLargeError(f"{source} is larger than {MAX_INPUT_BYTES} bytes")
        raw = path.read_bytes()
        label = source
    if len(raw) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"{label} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{label} is not UTF-8 text", "save the file as UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{label} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            'e.g. {"answers": {"pain_intensity": 2, …}}; see docs/INSTRUMENTS.md',
        ) from None


def _emit(result: BaseModel, fmt: str, text_lines: list[str]) -> None:
    if fmt == "json":
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo("\n".join(text_lines))


def _provenance_lines(result: Any) -> list[str]:
    lines = [f"  sources: {', '.join(result.sources)}"]
    for t in result.thresholds:
        if t.expert_estimate:
            lines.append(f"  expert estimate: {t.name} = {t.value:g} {t.unit} — {t.rationale}")
    return lines


def _odi_text(result: Any) -> list[str]:
    lines = [
        f"Oswestry Disability Index v{result.version}",
        f"  index: {result.index_percent:.1f} % ({result.raw_sum}/{result.max_possible})"
        f" — {result.band_label}",
        f"  answered: {result.answered} of 10 sections",
    ]
    if result.missing_sections:
        lines.append(
            f"  missing: {', '.join(result.missing_sections)} (denominator reduced by 5 each)"
        )
    lines.append(f"  bands: {result.band_convention}")
    return lines + _provenance_lines(result)


def _startback_text(result: Any) -> list[str]:
    return [
        f"Keele STarT Back Screening Tool ({result.version})",
        f"  total: {result.total}/9   psychosocial subscore (items 5–9): "
        f"{result.psychosocial_subscore}/5",
        f"  item 9 bothersomeness: {result.bothersomeness}",
        f"  risk: {result.risk}",
        f"  matched pathway: {result.pathway}",
        *_provenance_lines(result),
    ]


def _rmdq_text(result: Any) -> list[str]:
    lines = [
        f"Roland-Morris Disability Questionnaire ({result.version})",
        f"  score: {result.score}/{result.max_score}",
        f"  ticked items: {', '.join(map(str, result.ticked_items)) or 'none'}",
    ]
    if result.not_applicable_items:
        lines.append(
            "  not applicable (scored as no): " + ", ".join(map(str, result.not_applicable_items))
        )
    return lines + _provenance_lines(result)


def _nrs_text(result: Any) -> list[str]:
    ranges = ", ".join(f"{k} {v}" for k, v in result.band_ranges.items())
    return [
        "Numeric pain rating scale (NRS-11)",
        f"  score: {result.score}/10 — {result.severity}",
        f"  scheme: {result.scheme} ({ranges})",
        *_provenance_lines(result),
    ]


def _score_file(instrument: str, file: str, fmt: str) -> None:
    from spineguide.reasoning.instruments import score_payload

    fmt = _check_format(fmt)
    result = score_payload(instrument, _read_json(file))
    render = {"odi": _odi_text, "startback": _startback_text, "rmdq": _rmdq_text}[instrument]
    _emit(result, fmt, render(result))


@score_app.command("odi")
def odi(file: FileArgument, fmt: FormatOption = "text") -> None:
    """Score an Oswestry Disability Index v2.1a response file."""
    _run(lambda: _score_file("odi", file, fmt))


@score_app.command("startback")
def startback(file: FileArgument, fmt: FormatOption = "text") -> None:
    """Score a Keele STarT Back (9-item) response file: risk group and matched pathway."""
    _run(lambda: _score_file("startback", file, fmt))


@score_app.command("rmdq")
def rmdq(file: FileArgument, fmt: FormatOption = "text") -> None:
    """Score a Roland-Morris Disability Questionnaire (24-item) response file."""
    _run(lambda: _score_file("rmdq", file, fmt))


def _parse_number(text: str, label: str) -> int | float:
    """Parse an integer or decimal score given on the command line."""
    from spineguide.errors import InputError

    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{label} {text!r} is not a number") from None


@score_app.command("nrs")
def nrs(
    value: Annotated[str, typer.Argument(help="pain rating, a whole number 0–10")],
    scheme: Annotated[
        str, typer.Option("--scheme", help="severity bands: palos, physio-canada or boonstra")
    ] = "palos",
    fmt: FormatOption = "text",
) -> None:
    """Band a 0–10 numeric pain rating as none/mild/moderate/severe."""

    def body() -> None:
        from spineguide.reasoning.instruments import score_nrs

        checked = _check_format(fmt)
        result = score_nrs(_parse_number(value, "NRS pain rating"), scheme)
        _emit(result, checked, _nrs_text(result))

    _run(body)


def _change_input(instrument: str, text: str, label: str) -> Any:
    """A score given as a number, or a response file that is scored first."""
    from spineguide.errors import InputError
    from spineguide.reasoning.instruments import score_payload

    try:
        return _parse_number(text, label)
    except InputError:
        pass
    if text == "-" or Path(text).is_file():
        return score_payload(instrument, _read_json(text))
    raise InputError(
        f"{label} {text!r} is neither a number nor an existing file",
        "give a score (e.g. 42) or the path of a JSON response file",
    )


@score_app.command("change")
def change(
    instrument: Annotated[str, typer.Argument(help="odi, rmdq or nrs")],
    baseline: Annotated[str, typer.Argument(help="baseline score or response file")],
    followup: Annotated[str, typer.Argument(help="follow-up score or response file")],
    fmt: FormatOption = "text",
) -> None:
    """Judge change between two time points against the minimal important change."""

    def body() -> None:
        from spineguide.reasoning.instruments import check_change_instrument, score_change

        checked = _check_format(fmt)
        check_change_instrument(instrument)  # before touching any file
        if baseline == "-" and followup == "-":
            from spineguide.errors import InputError

            raise InputError("only one of baseline and follow-up can be read from stdin")
        result = score_change(
            instrument,
            _change_input(instrument, baseline, "baseline"),
            _change_input(instrument, followup, "follow-up"),
        )
        pct = (
            "n/a (baseline 0)"
            if result.percent_change is None
            else f"{result.percent_change:+.1f} %"
        )
        lines = [
            f"{instrument.upper()} change: {result.baseline:g} → {result.followup:g}"
            f" ({result.absolute_change:+g} points, {pct})",
            f"  verdict: {result.verdict.replace('_', ' ')}",
            f"  rule: {result.rule}",
            *_provenance_lines(result),
        ]
        _emit(result, checked, lines)

    _run(body)


def register(app: typer.Typer) -> None:
    """Attach the `score` command group to the main app."""
    app.add_typer(score_app, name="score")
