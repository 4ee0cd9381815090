"""The one extractor interface: free text in, everything the readers found out.

Every caller (assess, the web form pre-fill, the patient report explainer, search, batch, the
evaluation, the API and the CLI) reads text through `extract`, so that a statistical reader can
later sit beside the rule-based ones without any caller changing. A report extraction also
carries the report's sections; `Extraction.imaging_report()` gives it the shape of the contract's
`ImagingReport` for the callers that answer with one (the API, the CLI). No module outside the
readers calls `text.imaging.parse_imaging_report` itself (tests/text/test_one_extractor.py).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from spineguide.reasoning.evidence import Evidence
from spineguide.text.models import ImagingFinding, ImagingReport, ReportSection, UninterpretedPhrase

TextKind = Literal["note", "report"]

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
    setting: Literal["emergency"] | None = Field(
        None, description="care setting the note states (an emergency department), else None"
    )
    sections: list[ReportSection] = Field(
        default_factory=list,
        description="a report's sections (findings, impression, history, ...) with their spans; "
        "empty for a note, and then left out when serialised",
    )

    @model_serializer(mode="wrap")
    def _drop_empty_sections(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Serialise as usual, leaving out `sections` when there are none (every note)."""
        data = handler(self)
        if isinstance(data, dict) and not data.get("sections"):
            data.pop("sections", None)
        return data

    def imaging_report(self) -> ImagingReport:
        """The imaging part of this extraction as the contract's `ImagingReport`."""
        return ImagingReport(
            findings=list(self.imaging),
            sections=list(self.sections),
            warnings=list(self.warnings),
            uninterpreted=[
                UninterpretedPhrase(text=u.text, span=u.span, reason=u.reason)
                for u in self.uninterpreted
            ],
        )


# An imaging sentence inside a note: a modality, then a colon or a result verb within a few words
# ("MRI: …", "CT showed …", "X-ray L-spine: collapse of L1", "MRI lumbar spine on 3/4 reported …").
_IMAGING_SENTENCE = re.compile(
    r"(?<!\w)(?:(?:urgent|emergency|repeat|recent|previous|outside|today'?s|his|her|an?|the)\s+)?"
    r"(?:MRI|MR|CT|CTA|CT myelogra\w+|radiographs?|x-?rays?|XR|plain films?|imaging|(?<!bladder )scan|"
    r"bone scan|PET(?:-CT)?|myelogra\w+|ultrasound|USS?)(?!\w)"
    r"(?:[^.:\n]{0,40}?(?::|(?<!\w)(?:shows?|showed|showing|demonstrat\w+|reveal\w*|confirm\w*|"
    r"report\w*|found|finds|identif\w+|noted|notes|with)(?!\w)))",
    re.I,
)
# The note says where the patient is seen: "attends ED", "seen in A&E", "presented to the emergency
# department", "in resus"; an emergency-department attendance sets the emergency prior.
_EMERGENCY_SETTING = re.compile(
    r"(?<!\w)(?:(?:attend\w*|present\w*|seen|came|comes|brought|arriv\w*|admitted|referred|"
    r"self-?presented|conveyed|walked)\s+(?:\w+\s+){0,3}?(?:to|in|into|at|via|through)\s+"
    r"(?:the\s+|our\s+|an?\s+|local\s+)*(?:ed|a\s?&\s?e|a\s?and\s?e|emergency\s+(?:department|dept|room|unit)|"
    r"er|casualty|resus)|(?:ed|a\s?&\s?e|emergency\s+department|emergency\s+room)\s+"
    r"(?:attendance|presentation|triage|review|assessment|doctor|team|registrar)|"
    r"in\s+(?:the\s+)?(?:emergency\s+department|a\s?&\s?e|resus)|"
    r"attend\w*\s+(?:the\s+|an?\s+|local\s+)*(?:ed|a\s?&\s?e|emergency\s+(?:department|dept|room)|er|casualty))(?!\w)",
    re.I,
)


def note_setting(text: str) -> Literal["emergency"] | None:
    """The care setting a note states ("emergency" for an emergency-department visit), else None."""
    if not isinstance(text, str):
        return None
    for m in _EMERGENCY_SETTING.finditer(text[:20_000]):
        head = text[max(0, m.start() - 30) : m.start()].lower()
        if re.search(
            r"(?<!\w)(?:no|not|never|without|previous(?:ly)?|prior|last year)\W+(?:\w+\W+){0,2}$",
            head,
        ):
            continue  # "not seen in ED", "previously attended A&E"
        return "emergency"
    return None


_SENTENCE_STOP = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n|$")


def imaging_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the imaging sentences inside a clinical note (each to its sentence end)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _IMAGING_SENTENCE.search(text, pos)
        if not m:
            break
        start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        if spans and start < spans[-1][1]:
            start = spans[-1][1]
        while start < m.start() and text[start].isspace():
            start += 1
        stop = _SENTENCE_STOP.search(text, m.end())
        end = stop.start() if stop else n
        while end < n and text[end - 1 : end] not in (".", "!", "?", "\n") and end > m.end():
            break
        spans.append((start, end))
        pos = max(end, m.end()) + 1
    return spans


def imaging_segment(text: str) -> str | None:
    """The imaging sentences of a clinical note joined into one report text (None when there are none)."""
    spans = imaging_spans(text)
    if not spans:
        return None
    parts = []
    for start, end in spans:
        segment = text[start:end]
        # "MRI lumbar spine: …" — drop the modality label so the report body is parsed as findings.
        label = _IMAGING_LABEL.match(segment)
        parts.append(segment[label.end() :] if label else segment)
    return "\n".join(p.strip() for p in parts if p.strip())


def extract(text: str, kind: TextKind = "note") -> Extraction:
    """Read a clinical note or an imaging report into an `Extraction`."""
    from spineguide.errors import InputError
    from spineguide.text.clinical import read_note
    from spineguide.text.imaging import parse_imaging_report

    if not isinstance(text, str):
        raise InputError("text must be a string")
    if kind not in ("note", "report"):
        raise InputError(f"unknown text kind {kind!r}", "use 'note' or 'report'")
    if kind == "report":
        report = parse_imaging_report(text)
        return Extraction(
            imaging=report.findings,
            sections=report.sections,
            uninterpreted=[
                Uninterpreted(text=u.text, span=u.span, reason=u.reason)
                for u in report.uninterpreted
            ],
            warnings=list(report.warnings),
        )
    out = Extraction()
    if not text.strip():
        return out
    reading = read_note(text)
    out.setting = note_setting(text)
    out.evidence = reading.evidence
    out.medications = reading.medications
    out.uninterpreted = reading.uninterpreted
    for start, end in reading.imaging_spans:
        segment = text[start:end]
        label = _IMAGING_LABEL.match(segment)
        offset = start + (label.end() if label else 0)
        report = parse_imaging_report(segment[label.end() :] if label else segment)
        for f in report.findings:  # spans into the note, not into the sentence
            update: dict[str, object] = {}
            if f.span is not None:
                update["span"] = (f.span[0] + offset, f.span[1] + offset)
            if getattr(f, "cue_spans", None):
                update["cue_spans"] = [(a + offset, b + offset) for a, b in f.cue_spans]
            out.imaging.append(f.model_copy(update=update))
        out.warnings += [w for w in report.warnings if w not in out.warnings]
    if out.uninterpreted:
        out.warnings.append(
            f"{len(out.uninterpreted)} clinically significant phrase(s) were not interpreted; "
            "review them before relying on the assessment"
        )
    return out
