"""`spineguide assess`: one presentation in, triage, root, differential, work-up and plan out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def assess_command(
    case_file: Annotated[
        Path | None, typer.Argument(help="case JSON file (see docs/CASE_FORMAT.md)")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="free-text presentation")] = None,
    setting: Annotated[str, typer.Option(help="primary, emergency or spine-clinic")] = "primary",
    fmt: Annotated[str, typer.Option("--format", help="text, json or html")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file")
    ] = None,
) -> None:
    """Assess a presentation from a case JSON file or from --text."""
    from spineguide.errors import InputError
    from spineguide.reasoning.assess import CaseInput, assess

    if fmt not in ("text", "json", "html"):
        raise InputError(f"unknown format {fmt!r}", "use --format text, json or html")
    if setting not in ("primary", "emergency", "spine-clinic"):
        raise InputError(f"unknown setting {setting!r}", "use primary, emergency or spine-clinic")
    if case_file is None and text is None:
        raise InputError("nothing to assess", 'give a case JSON file or --text "…"')
    if case_file is not None:
        if not case_file.exists():
            raise InputError(f"file not found: {case_file}")
        try:
            raw = json.loads(case_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{case_file} is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise InputError("the case file must hold one JSON object", "see docs/CASE_FORMAT.md")
        raw.setdefault("setting", setting)
        if text:
            raw["text"] = text
        data = raw
    else:
        data = {"text": text, "setting": setting}
    try:
        case = CaseInput.model_validate(data)
    except Exception as exc:
        raise InputError(f"invalid case: {_first_error(exc)}", "see docs/CASE_FORMAT.md") from exc
    result = assess(case)
    if fmt == "json":
        rendered = result.model_dump_json(indent=2)
    elif fmt == "html":
        from spineguide.reasoning.explain import render_html

        rendered = render_html(result)
    else:
        from spineguide.reasoning.explain import render_text

        rendered = render_text(result)
    if output is not None:
        output.write_text(rendered if fmt != "text" else _strip_markup(rendered), encoding="utf-8")
        typer.echo(f"wrote {output}")
    elif fmt == "text":
        from rich.console import Console

        Console().print(rendered, highlight=False)
    else:
        typer.echo(rendered)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return str(exc)


def _strip_markup(text: str) -> str:
    from rich.text import Text

    return Text.from_markup(text).plain


def register(app: typer.Typer) -> None:
    """Attach the `assess` command."""
    app.command("assess")(assess_command)
