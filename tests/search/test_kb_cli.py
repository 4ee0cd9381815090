"""`kb show` finds entries by alias; `kb validate --format json` is machine-readable;
`meds check` reads a combination product's tablet count."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spineguide.cli import app

runner = CliRunner()


def test_kb_show_by_alias_and_name() -> None:
    """'paracetamol' is an alias of acetaminophen; names match case-insensitively."""
    result = runner.invoke(app, ["kb", "show", "drugs", "paracetamol"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "acetaminophen"
    result = runner.invoke(app, ["kb", "show", "drugs", "Co-Codamol"])
    assert json.loads(result.stdout)["id"] == "codeine-acetaminophen"
    result = runner.invoke(app, ["kb", "show", "drugs", "not-a-drug"])
    assert result.exit_code != 0  # the main entry point prints the hint (error handling)


def test_kb_validate_json() -> None:
    """--format json gives the version and counts."""
    result = runner.invoke(app, ["kb", "validate", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["counts"]["drugs"] > 10


def test_meds_check_counts_co_codamol_tablets() -> None:
    """'co-codamol 30/500 2 qds' is 240 mg codeine and 4,000 mg paracetamol a day."""
    result = runner.invoke(app, ["meds", "check", "--med", "co-codamol 30/500 2 qds", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    daily = json.loads(result.stdout)["medications"][0]["daily_mg"]
    assert daily == {"codeine": 240.0, "acetaminophen": 4000.0}
