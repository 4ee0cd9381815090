"""Evaluate the imaging extractor on a JSONL set of reports with expected (level, side, finding,
severity) tuples: precision, recall, F1, a per-finding table and every miss.

The gold sets are annotated with the original 22 contract finding ids. Findings with ids added
later (discitis, aortic aneurysm or dissection, intradural mass, epidural lipomatosis, hip
arthritis, iliopsoas haematoma, psoas abscess) are outside that annotation scheme: they are
listed as "outside the annotation scheme (not scored)" and never counted as false positives
(nor as false negatives, should a set carry them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from spineguide.errors import InputError
from spineguide.text.models import ADDED_FINDING_IDS

Tuple4 = tuple[str | None, str | None, str, str]
REQUIRED_TUPLE_FIELDS = ("level", "side", "finding", "severity")


class EvalCase(BaseModel):
    """One report of an evaluation set."""

    id: str
    text: str
    expected: list[dict[str, Any]]


class Miss(BaseModel):
    """A false negative (expected, not predicted) or false positive (predicted, not expected)."""

    report_id: str
    kind: str  # "false_negative" | "false_positive"
    level: str | None
    side: str | None
    finding: str
    severity: str


class FindingScore(BaseModel):
    """Counts and scores for one finding id."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0


class EvalResult(BaseModel):
    """Whole-set result; `misses` lists every false negative and false positive."""

    n: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    negated_reported_present: int = 0
    per_finding: dict[str, FindingScore] = Field(default_factory=dict)
    misses: list[Miss] = Field(default_factory=list)
    not_scored: list[Miss] = Field(
        default_factory=list,
        description="findings with ids outside the 22-id annotation scheme (kind 'predicted' or "
        "'expected'); listed, never scored",
    )


