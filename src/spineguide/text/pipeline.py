"""The one extractor interface: free text in, everything the readers found out.

Every caller (assess, the web form, search, batch, evaluation, the CLI) reads text through
`extract`, so that a statistical reader can later sit beside the rule-based ones without any
caller changing.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spineguide.reasoning.evidence import Evidence
from spineguide.text.models import ImagingFinding

TextKind = Literal["note", "report"]

_IMAGING_CUE = re.compile(
    r"(?<!\w)(?:MRI|MR|CT|CT myelogra\w+|radiographs?|x-?rays?|imaging|scan|myelogra\w+)(?!\w)",
    re.I,
)
_IMAGING_LABEL = re.compile(
    r"\s*(?:[A-Za-z-]+\s+){0,2}(?:MRI|MR|CT|radiographs?|x-?rays?|imaging|scan)[^:.\n]{0,40}:\s*",
    re.I,
)


class MedicationMention(BaseModel):
    """A medicine named in the text, resolved to the knowledge base where possible."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the words as written")
    drug_id: str | None = Field(None, description="knowledge-base drug id when resolved")
    classes: list[str] = Field(
        default_factory=list,
        description="anticoagulant, antiplatelet, corticosteroid, immunosuppressant, opioid, nsaid, …",
    )
    span: tuple[int, int] = (0, 0)
    negated: bool = False
    historical: bool = False


class Uninterpreted(BaseModel):
    """Clinically significant wording the readers saw but could not turn into evidence."""

    model_config = ConfigDict(extra="forbid")

    text: str
    span: tuple[int, int]
    reason: str = Field(description="why it matters, in a few words (e.g. 'red-flag wording')")


class Extraction(BaseModel):
    """What one text holds: evidence, imaging findings, medicines and what was not understood."""

    evidence: list[Evidence] = Field(default_factory=list)
    imaging: list[ImagingFinding] = Field(default_factory=list)
    medications: list[MedicationMention] = Field(default_factory=list)
    uninterpreted: list[Uninterpreted] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


def imaging_segment(text: str) -> str | None:
    """The part of a clinical note that reports imaging (from the first imaging cue onwards)."""
    m = _IMAGING_CUE.search(text)
    if not m:
        return None
    start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
    segment = text[start:]
    # "MRI lumbar spine: …" — drop the modality label so the report body is parsed as findings.
    label = _IMAGING_LABEL.match(segment)
    return segment[label.end() :] if label else segment


def extract(text: str, kind: TextKind = "note") -> Extraction:
    """Read a clinical note or an imaging report into an `Extraction`."""
    from spineguide.text.clinical import extract_clinical_evidence
    from spineguide.text.imaging import parse_imaging_report

    if kind == "report":
        report = parse_imaging_report(text)
        return Extraction(imaging=report.findings, warnings=list(report.warnings))
    out = Extraction()
    if not text.strip():
        return out
    out.evidence = extract_clinical_evidence(text)
    segment = imaging_segment(text)
    if segment:
        report = parse_imaging_report(segment)
        out.imaging = report.findings
        out.warnings += report.warnings
    return out
