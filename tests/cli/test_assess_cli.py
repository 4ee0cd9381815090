"""CLI: assess and eval cases, including bad input without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spineguide.cli import app

runner = CliRunner()


def test_assess_text_json() -> None:
    result = runner.invoke(
        app,
        ["assess", "--text", "55F, right S1 sciatica, absent right ankle jerk", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["localization"]["roots"][0]["root"] == "S1"


def test_assess_case_file_html(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps({"text": "40M, acute low back pain, no leg pain", "setting": "primary"})
    )
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["assess", str(case), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "does not replace" in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_assess_malformed_json_file(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text("{not json")
    result = runner.invoke(app, ["assess", str(case)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_eval_cases_json(tmp_path: Path) -> None:
    f = tmp_path / "v.jsonl"
    f.write_text(json.dumps({
        "id": "T1", "text": "33M, low back pain 3 days after lifting, no leg pain, neuro normal, no red flags.",
        "expected": {"urgency": ["self_care"], "roots": [], "side": None,
                     "diagnoses_any": ["nonspecific-low-back-pain"]}, "variant": "x"}) + "\n")  # fmt: skip
    result = runner.invoke(app, ["eval", "cases", str(f), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["n"] == 1 and data["top1"] == 1.0 and data["under_triaged_emergencies"] == 0
    assert set(data) >= {"n", "triage_exact", "triage_safe", "under_triaged_emergencies",
                         "root_accuracy", "top1", "top3", "misses"}  # fmt: skip


def test_eval_cases_reports_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "v.jsonl"
    f.write_text('{"id": "A", "text": "x", "expected": {"urgency": ["routine"]}}\nnot json\n')
    result = runner.invoke(app, ["eval", "cases", str(f)])
    assert result.exit_code != 0


def test_real_entry_point_prints_errors_without_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    for args in (
        ["eval", "cases", str(bad)],
        ["assess", "--text", ""],
        ["kb", "show", "drugs", "nope"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "spineguide.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode != 0, args
        assert "Traceback" not in proc.stderr + proc.stdout, args
        assert "error:" in proc.stderr, args
