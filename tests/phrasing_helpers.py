"""Shared checks for the phrasing-family tests: read a text, find a finding, score a vignette."""

from __future__ import annotations

import json
from pathlib import Path

from spineguide.evaluation.cases_eval import Vignette, score_case
from spineguide.reasoning.assess import assess
from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.pipeline import extract

P, A = Choice.present, Choice.absent
# (text, [(finding, choice, side or None, value or None)], [findings that must not be present])
FamilyCase = tuple[str, list[tuple[str, Choice, str | None, float | None]], list[str]]


def read(text: str) -> list[Evidence]:
    """The evidence the note reader finds in `text`."""
    return extract(text).evidence


def has(
    items: list[Evidence],
    fid: str,
    choice: Choice,
    side: str | None,
    value: float | None,
    bilateral_counts: bool = False,
) -> bool:
    """Whether an item states `fid` with this choice, side (bilateral too, if it counts), value."""
    sides = (side, "bilateral") if bilateral_counts else (side,)
    for e in items:
        if e.id != fid or e.choice != choice:
            continue
        if side is not None and e.side not in sides:
            continue
        if value is not None and (e.value is None or abs(e.value - value) > 0.6):
            continue
        return True
    return False


def check_family(case: FamilyCase, bilateral_counts: bool = False) -> None:
    """Assert a wording is read into the findings it states, and not into the ones it does not."""
    text, expected, absent_ids = case
    items = read(text)
    for fid, choice, side, value in expected:
        assert has(items, fid, choice, side, value, bilateral_counts), (
            text,
            fid,
            [(e.id, e.choice.value, e.side, e.value) for e in items],
        )
    for fid in absent_ids:
        assert not has(items, fid, P, None, None), (text, fid)


def load_vignettes(path: Path) -> list[dict[str, object]]:
    """The vignettes of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _expected_finding(spec: str) -> tuple[str, str, str]:
    """Split "slr_positive+left", "fever-" or "crp=187" into id, operator and the rest."""
    for i, ch in enumerate(spec):
        if ch in "+-=":
            return spec[:i], ch, spec[i + 1 :]
    raise ValueError(f"bad finding spec {spec!r}")


def check_vignette(vignette: dict[str, object], bilateral_counts: bool = False) -> None:
    """Assert a whole note yields its findings, a safe triage, no over-triage and a top-3 hit."""
    text = str(vignette["text"])
    items = read(text)
    expected = vignette["expected"]
    assert isinstance(expected, dict)
    missed = []
    for spec in expected["findings"]:
        fid, op, rest = _expected_finding(spec)
        if op == "=":
            ok = any(has(items, fid, c, None, float(rest)) for c in (P, A))
        else:
            ok = has(items, fid, P if op == "+" else A, rest or None, None, bilateral_counts)
        if not ok:
            missed.append(spec)
    assert not missed, (vignette["id"], missed)
    result = score_case(Vignette.model_validate(vignette), assess(text))
    assert result.triage_safe, (vignette["id"], result.urgency)
    assert not result.over_triaged, (vignette["id"], result.urgency)
    assert result.top3, (vignette["id"], result.diagnoses)
