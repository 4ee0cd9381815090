"""`spineguide batch imaging|notes` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spineguide.cli import app
from spineguide.errors import InputError

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"


def _input(tmp_path: Path) -> Path:
    rows = [
        json.loads(x)
        for x in (DATA / "imaging_reports.jsonl").read_text().splitlines()
        if x.strip()
    ]
    lines = [json.dumps({"id": r["id"], "text": r["text"]}) for r in rows[:10]]
    lines.insert(3, "{broken")
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_imaging_two_workers(tmp_path: Path) -> None:
    src, out = _input(tmp_path), tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", "imaging", str(src), "-o", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "11 records, 10 ok, 1 errors" in result.stderr
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(got) == 11 and got[3]["error"].startswith("invalid JSON") and got[3]["line"] == 4
    assert all("findings" in g for i, g in enumerate(got) if i != 3)


def test_batch_notes_local(tmp_path: Path) -> None:
    src = tmp_path / "notes.jsonl"
    src.write_text(json.dumps({"id": "n1", "text": "40M back pain, no saddle numbness"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", "notes", str(src), "-o", str(out), "--executor", "local"])
    assert result.exit_code == 0, result.output
    rec = json.loads(out.read_text())
    assert rec["id"] == "n1" and any(e["id"] == "saddle_anesthesia" for e in rec["evidence"])


def test_batch_bad_arguments(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["batch", "imaging", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code != 0 and isinstance(result.exception, InputError)
    src = _input(tmp_path)
    result = runner.invoke(
        app, ["batch", "imaging", str(src), "-o", str(tmp_path / "o"), "--executor", "spark"]
    )
    assert result.exit_code != 0 and isinstance(result.exception, InputError)
