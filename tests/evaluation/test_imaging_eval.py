"""Imaging evaluation: tuple matching, scores, misses and bad-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spineguide.errors import InputError
from spineguide.evaluation.imaging_eval import (
    EvalCase,
    evaluate,
    evaluate_file,
    format_text,
    load_cases,
    match_tuples,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "imaging_reports.jsonl"
DEV = Path(__file__).resolve().parents[3] / "shared" / "imaging" / "dev_reports.jsonl"


def test_match_is_one_to_one() -> None:
    a = ("L4-L5", "left", "foraminal_stenosis", "mild")
    b = ("L4-L5", "right", "foraminal_stenosis", "mild")
    matched, missed, extra = match_tuples([a, a, b], [a, b, b])
    assert matched == [a, b]
    assert missed == [a]
    assert extra == [b]


def test_scores_and_misses() -> None:
    cases = [
        EvalCase(
            id="r1",
            text="unused",
            expected=[
                {"level": "L4-L5", "side": "central", "finding": "disc_bulge", "severity": "mild"},
                {"level": None, "side": "central", "finding": "fracture", "severity": "none"},
            ],
        )
    ]

    def fake(_text: str) -> list[dict]:
        return [
            {
                "level": "L4-L5",
                "side": "central",
                "finding": "disc_bulge",
                "severity": "mild",
                "negated": False,
            },
            {"level": "L1", "side": "central", "finding": "fracture", "severity": "mild"},
        ]

    result = evaluate(cases, fake)
    assert (result.n, result.tp, result.fp, result.fn) == (1, 1, 1, 1)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.5)
    assert result.f1 == pytest.approx(0.5)
    assert {(m.kind, m.report_id, m.level) for m in result.misses} == {
        ("false_negative", "r1", None),
        ("false_positive", "r1", "L1"),
    }
    assert result.per_finding["disc_bulge"].f1 == 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "x", "expected": []}\n{bad json\n', ":2: malformed JSON"),
        ('{"id": "a", "expected": []}\n', ":1: missing field 'text'"),
        ('{"id": "a", "text": "x", "expected": [{"level": "L4-L5"}]}\n', ":1: each expected"),
        ("[1, 2]\n", ":1: expected a JSON object"),
    ],
)
def test_bad_lines_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_cases(path)


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_cases(tmp_path / "nope.jsonl")


def test_added_ids_are_listed_not_scored() -> None:
    case = EvalCase(
        id="r2",
        text="Large left psoas abscess. L4-5: mild disc bulge.",
        expected=[
            {"level": "L4-L5", "side": "central", "finding": "disc_bulge", "severity": "mild"},
        ],
    )
    result = evaluate([case])
    assert (result.tp, result.fp, result.fn) == (1, 0, 0)
    assert [(m.kind, m.finding) for m in result.not_scored] == [("predicted", "psoas_abscess")]
    text = format_text(result)
    assert "outside the annotation scheme (not scored)" in text
    assert "psoas_abscess" in text


BLIND = Path(__file__).resolve().parents[1] / "data" / "blind_reports.jsonl"


@pytest.mark.parametrize("path", [DATA, DEV], ids=["corpus", "dev"])
def test_extractor_meets_target(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not available")
    result = evaluate_file(path)
    assert result.f1 >= 0.95, [m.model_dump() for m in result.misses]
    assert result.negated_reported_present == 0


def test_blind_set_is_well_formed_and_scores() -> None:
    cases = load_cases(BLIND)
    assert len(cases) == 40
    result = evaluate(cases)
    assert result.negated_reported_present == 0
    assert result.f1 >= 0.9, [m.model_dump() for m in result.misses]


def test_cli_eval_json(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from spineguide.cli.imaging import register, register_eval

    app = typer.Typer()
    eval_app = typer.Typer()
    register(app)
    register_eval(eval_app)
    app.add_typer(eval_app, name="eval")
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "imaging", str(DATA), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"n", "precision", "recall", "f1", "per_finding", "misses"} <= set(data)
    parsed = runner.invoke(
        app, ["imaging", "parse", "--text", "L4-5: small left protrusion.", "--format", "json"]
    )
    assert parsed.exit_code == 0
    assert json.loads(parsed.output)["findings"][0]["finding"] == "disc_protrusion"
