"""`spineguide eval …`: accuracy on vignette and imaging-report development sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

eval_app = typer.Typer(help="Measure clinical accuracy on evaluation files.", no_args_is_help=True)


@eval_app.command("cases")
def eval_cases(
    file: Annotated[Path, typer.Argument(help="JSONL vignettes (format of dev_vignettes.jsonl)")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    setting: Annotated[
        str | None,
        typer.Option(
            help="primary, emergency or spine-clinic for every vignette without its own "
            "(default: the setting the note states, else primary)"
        ),
    ] = None,
) -> None:
    """Triage, root and diagnosis accuracy on a vignette file, with every miss listed."""
    from spineguide.errors import InputError
    from spineguide.evaluation.cases_eval import evaluate_cases

    if setting is not None and setting not in ("primary", "emergency", "spine-clinic"):
        raise InputError(f"unknown setting {setting!r}", "use primary, emergency or spine-clinic")

    report = evaluate_cases(file, setting)
    if fmt == "json":
        typer.echo(json.dumps(report.model_dump(exclude={"results"}), indent=2))
        return
    for miss in report.misses:
        typer.echo(f"miss {miss['id']}: " + "; ".join(miss["problems"]))
    root = (
        f"{report.root_accuracy:.1%} (n={report.root_n})"
        if report.root_accuracy is not None
        else "n/a"
    )
    typer.echo(f"vignettes: {report.n}")
    typer.echo(f"triage exact: {report.triage_exact:.1%}  safe: {report.triage_safe:.1%}  "
               f"over-triage of routine: {report.over_triage_rate:.1%}")  # fmt: skip
    typer.echo(f"under-triaged emergencies: {report.under_triaged_emergencies}")
    typer.echo(f"root accuracy: {root}")
    typer.echo(f"diagnosis top-1: {report.top1:.1%}  top-3: {report.top3:.1%}")


def register(app: typer.Typer) -> None:
    """Attach the `eval` command group (cases here; imaging from the imaging module)."""
    from spineguide.cli.imaging import register_eval

    register_eval(eval_app)
    app.add_typer(eval_app, name="eval")
