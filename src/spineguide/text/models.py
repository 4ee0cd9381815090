"""Pydantic models for imaging-report findings (the PRODUCT.md imaging finding contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spineguide.knowledge.schema import (
    ADDED_IMAGING_FINDING_IDS,
    CONTRACT_IMAGING_FINDING_IDS,
    IMAGING_FINDING_IDS,
)

FindingId = Literal[IMAGING_FINDING_IDS]  # the PRODUCT.md contract, defined once in the schema
FINDING_IDS: tuple[str, ...] = FindingId.__args__  # type: ignore[attr-defined]
ADDED_FINDING_IDS: frozenset[str] = frozenset(ADDED_IMAGING_FINDING_IDS)
CONTRACT_FINDING_IDS: tuple[str, ...] = CONTRACT_IMAGING_FINDING_IDS
"""The original 22 contract ids the gold sets are annotated with."""

Side = Literal["left", "right", "bilateral", "central"]
Zone = Literal["central", "paracentral", "subarticular", "foraminal", "extraforaminal"]
Severity = Literal["none", "mild", "moderate", "severe", "unspecified"]
SEVERITY_ORDER: dict[str, int] = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


class ImagingFinding(BaseModel):
    """One finding at one level and side, as the report states it."""

    model_config = ConfigDict(extra="forbid")

    finding: FindingId
    level: str | None = Field(
        None, description="contract level (L4-L5), a vertebral body (L1), or null when unstated"
    )
    side: Side | None = None
    zone: Zone | None = None
    severity: Severity = "unspecified"
    negated: bool = False
    uncertain: bool = False
    root: str | None = Field(None, description="nerve root (L1-S1) for nerve_root_compression")
    root_inferred: bool = False
    migration: Literal["cranial", "caudal"] | None = None
    modic_type: int | None = None
    grade: int | None = Field(None, description="spondylolisthesis grade (Meyerding 1-5)")
    direction: Literal["anterior", "posterior", "lateral"] | None = None
    size_mm: float | None = None
    percent: float | None = None
    section: str = "findings"
    span: tuple[int, int] = (0, 0)
    text: str = ""
    cue_spans: list[tuple[int, int]] = Field(
        default_factory=list,
        description="character spans of the cues that made it negated, uncertain or historical",
    )
    historical: bool = False
    confidence: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="1 for a direct reading; lower for fuzzy spelling, pronoun attribution or "
        "an inferred level",
    )
    canal_compromise: bool | None = Field(
        None, description="fracture: retropulsion or canal compromise stated (True) or denied"
    )

    def key(self) -> tuple[str | None, str | None, str, str]:
        """The (level, side, finding, severity) tuple used for evaluation."""
        return (self.level, self.side, self.finding, self.severity)


_FINDING_FIELDS = frozenset(ImagingFinding.model_fields)
_FINDING_DEFAULTS = {
    name: f.get_default(call_default_factory=True)
    for name, f in ImagingFinding.model_fields.items()
    if not f.is_required()
}


_N_FIELDS = len(_FINDING_FIELDS)
_FINDING_FIELDS_SET = set(_FINDING_FIELDS)
_new = ImagingFinding.__new__
_set = object.__setattr__


def trusted_finding(**values: object) -> ImagingFinding:
    """Build a finding from values the reader already validated (vocabulary ids, fixed enums).

    Same result as ``ImagingFinding.model_construct`` (no validation), about three times faster,
    which matters on the extraction hot path. Callers pass field names of the model only.
    """
    if len(values) == _N_FIELDS:
        return trusted_finding_from(values)  # every field given: the kwargs dict is fresh
    data = _FINDING_DEFAULTS.copy()
    data.update(values)
    if "cue_spans" not in values:
        data["cue_spans"] = []  # a fresh list per finding, never the shared default
    return trusted_finding_from(data)


def trusted_finding_from(values: dict[str, object]) -> ImagingFinding:
    """A finding from a fresh dict holding every field (the reader's hot path; no validation)."""
    obj = _new(ImagingFinding)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", _FINDING_FIELDS_SET.copy())
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


class ReportSection(BaseModel):
    """A section of the report (findings, impression, history, ...) with its character span."""

    name: str
    span: tuple[int, int]
    extracted: bool = True


def trusted_section(name: str, span: tuple[int, int], extracted: bool) -> ReportSection:
    """A report section from values the reader built itself (no validation pass)."""
    obj = _new(ReportSection)
    _set(obj, "__dict__", {"name": name, "span": span, "extracted": extracted})
    _set(obj, "__pydantic_fields_set__", {"name", "span", "extracted"})
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


class UninterpretedPhrase(BaseModel):
    """A clinically significant phrase the reader saw but could not turn into a finding."""

    text: str
    span: tuple[int, int]
    reason: str = "lesion word without a finding mapping"


class ImagingReport(BaseModel):
    """Everything extracted from one imaging report."""

    findings: list[ImagingFinding] = Field(default_factory=list)
    sections: list[ReportSection] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    uninterpreted: list[UninterpretedPhrase] = Field(default_factory=list)


def empty_report() -> ImagingReport:
    """A new empty report (no validation pass; every list is its own)."""
    obj = _new(ImagingReport)
    _set(obj, "__dict__", {"findings": [], "sections": [], "warnings": [], "uninterpreted": []})
    _set(obj, "__pydantic_fields_set__", set())
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
