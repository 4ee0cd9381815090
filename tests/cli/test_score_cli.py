"""`spineguide score …` through typer's CliRunner, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from spineguide.cli import app

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "instruments"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["score", *args], input=stdin)


def run_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def test_score_group_is_registered() -> None:
    result = runner.invoke(app, ["score", "--help"])
    assert result.exit_code == 0
    for command in ("odi", "startback", "rmdq", "nrs", "change"):
        assert command in result.stdout


def test_odi_text_and_json() -> None:
    text = run("odi", str(DATA / "odi_one_missing.json"))
    assert text.exit_code == 0
    assert "35.6 %" in text.stdout and "16/45" in text.stdout
    assert "Moderate disability" in text.stdout
    assert "sex_life" in text.stdout
    assert "expert estimate" in text.stdout  # the missing-section limit
    data = run_json("odi", str(DATA / "odi_complete.json"))
    assert data["instrument"] == "odi" and data["version"] == "2.1a"
    assert data["index_percent"] == 32.0 and data["band"] == "moderate"
    assert data["sources"] == ["fairbank-2000-odi"]


def test_odi_from_stdin() -> None:
    payload = json.dumps({"answers": [5] * 10})
    result = run("odi", "-", "--format", "json", stdin=payload)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["band"] == "bed_bound_or_exaggerating"


def test_startback_json() -> None:
    data = run_json("startback", str(DATA / "startback_high.json"))
    assert data["risk"] == "high" and data["total"] == 4 and data["psychosocial_subscore"] == 4
    text = run("startback", str(DATA / "startback_medium.json"))
    assert text.exit_code == 0 and "risk: medium" in text.stdout


def test_rmdq_text() -> None:
    result = run("rmdq", str(DATA / "rmdq_answers.json"))
    assert result.exit_code == 0
    assert "score: 8/24" in result.stdout
    assert "not applicable (scored as no): 5, 23" in result.stdout


@pytest.mark.parametrize(
    ("args", "severity", "scheme"),
    [
        (("7",), "severe", "palos"),
        (("4", "--scheme", "physio-canada"), "moderate", "physio-canada"),
        (("6", "--scheme", "boonstra"), "moderate", "boonstra"),
        (("0",), "none", "palos"),
    ],
)
def test_nrs(args: tuple[str, ...], severity: str, scheme: str) -> None:
    data = run_json("nrs", *args)
    assert data["severity"] == severity and data["scheme"] == scheme


def test_change_with_numbers_and_files() -> None:
    data = run_json("change", "odi", "40", "30")
    assert data["verdict"] == "improved"
    assert data["absolute_change"] == -10 and data["percent_change"] == -25.0
    assert data["sources"] == ["ostelo-2008"]
    # 32 % (file) → 22 %: exactly 10 points
    files = run_json("change", "odi", str(DATA / "odi_complete.json"), "22")
    assert files["verdict"] == "improved"
    rmdq = run_json("change", "rmdq", str(DATA / "rmdq_ticked.json"), "12")
    assert rmdq["verdict"] == "no_important_change" and rmdq["absolute_change"] == 4
    text = run("change", "nrs", "5", "7")
    assert text.exit_code == 0 and "verdict: worsened" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("odi", str(DATA / "malformed.json")), "not valid JSON"),
        (("odi", str(DATA / "odi_three_missing.json")), "3 unanswered sections"),
        (("odi", str(DATA / "odi_out_of_range.json")), "pain_intensity"),
        (("odi", str(DATA / "no_such_file.json")), "no such file"),
        (("startback", str(DATA / "startback_maybe.json")), "'maybe'"),
        (("startback", str(DATA / "odi_complete.json")), "version '2.1a' is not supported"),
        (("startback", str(DATA / "odi_list_two_missing.json")), "needs 9 answers, got 10"),
        (("rmdq", str(DATA / "startback_low.json")), "needs 24 answers"),
        (("nrs", "11"), "outside 0–10"),
        (("nrs", "seven"), "not a number"),
        (("nrs", "5", "--scheme", "who"), "unknown NRS severity scheme"),
        (("odi", str(DATA / "odi_complete.json"), "--format", "xml"), "unknown output format"),
        (("change", "startback", "5", "3"), "not defined"),
        (("change", "sf36", "5", "3"), "not defined"),
        (("change", "odi", "40", "nowhere.json"), "neither a number nor an existing file"),
        (("change", "nrs", "7", "12"), "outside 0–10"),
        (("change", "odi", str(DATA / "malformed.json"), "20"), "not valid JSON"),
    ],
)
def test_bad_input_is_a_clean_error(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_non_utf8_file(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"answers": "\xe9"}')
    result = run("odi", str(bad))
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_json_list_at_top_level_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "odi_list.json"
    path.write_text(json.dumps([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
    assert run_json("odi", str(path))["index_percent"] == 20.0


def test_instrument_field_must_match_the_command(tmp_path: Path) -> None:
    path = tmp_path / "tagged.json"
    path.write_text(json.dumps({"instrument": "rmdq", "answers": [1] * 10}))
    result = run("odi", str(path))
    assert result.exit_code == 2 and "'rmdq', not 'odi'" in result.stderr
