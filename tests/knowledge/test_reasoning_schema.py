"""Reasoning models (differential, localization, workup, plan) are validated at load, with FILE:LINE."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import DATA_DIR, load_knowledge_base
from spineguide.knowledge.reasoning_schema import line_map


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the knowledge-base data directory to corrupt."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _corrupt(path: Path, old: str, new: str) -> int:
    """Replace the first occurrence of `old` and return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    i = text.index(old)
    path.write_text(text[:i] + new + text[i + len(old) :], encoding="utf-8")
    return text.count("\n", 0, i) + 1


def _fails_at(data_dir: Path, filename: str, line: int, needle: str) -> None:
    with pytest.raises(KnowledgeBaseError) as exc:
        load_knowledge_base(data_dir)
    message = str(exc.value)
    assert f"{filename}:{line}:" in message, message[:600]
    assert needle in message


def test_shipped_reasoning_models_are_valid() -> None:
    kb = load_knowledge_base()
    assert {"differential", "localization", "workup", "plan"} <= set(kb.raw)


def test_misspelt_finding_in_differential_fails_with_line(data_copy: Path) -> None:
    line = _corrupt(
        data_copy / "differential.yaml",
        "{finding: saddle_anesthesia, lr: 30",
        "{finding: saddle_anaesthesia_typo, lr: 30",
    )
    _fails_at(data_copy, "differential.yaml", line, "saddle_anaesthesia_typo")


def test_misspelt_finding_in_a_differential_gate_fails(data_copy: Path) -> None:
    line = _corrupt(
        data_copy / "differential.yaml", "any: [radicular_pain,", "any: [radiculr_pain,"
    )
    _fails_at(data_copy, "differential.yaml", line, "radiculr_pain")


def test_misspelt_finding_in_localization_fails_with_line(data_copy: Path) -> None:
    line = _corrupt(
        data_copy / "localization.yaml",
        "  achilles_reflex_reduced:",
        "  achilles_reflex_reducd:",
    )
    _fails_at(data_copy, "localization.yaml", line, "achilles_reflex_reducd")


def test_misspelt_diagnosis_in_workup_fails_with_line(data_copy: Path) -> None:
    path = data_copy / "workup.yaml"
    text = path.read_text(encoding="utf-8")
    m = re.search(r"top_in: \[([a-z-]+)", text)
    assert m, "workup.yaml has a top_in rule"
    line = _corrupt(path, m.group(0), m.group(0) + "x")
    _fails_at(data_copy, "workup.yaml", line, m.group(1) + "x")


def test_misspelt_diagnosis_in_plan_fails_with_line(data_copy: Path) -> None:
    line = _corrupt(data_copy / "plan.yaml", "nerve-root-compression,", "nerve-root-compresion,")
    _fails_at(data_copy, "plan.yaml", line, "nerve-root-compresion")


def test_unknown_source_fails(data_copy: Path) -> None:
    line = _corrupt(
        data_copy / "differential.yaml", "source: williams-2013-fracture", "source: nowhere-2099"
    )
    _fails_at(data_copy, "differential.yaml", line, "nowhere-2099")


def test_unknown_key_and_bad_prior_fail(data_copy: Path) -> None:
    path = data_copy / "differential.yaml"
    line = _corrupt(path, "prior: {primary: 0.60,", "prior: {primary: 1.60,")
    _fails_at(data_copy, "differential.yaml", line, "between 0 and 1")


def test_misspelt_imaging_finding_fails(data_copy: Path) -> None:
    line = _corrupt(
        data_copy / "differential.yaml",
        "{imaging: hematoma, diagnostic",
        "{imaging: hematom, diagnostic",
    )
    _fails_at(data_copy, "differential.yaml", line, "hematom")


def test_line_map_points_at_keys(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("a:\n  b: 1\n  c:\n    - {d: 2}\n    - {d: 3}\n", encoding="utf-8")
    lines = line_map(p)
    assert lines[("a", "b")] == 2
    assert lines[("a", "c", 1)] == 5


def test_misspelt_yielding_label_and_bad_yield_threshold_fail(data_copy: Path) -> None:
    path = data_copy / "differential.yaml"
    line = _corrupt(
        path,
        "also_yielding: [degenerative-disc-disease",
        "also_yielding: [degenerative-disk-disease",
    )
    _fails_at(data_copy, "differential.yaml", line, "degenerative-disk-disease")
    _corrupt(path, "degenerative-disk-disease", "degenerative-disc-disease")
    line = _corrupt(path, "yield_min_probability: 0.01", "yield_min_probability: 1.5")
    with pytest.raises(KnowledgeBaseError) as exc:
        load_knowledge_base(data_copy)
    assert "yield_min_probability" in str(exc.value)
