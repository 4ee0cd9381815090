"""`spineguide ehr add|list|remove`: the EHRs trusted to call the CDS Hooks service.

An EHR is identified by the `iss` of the JWTs it signs. Give its keys either as a JWKS URL
(`--jku`, https; repeat for several allow-listed URLs) or as a JWKS file of public keys
(`--jwks-file`). Entries live in the database, so every worker sees them at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spineguide.cli.serve import DbUrlOption, _engine, upgrade_database

ehr_app = typer.Typer(help="EHRs trusted to call the CDS Hooks service.", no_args_is_help=True)


def _sessions(database_url: str | None):  # type: ignore[no-untyped-def]
    from spineguide.store import db

    upgrade_database(database_url)
    engine = _engine(database_url)
    return engine, db.make_session_factory(engine)


@ehr_app.command("add")
def ehr_add(
    issuer: Annotated[str, typer.Argument(help="the EHR's JWT issuer (iss), usually a URL")],
    jku: Annotated[
        list[str] | None, typer.Option("--jku", help="allow-listed JWKS URL (https; repeatable)")
    ] = None,
    jwks_file: Annotated[
        Path | None, typer.Option("--jwks-file", help="JSON file with the EHR's public JWKS")
    ] = None,
    label: Annotated[str | None, typer.Option(help="a name for people")] = None,
    rate_per_minute: Annotated[int, typer.Option(help="calls allowed per minute")] = 120,
    database_url: DbUrlOption = None,
) -> None:
    """Trust an EHR (or replace the keys of one already trusted)."""
    from spineguide.api.cds_auth import check_key_url, public_key_set
    from spineguide.cli import fail
    from spineguide.store import repository as repo

    if not 1 <= len(issuer) <= 300:
        fail("the issuer must be 1-300 characters")
    if not jku and jwks_file is None:
        fail(
            "give the EHR's keys",
            "use --jku https://ehr.example/jwks.json or --jwks-file keys.json",
        )
    if not 1 <= rate_per_minute <= 100_000:
        fail("--rate-per-minute must be between 1 and 100000")
    urls = list(jku or [])
    try:
        for url in urls:
            check_key_url(url)
        if len(" ".join(urls)) > 1000:
            raise ValueError("the JWKS URLs are too long (1000 characters in all)")
        jwks = None
        if jwks_file is not None:
            jwks = public_key_set(json.loads(jwks_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        fail(str(exc) if not isinstance(exc, OSError) else f"cannot read {jwks_file}")
        return
    engine, sf = _sessions(database_url)
    try:
        with sf.begin() as s:
            repo.upsert_ehr(s, issuer, " ".join(urls) or None, jwks, label, rate_per_minute)
    finally:
        engine.dispose()
    keys = f"{len(jwks['keys'])} configured key(s)" if jwks else "keys from the JWKS URL"
    typer.echo(f"trusted EHR {issuer} ({keys}; {rate_per_minute} calls/min)")


@ehr_app.command("list")
def ehr_list(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    database_url: DbUrlOption = None,
) -> None:
    """List the trusted EHRs stored in the database."""
    from spineguide.store import repository as repo

    engine, sf = _sessions(database_url)
    try:
        with sf() as s:
            rows = [
                {
                    "issuer": r.issuer,
                    "jku": (r.jku or "").split(),
                    "keys": len((r.jwks or {}).get("keys", [])),
                    "label": r.label,
                    "rate_per_minute": r.rate_per_minute,
                    "active": r.active,
                }
                for r in repo.list_ehrs(s)
            ]
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no trusted EHRs (add one with `spineguide ehr add`)")
    for r in rows:
        where = ", ".join(r["jku"]) or f"{r['keys']} configured key(s)"
        typer.echo(f"{r['issuer']}  [{where}]  {r['rate_per_minute']}/min  {r['label'] or ''}")


@ehr_app.command("remove")
def ehr_remove(
    issuer: Annotated[str, typer.Argument(help="the EHR's issuer (iss)")],
    database_url: DbUrlOption = None,
) -> None:
    """Stop trusting an EHR (its JWTs are refused from the next call on)."""
    from spineguide.cli import fail
    from spineguide.store import repository as repo

    engine, sf = _sessions(database_url)
    try:
        with sf.begin() as s:
            removed = repo.remove_ehr(s, issuer)
    finally:
        engine.dispose()
    if not removed:
        fail(f"no trusted EHR {issuer!r}", "see `spineguide ehr list`")
    typer.echo(f"removed EHR {issuer}")


def register(app: typer.Typer) -> None:
    """Add `ehr` to the CLI."""
    app.add_typer(ehr_app, name="ehr")
