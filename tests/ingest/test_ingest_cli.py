"""CLI tests for `ingest`, `kb coverage` and `kb contradictions` (bad input never tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spineguide.cli import app
from spineguide.errors import InputError, InputTooLargeError
from spineguide.ingest.template import MAX_ARTICLE_BYTES, ingest_paths

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_ingest_json(articles_dir: Path) -> None:
    result = _run("ingest", str(articles_dir / "dash_bullets.txt"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["file"] == "dash_bullets.txt"
    keys = [s["key"] for s in data["sections"]]
    assert "drugs" in keys and "faqs" in keys
    item = data["sections"][1]["items"][0]
    assert {"file", "section", "heading", "index", "start", "end", "line", "fields"} <= set(item)


def test_ingest_directory_text(articles_dir: Path) -> None:
    result = _run("ingest", str(articles_dir), "--format", "text")
    assert result.exit_code == 0, result.output
    assert "prose.txt" in result.stdout and "numbered_inline.txt" in result.stdout


@pytest.mark.parametrize(
    "setup, message",
    [
        ("missing", "not found"),
        ("emptydir", "no .txt"),
        ("binary", "binary"),
        ("latin1", "not valid UTF-8"),
        ("empty", "empty"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "article.txt"
    if setup == "emptydir":
        target = tmp_path / "nothing"
        target.mkdir()
    elif setup == "binary":
        target.write_bytes(b"\x00\x01\x02PNG")
    elif setup == "latin1":
        target.write_bytes("caf\xe9 au lait".encode("latin-1"))
    elif setup == "empty":
        target.write_text("   \n")
    with pytest.raises(InputError, match=message):
        ingest_paths([target])
    result = _run("ingest", str(target))
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)  # main() prints it without a traceback


def test_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("a" * (MAX_ARTICLE_BYTES + 1))
    with pytest.raises(InputTooLargeError):
        ingest_paths([big])


def test_main_prints_errors_without_traceback(tmp_path: Path, capsys, monkeypatch) -> None:
    from spineguide.cli import main

    monkeypatch.setattr("sys.argv", ["spineguide", "ingest", str(tmp_path / "nope.txt")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error: article file not found" in err and "Traceback" not in err


def test_bad_format(articles_dir: Path) -> None:
    result = _run("ingest", str(articles_dir / "prose.txt"), "--format", "xml")
    assert isinstance(result.exception, InputError)


def test_coverage_json_shape(articles_dir: Path) -> None:
    result = _run("kb", "coverage", str(articles_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("items", "matched", "coverage", "unmatched", "omitted", "per_article"):
        assert key in data
    assert 0.0 <= data["coverage"] <= 1.0
    assert data["items"] > 0
    first = data["unmatched"][0]
    assert {"source", "section", "index", "title", "reason"} <= set(first)


def test_coverage_min_threshold(articles_dir: Path) -> None:
    result = _run("kb", "coverage", str(articles_dir), "--min-coverage", "1.0")
    assert result.exit_code == 1  # synthetic articles are not in the KB
    result = _run("kb", "coverage", str(articles_dir), "--min-coverage", "0")
    assert result.exit_code == 0
    result = _run("kb", "coverage", str(articles_dir), "--min-coverage", "7")
    assert isinstance(result.exception, InputError)


def test_coverage_missing_dir(tmp_path: Path) -> None:
    result = _run("kb", "coverage", str(tmp_path / "none"))
    assert isinstance(result.exception, InputError)


def test_contradictions_runs() -> None:
    result = _run("kb", "contradictions", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "contradictions" in data and data["count"] == len(data["contradictions"])
    text = _run("kb", "contradictions")
    assert text.exit_code == 0


def test_contradictions_with_articles(articles_dir: Path) -> None:
    result = _run("kb", "contradictions", "--articles", str(articles_dir), "--format", "json")
    assert result.exit_code == 0, result.output
