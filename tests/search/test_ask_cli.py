"""`spineguide ask` through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spineguide.cli import app
from spineguide.errors import InputError

runner = CliRunner()


def test_ask_text() -> None:
    result = runner.invoke(app, ["ask", "how long does recovery take after foraminotomy?"])
    assert result.exit_code == 0, result.output
    assert "weeks" in result.stdout
    assert "foraminotomy" in result.stdout.lower()
    assert "does not replace" in result.stdout


def test_ask_json_with_top() -> None:
    result = runner.invoke(app, ["ask", "is paracetamol safe?", "--format", "json", "--top", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answered"] is True
    assert len(data["results"]) == 5
    assert data["citations"][0]["sources"][0]["title"]
    assert "disclaimer" in data


def test_ask_no_answer_json() -> None:
    result = runner.invoke(app, ["ask", "what is the capital of France?", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["answered"] is False


def test_ask_red_flag_first() -> None:
    result = runner.invoke(app, ["ask", "I suddenly can't pee and my bottom feels numb"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("!! EMERGENCY")


@pytest.mark.parametrize(
    "args", [["ask", ""], ["ask", "x" * 5000], ["ask", "sciatica", "--format", "xml"]]
)
def test_ask_bad_input(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
