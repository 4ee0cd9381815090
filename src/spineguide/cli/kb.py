"""`spineguide kb …`: browse and validate the knowledge base."""

from __future__ import annotations

import json
from typing import Annotated

import typer

kb_app = typer.Typer(help="Browse, validate and audit the knowledge base.", no_args_is_help=True)

COLLECTIONS = ("conditions", "drugs", "therapies", "tests", "findings", "sources", "roots")


@kb_app.command("validate")
def validate() -> None:
    """Load and validate every knowledge-base file; print counts and the version."""
    from spineguide.knowledge.loader import load_knowledge_base

    kb = load_knowledge_base()
    counts = {name: len(getattr(kb, name)) for name in COLLECTIONS}
    typer.echo(f"knowledge base {kb.version}: OK")
    for name, n in counts.items():
        typer.echo(f"  {name:<11} {n}")


@kb_app.command("list")
def list_entries(
    collection: Annotated[str, typer.Argument(help=f"one of: {', '.join(COLLECTIONS)}")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """List the ids and names in one collection."""
    from spineguide.errors import InputError
    from spineguide.knowledge.loader import get_kb

    if collection not in COLLECTIONS:
        raise InputError(
            f"unknown collection {collection!r}", f"use one of {', '.join(COLLECTIONS)}"
        )
    entries = getattr(get_kb(), collection)
    rows = [
        {"id": k, "name": getattr(v, "name", None) or getattr(v, "title", None) or k}
        for k, v in entries.items()
    ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['id']:<40} {row['name']}")


@kb_app.command("show")
def show(
    collection: Annotated[str, typer.Argument(help=f"one of: {', '.join(COLLECTIONS)}")],
    ident: Annotated[str, typer.Argument(help="entry id (see `kb list`)")],
) -> None:
    """Print one entry as JSON."""
    from spineguide.errors import InputError, UnknownCodeError
    from spineguide.knowledge.loader import get_kb

    if collection not in COLLECTIONS:
        raise InputError(
            f"unknown collection {collection!r}", f"use one of {', '.join(COLLECTIONS)}"
        )
    entries = getattr(get_kb(), collection)
    if ident not in entries:
        raise UnknownCodeError(
            f"no {collection} entry {ident!r}", f"run `spineguide kb list {collection}`"
        )
    typer.echo(entries[ident].model_dump_json(indent=2, exclude_defaults=True))


def register(app: typer.Typer) -> None:
    """Attach the `kb` command group to the main app."""
    app.add_typer(kb_app, name="kb")