def load_cases(path: str | Path) -> list[EvalCase]:
    """Read a JSONL evaluation file; a bad line raises InputError naming the line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"evaluation file not found: {p}", "pass a JSONL file of reports")
    cases: list[EvalCase] = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{lineno}: malformed JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{p}:{lineno}: expected a JSON object")
            for key in ("text", "expected"):
                if key not in obj:
                    raise InputError(f"{p}:{lineno}: missing field {key!r}")
            if not isinstance(obj["text"], str) or not isinstance(obj["expected"], list):
                raise InputError(f"{p}:{lineno}: 'text' must be a string, 'expected' a list")
            for t in obj["expected"]:
                if not isinstance(t, dict) or any(k not in t for k in REQUIRED_TUPLE_FIELDS):
                    raise InputError(
                        f"{p}:{lineno}: each expected tuple needs {', '.join(REQUIRED_TUPLE_FIELDS)}"
                    )
            cases.append(
                EvalCase(
                    id=str(obj.get("id", f"line-{lineno}")),
                    text=obj["text"],
                    expected=obj["expected"],
                )
            )
    return cases


def _key(t: dict[str, Any]) -> Tuple4:
    return (t.get("level"), t.get("side"), str(t["finding"]), str(t["severity"]))


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def match_tuples(
    expected: Iterable[Tuple4], predicted: Iterable[Tuple4]
) -> tuple[list[Tuple4], list[Tuple4], list[Tuple4]]:
    """Match predicted to expected tuples one-to-one; return (matched, missed, extra)."""
    pool: dict[Tuple4, int] = {}
    for t in predicted:
        pool[t] = pool.get(t, 0) + 1
    matched: list[Tuple4] = []
    missed: list[Tuple4] = []
    for t in expected:
        if pool.get(t, 0) > 0:
            pool[t] -= 1
            matched.append(t)
        else:
            missed.append(t)
    extra = [t for t, c in pool.items() for _ in range(c)]
    return matched, missed, extra


def evaluate(
    cases: Iterable[EvalCase],
    extract: Callable[[str], Iterable[dict[str, Any]]] | None = None,
) -> EvalResult:
    """Score the extractor (or `extract`, text -> tuple dicts) on the cases."""
    if extract is None:
        from spineguide.text.pipeline import extract as read_text

        def extract(text: str) -> list[dict[str, Any]]:
            return [f.model_dump() for f in read_text(text, kind="report").imaging]

    per: dict[str, FindingScore] = {}
    misses: list[Miss] = []
    not_scored: list[Miss] = []
    tp = fp = fn = n = neg_present = 0
    for case in cases:
        n += 1
        predicted = list(extract(case.text))
        all_pred = [_key(p) for p in predicted]
        all_exp = [_key(e) for e in case.expected]
        for kind, group in (("predicted", all_pred), ("expected", all_exp)):
            for t in group:
                if t[2] in ADDED_FINDING_IDS:
                    not_scored.append(
                        Miss(
                            report_id=case.id,
                            kind=kind,
                            level=t[0],
                            side=t[1],
                            finding=t[2],
                            severity=t[3],
                        )
                    )
        pred_keys = [k for k in all_pred if k[2] not in ADDED_FINDING_IDS]
        exp_keys = [k for k in all_exp if k[2] not in ADDED_FINDING_IDS]
        matched, missed, extra = match_tuples(exp_keys, pred_keys)
        tp += len(matched)
        fn += len(missed)
        fp += len(extra)
        for t in matched:
            per.setdefault(t[2], FindingScore()).tp += 1
        for kind, group in (("false_negative", missed), ("false_positive", extra)):
            for t in group:
                score = per.setdefault(t[2], FindingScore())
                if kind == "false_negative":
                    score.fn += 1
                else:
                    score.fp += 1
                misses.append(
                    Miss(
                        report_id=case.id,
                        kind=kind,
                        level=t[0],
                        side=t[1],
                        finding=t[2],
                        severity=t[3],
                    )
                )
        negatives = {(k[0], k[1], k[2]) for k in exp_keys if k[3] == "none"}
        neg_present += sum(
            1 for k in pred_keys if k[3] != "none" and (k[0], k[1], k[2]) in negatives
        )
    for score in per.values():
        score.precision = _ratio(score.tp, score.tp + score.fp)
        score.recall = _ratio(score.tp, score.tp + score.fn)
        score.f1 = _f1(score.precision, score.recall)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return EvalResult(
        n=n,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        negated_reported_present=neg_present,
        per_finding=dict(sorted(per.items())),
        misses=misses,
        not_scored=not_scored,
    )


def evaluate_file(path: str | Path) -> EvalResult:
    """Load a JSONL file and evaluate the imaging extractor on it."""
    return evaluate(load_cases(path))


def format_text(result: EvalResult) -> str:
    """Render an evaluation result as a plain-text table."""
    lines = [
        f"reports {result.n}  tp {result.tp}  fp {result.fp}  fn {result.fn}",
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  F1 {result.f1:.3f}",
        f"negated findings reported present: {result.negated_reported_present}",
        "",
        f"{'finding':<32}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>7}{'R':>7}{'F1':>7}",
    ]
    for fid, s in result.per_finding.items():
        lines.append(
            f"{fid:<32}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>7.2f}{s.recall:>7.2f}{s.f1:>7.2f}"
        )
    if result.not_scored:
        counts: dict[str, int] = {}
        for m in result.not_scored:
            counts[m.finding] = counts.get(m.finding, 0) + 1
        lines += [
            "",
            f"outside the annotation scheme (not scored): {len(result.not_scored)} findings with "
            "ids added after the 22-id contract the gold set is annotated with",
            "  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        ]
    if result.misses:
        lines += ["", "misses:"]
        for m in result.misses:
            tag = "FN" if m.kind == "false_negative" else "FP"
            lines.append(f"  {tag} {m.report_id}: {m.level} {m.side} {m.finding} {m.severity}")
    if result.not_scored:
        lines += ["", "not scored (outside the annotation scheme):"]
        for m in result.not_scored:
            lines.append(f"  {m.kind} {m.report_id}: {m.level} {m.side} {m.finding} {m.severity}")
    return "\n".join(lines)
