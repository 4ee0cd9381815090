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


def test_batch_assess_cohort_triage(tmp_path: Path) -> None:
    rows = [
        {
            "id": "ces",
            "text": "58F, 2 days of saddle numbness and new urinary retention, both legs weak",
        },
        {
            "id": "mech",
            "text": "34M, 5 days of low back pain after lifting, no leg symptoms, walking",
        },
        {"id": "img", "imaging_report": "L4-5: large left paracentral disc extrusion.", "age": 45},
        {"id": "bad-field", "text": "back pain", "mrn": "123"},
        {"id": "ed", "text": "40M, low back pain after a fall", "setting": "emergency"},
    ]
    src = tmp_path / "cohort.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "triage.jsonl"
    result = runner.invoke(app, ["batch", "assess", str(src), "-o", str(out), "--progress"])
    assert result.exit_code == 0, result.output
    assert "5 records, 4 ok, 1 errors" in result.stderr
    assert "100%" in result.stderr  # --progress draws the bar on stderr even without a tty
    got = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert got["ces"]["urgency"] == "emergency"
    assert {f["id"] for f in got["ces"]["red_flags"]} & {"cauda_equina"}
    assert got["mech"]["urgency"] in ("routine", "self_care") and not got["mech"]["red_flags"]
    assert got["img"]["top_diagnoses"] and len(got["img"]["top_diagnoses"]) <= 5
    assert "mrn" in got["bad-field"]["error"]
    assert set(got["mech"]) == {
        "id", "version", "urgency", "red_flags", "top_diagnoses", "roots", "warnings"
    }  # fmt: skip


def test_batch_assess_setting_and_no_progress_off_tty(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "62M, back pain, saddle numbness"}) + "\n")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(
        app, ["batch", "assess", str(src), "-o", str(out), "--setting", "emergency"]
    )
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    assert json.loads(out.read_text())["urgency"] == "emergency"
    bad = runner.invoke(app, ["batch", "assess", str(src), "-o", str(out), "--setting", "ward"])
    assert bad.exit_code != 0 and isinstance(bad.exception, InputError)


def test_batch_partitioned_output_local(tmp_path: Path) -> None:
    src = _input(tmp_path)
    result = runner.invoke(
        app, ["batch", "imaging", str(src), "-o", str(tmp_path / "parts"), "--part-size", "4"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "parts" / "_manifest.json").read_text())
    assert [p["records"] for p in manifest["parts"]] == [4, 4, 3]
    assert manifest["errors"] == 1 and manifest["records"] == 11
