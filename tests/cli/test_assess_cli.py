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


def test_assess_plain_text_note_file(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(
        "52-year-old man on apixaban, sudden severe mid-back pain since this morning.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["assess", str(note), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["triage"]["urgency"] == "emergency"


def test_assess_answer_changes_urgency_and_lists_questions() -> None:
    text = "37-year-old woman, four days of low back pain after moving furniture."
    base = runner.invoke(app, ["assess", "--text", text, "--format", "json"])
    assert base.exit_code == 0, base.output
    data = json.loads(base.output)
    assert data["triage"]["urgency"] == "routine"
    assert data["next_questions"] and set(data["next_questions"][0]) == {
        "finding_id", "question", "why", "changes", "gain",
    }  # fmt: skip
    answers = [
        "--answer", "saddle_anesthesia=no", "--answer", "bladder_dysfunction=no",
        "--answer", "leg_weakness_reported=no", "--answer", "fever=no",
    ]  # fmt: skip
    calm = runner.invoke(app, ["assess", "--text", text, "--format", "json", *answers])
    assert json.loads(calm.output)["triage"]["urgency"] == "self_care"
    urgent = runner.invoke(
        app, ["assess", "--text", text, "--format", "json", "--answer", "saddle_anesthesia=yes"]
    )
    assert json.loads(urgent.output)["triage"]["urgency"] == "emergency"


def test_assess_text_output_shows_ask_next() -> None:
    result = runner.invoke(app, ["assess", "--text", "Low back pain for a week, 30-year-old man."])
    assert result.exit_code == 0, result.output
    assert "Ask next" in result.output


def test_assess_bad_answer_is_a_clear_error() -> None:
    result = runner.invoke(app, ["assess", "--text", "back pain", "--answer", "fevr=yes"])
    assert result.exit_code != 0
    assert "unknown finding id" in str(result.exception)
    result = runner.invoke(app, ["assess", "--text", "back pain", "--answer", "fever=maybe"])
    assert result.exit_code != 0 and "yes or no" in str(result.exception)


def test_assess_med_option_feeds_the_medication_check() -> None:
    result = runner.invoke(
        app,
        ["assess", "--text", "70-year-old woman with low back pain for 3 weeks.", "--format",
         "json", "--med", "warfarin 5 mg od", "--med", "naproxen 500 mg bd"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["medication_report"] is not None
    assert data["medication_alerts"], "warfarin with naproxen must raise an alert"


def test_assess_detail_full_explains_every_diagnosis() -> None:
    note = "38F, left L5 sciatica for 2 weeks, weak big toe extension 4/5, no red flags"
    summary = runner.invoke(app, ["assess", "--text", note, "--format", "json"])
    full = runner.invoke(app, ["assess", "--text", note, "--format", "json", "--detail", "full"])
    assert summary.exit_code == full.exit_code == 0, summary.output + full.output
    s, f = json.loads(summary.output), json.loads(full.output)
    assert [d["id"] for d in s["differential"]] == [d["id"] for d in f["differential"]]
    assert all(d["explained"] for d in f["differential"])
    assert not all(d["explained"] for d in s["differential"])


def test_assess_unknown_detail_is_a_clear_error() -> None:
    result = runner.invoke(app, ["assess", "--text", "back pain", "--detail", "verbose"])
    assert result.exit_code != 0
    assert "unknown detail" in str(result.exception)  # main() prints it without a traceback


def test_assess_reads_the_setting_from_the_note_unless_one_is_given() -> None:
    note = "Attended the emergency department with sudden severe back pain after lifting"
    read = runner.invoke(app, ["assess", "--text", note, "--format", "json"])
    forced = runner.invoke(
        app, ["assess", "--text", note, "--format", "json", "--setting", "primary"]
    )
    assert read.exit_code == forced.exit_code == 0, read.output + forced.output
    assert json.loads(read.output)["setting"] == "emergency"
    assert json.loads(forced.output)["setting"] == "primary"
    plain = runner.invoke(app, ["assess", "--text", "back ache for a week", "--format", "json"])
    assert json.loads(plain.output)["setting"] == "primary"


def test_eval_cases_uses_the_note_setting_unless_told(tmp_path: Path, monkeypatch) -> None:
    from spineguide.evaluation.cases_eval import evaluate_cases
    from spineguide.reasoning import assess as assess_module

    seen: list[str] = []
    real = assess_module.assess

    def spy(case, *args, **kwargs):  # record the setting the assessment ended up using
        result = real(case, *args, **kwargs)
        seen.append(result.setting)
        return result

    monkeypatch.setattr(assess_module, "assess", spy)
    vignette = {
        "id": "T-ED-1",
        "text": "Brought in by ambulance to the emergency department: 70M, sudden tearing back pain",
        "expected": {"urgency": ["emergency", "urgent"], "roots": [], "side": None,
                     "diagnoses_any": ["abdominal-aortic-aneurysm", "aortic-dissection"]},
    }  # fmt: skip
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(vignette) + "\n", encoding="utf-8")
    evaluate_cases(path)
    evaluate_cases(path, "primary")
    assert seen == ["emergency", "primary"]
    result = runner.invoke(app, ["eval", "cases", str(path), "--setting", "clinic"])
    assert result.exit_code != 0 and "unknown setting" in str(result.exception)
