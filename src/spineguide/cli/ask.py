"""`spineguide ask "question"`: answers from the knowledge base, with citations."""

from __future__ import annotations

from typing import Annotated

import typer


def ask_command(
    question: Annotated[str, typer.Argument(help="the question, in quotes")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    top: Annotated[int, typer.Option("--top", help="passages to list (1-20)")] = 3,
) -> None:
    """Answer a question from the knowledge base, with citations (red-flag advice first)."""
    from spineguide.errors import InputError
    from spineguide.search.answer import answer_question, render_text

    if fmt not in ("text", "json"):
        raise InputError(f"unknown format {fmt!r}", "use --format text or --format json")
    answer = answer_question(question, top=top)
    if fmt == "json":
        typer.echo(answer.model_dump_json(indent=2))
    else:
        typer.echo(render_text(answer))


def register(app: typer.Typer) -> None:
    """Attach the `ask` command to the main app."""
    app.command("ask")(ask_command)
