"""`spineguide assess`: one presentation in, triage, root, differential, work-up and plan out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def assess_command(
    case_file: Annotated[
        Path | None, typer.Argument(help="case JSON file (see docs/CASE_FORMAT.md)")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="free-text presentation")] = None,
    setting: Annotated[
        str | None,
        typer.Option(
            help="primary, emergency or spine-clinic (default: the setting the note states, "
            "else primary)"
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or html")] = "text",
    detail: Annotated[
        str,
        typer.Option(
            help="summary (evidence for the leading diagnoses) or full (for every diagnosis)"
        ),
    ] = "summary",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file")
    ] = None,
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            help="answer a follow-up question: FINDING_ID=yes|no (repeatable)",
        ),
    ] = None,
    med: Annotated[
        list[str] | None,
        typer.Option("--med", help='a current medicine, e.g. "naproxen 500 mg bd" (repeatable)'),
    ] = None,
) -> None:
    """Assess a presentation from a case JSON file (or a plain-text note) or from --text."""
    from spineguide.errors import InputError
    from spineguide.reasoning.assess import CaseInput, assess

    if fmt not in ("text", "json", "html"):
        raise InputError(f"unknown format {fmt!r}", "use --format text, json or html")
    if detail not in ("summary", "full"):
        raise InputError(f"unknown detail {detail!r}", "use --detail summary or --detail full")
    if setting is not None and setting not in ("primary", "emergency", "spine-clinic"):
        raise InputError(f"unknown setting {setting!r}", "use primary, emergency or spine-clinic")
    if case_file is None and text is None:
        raise InputError("nothing to assess", 'give a case JSON file or --text "…"')
    if case_file is not None:
        if not case_file.exists():
            raise InputError(f"file not found: {case_file}")
        data = _read_case_file(case_file, text)
        if setting is not None:
            data.setdefault("setting", setting)
    else:
        data = {"text": text, **({"setting": setting} if setting is not None else {})}
    if answer:
        data["evidence"] = list(data.get("evidence") or []) + parse_answers(answer)
    if med:
        data["medications"] = list(data.get("medications") or []) + [m for m in med if m.strip()]
    try:
        case = CaseInput.model_validate(data)
    except Exception as exc:
        raise InputError(f"invalid case: {_first_error(exc)}", "see docs/CASE_FORMAT.md") from exc
    result = assess(case, detail="full" if detail == "full" else "summary")
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


def _read_case_file(path: Path, text: str | None) -> dict[str, Any]:
    """A case from a JSON file, or from a plain-text note (read as the presentation text)."""
    from spineguide.errors import InputError

    try:
        raw_text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not a text file", "give a case JSON file or a .txt note"
        ) from exc
    stripped = raw_text.lstrip()
    if not stripped.startswith(("{", "[")):
        if not stripped:
            raise InputError(f"{path} is empty", 'give a case JSON file or --text "…"')
        # A plain clinical note: assess it as free text (same as --text "$(cat note.txt)").
        return {"text": raw_text if not text else f"{raw_text}\n{text}"}
    try:
        raw = json.loads(raw_text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path} is not valid JSON: {exc}",
            f'for a plain-text note use --text "$(cat {path})" or save it as .txt',
        ) from exc
    if not isinstance(raw, dict):
        raise InputError("the case file must hold one JSON object", "see docs/CASE_FORMAT.md")
    if text:
        raw["text"] = text
    return raw


def parse_answers(answers: list[str]) -> list[dict[str, str]]:
    """`FINDING_ID=yes|no` strings → evidence items (present/absent); bad input names the fix."""
    from spineguide.errors import InputError
    from spineguide.knowledge.loader import get_kb

    kb = get_kb()
    out: list[dict[str, str]] = []
    for raw in answers:
        fid, sep, value = raw.partition("=")
        fid, value = fid.strip(), value.strip().lower()
        if not sep or not fid:
            raise InputError(
                f"--answer {raw!r}: expected FINDING_ID=yes|no", "e.g. --answer fever=no"
            )
        if value not in ("yes", "no", "y", "n", "present", "absent", "true", "false"):
            raise InputError(f"--answer {raw!r}: the answer must be yes or no")
        if fid not in kb.findings:
            raise InputError(
                f"--answer {raw!r}: unknown finding id {fid!r}",
                "use the finding_id of a listed question, or `spineguide kb list findings`",
            )
        choice = "present" if value in ("yes", "y", "present", "true") else "absent"
        out.append({"id": fid, "choice": choice, "source": "structured"})
    return out


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
