"""Reconcile pipe: one finding per level/side/finding/root; the impression wins over findings."""

from __future__ import annotations

from typing import Any

from spineguide.text.models import SEVERITY_ORDER, ImagingFinding


def reconcile(
    findings: list[ImagingFinding], defaulted: frozenset[int] | set[int] = frozenset()
) -> list[ImagingFinding]:
    """One finding per (section, level, side, finding, root); the impression wins.

    `defaulted` holds the ids of findings whose side was not stated (the finding's default). An
    impression that repeats a finding without its side ("L4-5 protrusion") is the same lesion
    the findings section placed on a side ("left paracentral protrusion"): it is not counted
    again and the side is kept.
    """
    findings = _drop_sideless_repeats(findings, defaulted)
    by_key: dict[tuple[Any, ...], ImagingFinding] = {}
    for f in findings:
        key = (f.section, f.level, f.side, f.finding, f.root)
        old = by_key.get(key)
        by_key[key] = f if old is None else prefer(old, f)  # keeps the first one's place
    merged = list(by_key.values())
    impression: dict[tuple[Any, ...], ImagingFinding] = {}
    for f in merged:  # a plain loop (most reports have one section or few findings)
        if f.section == "impression":
            impression[(f.level, f.side, f.finding, f.root)] = f
    if impression:
        for f in merged:
            imp = impression.get((f.level, f.side, f.finding, f.root))
            if (
                imp is not None
                and f.section != "impression"
                and imp.severity == "unspecified"
                and f.severity not in ("unspecified", "none")
                and not imp.negated
            ):
                # the impression repeats the finding without a grade: no conflict, keep the grade
                imp.severity = f.severity
        out = [
            f
            for f in merged
            if f.section == "impression" or (f.level, f.side, f.finding, f.root) not in impression
        ]
    else:
        out = merged
    # a nerve root named in one mention and inferred in another is the same finding
    named: set[tuple[Any, ...]] = set()
    for f in out:
        if f.root and not f.root_inferred:
            named.add((f.section, f.level, f.side, f.root))
    if named:
        out = [
            f
            for f in out
            if not (f.root_inferred and (f.section, f.level, f.side, f.root) in named)
        ]
    out.sort(key=_span_start)
    return out


def _span_start(f: ImagingFinding) -> int:
    return f.span[0]


def _drop_sideless_repeats(
    findings: list[ImagingFinding], defaulted: frozenset[int] | set[int]
) -> list[ImagingFinding]:
    if not defaulted:
        return findings
    for f in findings:
        if f.section == "impression":
            break
    else:
        return findings  # only impression findings are ever dropped here
    sided: dict[tuple[Any, ...], list[ImagingFinding]] = {}
    for f in findings:
        if f.section != "impression" and id(f) not in defaulted and not f.negated:
            sided.setdefault((f.level, f.finding), []).append(f)
    out = []
    for f in findings:
        others = sided.get((f.level, f.finding)) if f.section == "impression" else None
        if (
            others
            and id(f) in defaulted
            and not f.negated
            and all(o.side != f.side for o in others)
        ):
            for o in others:  # the impression's grade is the radiologist's summary
                if f.severity != "unspecified" and o.severity == "unspecified":
                    o.severity = f.severity
            continue
        out.append(f)
    return out


def prefer(a: ImagingFinding, b: ImagingFinding) -> ImagingFinding:
    if a.negated != b.negated:
        return b if a.negated else a  # a positive statement outweighs a negative one
    ra = SEVERITY_ORDER.get(a.severity, -1)
    rb = SEVERITY_ORDER.get(b.severity, -1)
    if rb > ra:
        return b
    if a.uncertain and not b.uncertain:
        return b
    return a
