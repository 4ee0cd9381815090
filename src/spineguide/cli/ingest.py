"""`spineguide ingest …`, `spineguide kb coverage …` and `spineguide kb contradictions`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from spineguide.cli.kb import kb_app

FORMATS = ("json", "text")


def _check_format(fmt: str) -> None:
    from spineguide.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", "use --format json or --format text")


def _load_kb_or_none(warnings: list[str]) -> Any | None:
    """Load the knowledge base; on a data error keep going without it and say so."""
    from spineguide.errors import KnowledgeBaseError
    from spineguide.knowledge.loader import load_knowledge_base

    try:
        return load_knowledge_base()
    except KnowledgeBaseError as exc:
        warnings.append(f"knowledge base not loaded ({exc.message}); source ids are null")
        return None


def ingest(
    articles: Annotated[list[Path], typer.Argument(help="article .txt files or directories")],
    fmt: Annotated[str, typer.Option("--format", help="json (default) or text")] = "json",
) -> None:
    """Parse seed-template articles into sections and items with provenance."""
    from spineguide.ingest.template import expand_paths, ingest_file

    _check_format(fmt)
    paths = expand_paths(list(articles))
    warnings: list[str] = []
    kb = _load_kb_or_none(warnings)
    parsed = [ingest_file(p, kb) for p in paths]
    for art in parsed:
        art.warnings += warnings
    if fmt == "json":
        payload = [a.model_dump(mode="json") for a in parsed]
        typer.echo(
            json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2)
        )
        return
    for art in parsed:
        total = sum(len(s.items) for s in art.sections)
        typer.echo(f"{art.file}  source={art.source_id or '-'}  layout={art.layout}  items={total}")
        for sec in art.sections:
            typer.echo(f"  {sec.key:<22} {len(sec.items):>3}  ({'; '.join(sec.headings)})")
        if art.skipped:
            typer.echo("  skipped: " + ", ".join(f"{s.kind}@{s.line}" for s in art.skipped))
        for w in art.warnings:
            typer.echo(f"  warning: {w}")


def coverage(
    directory: Annotated[Path, typer.Argument(help="directory of article .txt files (or a file)")],
    fmt: Annotated[str, typer.Option("--format", help="text (default) or json")] = "text",
    min_coverage: Annotated[
        float | None,
        typer.Option("--min-coverage", help="exit 1 when coverage (0–1) is below this"),
    ] = None,
) -> None:
    """Match every article item to a KB entry, field by field, and report coverage."""
    from spineguide.errors import InputError
    from spineguide.ingest.coverage import coverage_report, render_text
    from spineguide.ingest.template import ingest_paths
    from spineguide.knowledge.loader import load_knowledge_base

    _check_format(fmt)
    if min_coverage is not None and not 0 <= min_coverage <= 1:
        raise InputError("--min-coverage must be between 0 and 1", "e.g. --min-coverage 0.95")
    kb = load_knowledge_base()
    articles = ingest_paths([directory], kb)
    report = coverage_report(articles, kb)
    if fmt == "json":
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(render_text(report))
    if min_coverage is not None and report.coverage < min_coverage:
        raise typer.Exit(1)


def contradictions(
    fmt: Annotated[str, typer.Option("--format", help="text (default) or json")] = "text",
    articles: Annotated[
        Path | None,
        typer.Option("--articles", help="also compare doses in these ingested articles"),
    ] = None,
) -> None:
    """List where articles, drug labels and guidelines disagree."""
    from spineguide.ingest.contradictions import find_contradictions, render_text
    from spineguide.ingest.template import ingest_paths
    from spineguide.knowledge.loader import load_knowledge_base

    _check_format(fmt)
    kb = load_knowledge_base()
    parsed = ingest_paths([articles], kb) if articles is not None else None
    report = find_contradictions(kb, parsed)
    if fmt == "json":
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(render_text(report))


def register(app: typer.Typer) -> None:
    """Add `ingest` to the main app and `coverage`/`contradictions` to the `kb` group."""
    app.command("ingest")(ingest)
    kb_app.command("coverage")(coverage)
    kb_app.command("contradictions")(contradictions)
