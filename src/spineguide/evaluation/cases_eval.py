"""Evaluate assessments on vignette files (the dev_vignettes.jsonl format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from spineguide.errors import InputError

URGENCY_ORDER = {"self_care": 0, "routine": 1, "urgent": 2, "emergency": 3}


class Expected(BaseModel):
    """Expected outputs for one vignette (unknown extra fields are ignored)."""

    urgency: list[str]
    roots: list[str] = Field(default_factory=list)
    side: str | None = None
    diagnoses_any: list[str] = Field(default_factory=list)


class Vignette(BaseModel):
    """One evaluation vignette."""

    id: str
    text: str
    expected: Expected
    setting: str | None = None


class CaseResult(BaseModel):
    """What the system said about one vignette, scored."""

    id: str
    urgency: str
    expected_urgency: list[str]
    triage_exact: bool
    triage_safe: bool
    under_triaged_emergency: bool
    over_triaged: bool
    roots: list[str]
    expected_roots: list[str]
    root_correct: bool | None
    side: str | None
    expected_side: str | None
    diagnoses: list[str]
    expected_diagnoses: list[str]
    top1: bool
    top3: bool
    red_flags: list[str] = Field(default_factory=list)
    ask_next: list[str] = Field(default_factory=list)


class CasesReport(BaseModel):
    """Aggregate scores and every miss."""

    n: int
    triage_exact: float
    triage_safe: float
    under_triaged_emergencies: int
    over_triage_rate: float
    root_accuracy: float | None
    root_n: int
    side_accuracy: float | None
    top1: float
    top3: float
    misses: list[dict[str, Any]]
    results: list[CaseResult]


def load_vignettes(path: Path) -> list[Vignette]:
    """Read a JSONL vignette file, naming the line of any malformed record."""
    if not path.exists():
        raise InputError(f"file not found: {path}", "give the path to a .jsonl vignette file")
    out: list[Vignette] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Vignette.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name} line {i}: malformed JSON ({exc.msg})") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{path.name} line {i}: {where}: {first['msg']}") from exc
    if not out:
        raise InputError(f"{path.name} has no vignettes", "one JSON object per line")
    return out


def score_case(v: Vignette, assessment: Any) -> CaseResult:
    """Score one assessment against its vignette's expectations."""
    exp = v.expected
    urgency = assessment.triage.urgency.value
    least = min(URGENCY_ORDER[u] for u in exp.urgency)
    most = max(URGENCY_ORDER[u] for u in exp.urgency)
    roots = [r.root for r in assessment.localization.roots]
    side = assessment.localization.roots[0].side if assessment.localization.roots else None
    dx = [d.id for d in assessment.differential]
    return CaseResult(
        id=v.id,
        urgency=urgency,
        expected_urgency=exp.urgency,
        triage_exact=urgency in exp.urgency,
        triage_safe=URGENCY_ORDER[urgency] >= least,
        under_triaged_emergency=exp.urgency == ["emergency"] and urgency != "emergency",
        over_triaged=URGENCY_ORDER[urgency] > most,
        roots=roots[:3],
        expected_roots=exp.roots,
        root_correct=(bool(roots) and roots[0] in exp.roots) if exp.roots else None,
        side=side,
        expected_side=exp.side,
        diagnoses=dx[:5],
        expected_diagnoses=exp.diagnoses_any,
        top1=bool(dx) and dx[0] in exp.diagnoses_any,
        top3=any(d in exp.diagnoses_any for d in dx[:3]),
        red_flags=[r.id for r in assessment.triage.red_flags],
        ask_next=[q.finding_id for q in getattr(assessment, "next_questions", [])[:3]],
    )


def evaluate_cases(path: Path, setting: str | None = None) -> CasesReport:
    """Assess every vignette in a file and compute the evaluation metrics.

    A vignette's own setting wins, then `setting`; with neither, the assessment reads the care
    setting from the note (as the API does) and falls back to primary care.
    """
    from spineguide.reasoning.assess import CaseInput, assess

    vignettes = load_vignettes(path)
    results = []
    for v in vignettes:
        chosen = v.setting or setting
        case = CaseInput(text=v.text, **({"setting": chosen} if chosen else {}))  # type: ignore[arg-type]
        results.append(score_case(v, assess(case)))
    n = len(results)
    rooted = [r for r in results if r.root_correct is not None]
    sided = [r for r in results if r.expected_side and r.expected_roots]
    routine = [r for r in results if "routine" in r.expected_urgency]
    misses = []
    for r in results:
        problems = []
        if not r.triage_exact:
            problems.append(f"triage {r.urgency} (expected {'/'.join(r.expected_urgency)})")
        if r.root_correct is False:
            problems.append(f"root {r.roots[:1] or 'none'} (expected {r.expected_roots})")
        if not r.top1:
            problems.append(
                f"top diagnosis {r.diagnoses[:1]} (expected any of {r.expected_diagnoses})"
            )
        if problems:
            miss: dict[str, Any] = {"id": r.id, "problems": problems, "top3": r.diagnoses[:3]}
            if not r.triage_exact:
                miss["red_flags"] = r.red_flags
                miss["ask_next"] = r.ask_next
            misses.append(miss)
    return CasesReport(
        n=n,
        triage_exact=sum(r.triage_exact for r in results) / n,
        triage_safe=sum(r.triage_safe for r in results) / n,
        under_triaged_emergencies=sum(r.under_triaged_emergency for r in results),
        over_triage_rate=(sum(r.over_triaged for r in routine) / len(routine)) if routine else 0.0,
        root_accuracy=(sum(bool(r.root_correct) for r in rooted) / len(rooted)) if rooted else None,
        root_n=len(rooted),
        side_accuracy=(sum(r.side == r.expected_side for r in sided) / len(sided))
        if sided
        else None,
        top1=sum(r.top1 for r in results) / n,
        top3=sum(r.top3 for r in results) / n,
        misses=misses,
        results=results,
    )
