"""Helpers shared by the ranking tests: the ranked ids, one diagnosis, and its weighed factors."""

from __future__ import annotations

from spineguide.reasoning.assess import assess
from spineguide.reasoning.differential import DiagnosisResult


def ranked(text: str) -> list[str]:
    """Diagnosis ids of a presentation, most likely first."""
    return [d.id for d in assess(text).differential]


def diagnosis(text: str, dx_id: str) -> DiagnosisResult:
    """One diagnosis of a presentation, fully explained."""
    return next(d for d in assess(text, detail="full").differential if d.id == dx_id)


def factors(text: str, dx_id: str) -> dict[str, float]:
    """Each finding's likelihood ratio for one diagnosis (for and against)."""
    d = diagnosis(text, dx_id)
    return {c.id: c.likelihood_ratio for c in d.evidence_for + d.evidence_against}
