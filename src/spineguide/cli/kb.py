"""`spineguide kb …`: browse and validate the knowledge base."""

from __future__ import annotations

import json
from typing import Annotated

import typer

kb_app = typer.Typer(help="Browse, validate and audit the knowledge base.", no_args_is_help=True)

COLLECTIONS = ("conditions", "drugs", "therapies", "tests", "findings", "sources", "roots")


def _check_format(fmt: str) -> None:
    from spineguide.errors import InputError

    if fmt not in ("text", "json"):
        raise InputError(f"unknown format {fmt!r}", "use --format text or --format json")


@kb_app.command("validate")
def validate(
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Load and validate every knowledge-base file; print counts and the version."""
    from spineguide.errors import KnowledgeBaseError
    from spineguide.knowledge.loader import load_knowledge_base
    from spineguide.reasoning.derive import check_thresholds
    from spineguide.reasoning.questions import check_questions

    _check_format(fmt)
    kb = load_knowledge_base()
    # Triage cut-offs and the question bank are read by the reasoning modules, not the loader.
    problems = check_thresholds(kb) + check_questions(kb)
    if problems:
        raise KnowledgeBaseError(
            f"{len(problems)} problem(s) in the reasoning data: " + "; ".join(problems[:25])
        )
    counts = {name: len(getattr(kb, name)) for name in COLLECTIONS}
    if fmt == "json":
        typer.echo(json.dumps({"version": kb.version, "ok": True, "counts": counts}, indent=2))
        return
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

    _check_format(fmt)
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
    ident: Annotated[str, typer.Argument(help="entry id, name or alias (see `kb list`)")],
    fmt: Annotated[str, typer.Option("--format", help="json (the entry is printed as JSON)")] = (
        "json"
    ),
) -> None:
    """Print one entry as JSON (found by id, name or alias, e.g. `kb show drugs paracetamol`)."""
    from spineguide.errors import InputError, UnknownCodeError
    from spineguide.knowledge.loader import get_kb

    if fmt != "json":
        raise InputError(f"unknown format {fmt!r}", "kb show prints JSON: use --format json")
    if collection not in COLLECTIONS:
        raise InputError(
            f"unknown collection {collection!r}", f"use one of {', '.join(COLLECTIONS)}"
        )
    entries = getattr(get_kb(), collection)
    key = _lookup(entries, ident)
    if key is None:
        raise UnknownCodeError(
            f"no {collection} entry {ident!r}", f"run `spineguide kb list {collection}`"
        )
    typer.echo(entries[key].model_dump_json(indent=2, exclude_defaults=True))


def _norm(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def _lookup(entries: dict, ident: str) -> str | None:
    """The id of the entry whose id, name or alias matches `ident` (case and punctuation free)."""
    if ident in entries:
        return ident
    want = _norm(ident)
    for key, entry in entries.items():
        names = [key, getattr(entry, "name", None) or "", *(getattr(entry, "aliases", None) or [])]
        if any(_norm(str(n)) == want for n in names if n):
            return key
    return None


def register(app: typer.Typer) -> None:
    """Attach the `kb` command group to the main app."""
    app.add_typer(kb_app, name="kb")
