"""`spineguide imaging parse` reads through the one extractor and prints what the reader found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spineguide.cli import app
from spineguide.text.imaging import parse_imaging_report

ROOT = Path(__file__).resolve().parents[2]
REPORTS = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "one_extractor_reports.jsonl").read_text().splitlines()
    if line.strip()
]
runner = CliRunner()


@pytest.mark.parametrize("record", REPORTS, ids=[r["id"] for r in REPORTS])
def test_json_output_is_the_whole_report(record: dict[str, str]) -> None:
    """--format json prints the full ImagingReport (findings, sections, warnings, uninterpreted)."""
    result = runner.invoke(app, ["imaging", "parse", "--text", record["text"], "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.output == parse_imaging_report(record["text"]).model_dump_json(indent=2) + "\n"


@pytest.mark.parametrize("record", REPORTS, ids=[r["id"] for r in REPORTS])
def test_text_output_lists_every_finding_in_order(record: dict[str, str], tmp_path: Path) -> None:
    """--format text prints one line per finding, then each phrase it could not interpret."""
    src = tmp_path / "report.txt"
    src.write_text(record["text"], encoding="utf-8")
    result = runner.invoke(app, ["imaging", "parse", "--file", str(src)])
    assert result.exit_code == 0, result.output
    report = parse_imaging_report(record["text"])
    lines = result.output.splitlines()
    if not report.findings:
        assert lines[0] == "no findings"
        lines = lines[1:]
    assert len(lines) == len(report.findings) + len(report.uninterpreted)
    for line, f in zip(lines, report.findings, strict=False):
        assert line.split()[:3] == [f.level or "-", f.side or "-", f.finding]
        assert ("negated" in line) == f.negated
        assert (f.section in line) == (f.section != "findings")
    rest = lines[len(report.findings) :]
    assert rest == [
        f"not interpreted: {u.text!r} at {u.span[0]}-{u.span[1]} ({u.reason})"
        for u in report.uninterpreted
    ]


def test_sectioned_report_lines() -> None:
    """An impression-only finding is marked as such; a negated canal stenosis says so."""
    text = next(r["text"] for r in REPORTS if r["id"] == "sectioned")
    out = runner.invoke(app, ["imaging", "parse", "--text", text]).output.splitlines()
    assert any(
        ln.split()[:3] == ["L3-L4", "central", "canal_stenosis"] and "negated" in ln for ln in out
    )
    assert any(
        ln.split()[:3] == ["L4-L5", "left", "disc_extrusion"] and ln.endswith("impression")
        for ln in out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", "   "], "the report text is empty"),
        ([], "give exactly one of --text or --file"),
        (["--file", "/nonexistent/report.txt"], "file not found"),
        (["--text", "L4-5 bulge", "--format", "xml"], "unknown format"),
    ],
)
def test_bad_input_is_a_clear_error_without_traceback(args: list[str], message: str) -> None:
    """The installed entry point prints `error: …` and exits 2; no traceback reaches the user."""
    proc = subprocess.run(
        [sys.executable, "-m", "spineguide.cli", "imaging", "parse", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
