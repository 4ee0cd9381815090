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
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from spineguide.reasoning.evidence import Evidence
from spineguide.text.models import ImagingFinding, ImagingReport, ReportSection, UninterpretedPhrase
from spineguide.text.prefilter import LiteralIndex, folds_like_ascii, with_first_char_test

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
    setting: Literal["emergency", "spine-clinic"] | None = Field(
        None,
        description="care setting the note states (an emergency department or hospital stay, "
        "or a specialist spinal clinic), else None",
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
    r"er|casualty|resus)|(?:ed|a\s?&\s?e|emergency\s+department|emergency\s+room|er)\s+"
    r"(?:attendance|presentation|triage|review|assessment|doctor|team|registrar|visit|course|"
    r"hpi|note|notes|physician|provider|nurse|nursing|consultant|clinician|resident)|"
    r"(?:ed|a\s?&\s?e|emergency\s+(?:department|dept|room))\s*:|"
    r"\(\s*(?:ed|a\s?&\s?e|emergency\s+department)\s*\)|"
    r"(?:for|to|in|into|moved\s+to)\s+(?:ambulatory\s+)?(?:majors|minors|resus)|"
    r"triage\s+cat(?:egory)?\s*[1-5](?!\d)|"
    r"(?:referr\w*|transferr?\w*|handed\s+over)\s+from\s+(?:the\s+)?"
    r"(?:ed|a\s?&\s?e|emergency\s+(?:department|dept|room))|"
    r"in\s+(?:the\s+)?(?:emergency\s+department|a\s?&\s?e|resus)|"
    r"attend\w*\s+(?:the\s+|an?\s+|local\s+)*(?:ed|a\s?&\s?e|emergency\s+(?:department|dept|room)|er|casualty))(?!\w)",
    re.I,
)
# A hospital presentation: an admission ("admitted with", "was admitted to neurosurgery"), arrival at
# or transfer to a hospital ("presented to our hospital", "referred to the hospital", "hospital ED"),
# an ambulance arrival ("brought in", "ambulance handover"), an inpatient ("on the orthopaedic ward",
# "ward referral", "inpatient", "hospitalised", "in ICU", "POD2"). Case reports and ward referrals
# are hospital presentations, whose case mix is that of emergency back pain (galliker-2020-ed), so
# they take the emergency prior too.
_HOSPITAL_SETTING = re.compile(
    r"(?<!\w)(?:(?:was\s+|were\s+|is\s+|being\s+|been\s+|got\s+)?admitted\s+(?:\w+\s+){0,2}?"
    r"(?:with|to|under|for|via|through|on|from|after|into|overnight)(?!\s+\w+ing\b)|"
    r"(?:present\w*|referred|transferred|brought|came|comes|arriv\w*|conveyed|admitted|attend\w*)\s+"
    r"(?:\w+\s+){0,3}?(?:to|in|into|at)\s+(?:the\s+|our\s+|an?\s+|this\s+|local\s+|tertiary\s+)*"
    r"(?:(?:\w+\s+)?hospital|institution|trauma\s+cent(?:re|er)|intensive\s+care|icu|itu|hdu)|"
    r"(?:hospital|district)\s+(?:ed|a\s?&\s?e|emergency\s+(?:department|room))|"
    r"brought\s+in|by\s+ambulance|ambulance\s+(?:handover|crew|transfer)|biba|"
    r"(?:on|in)\s+(?:the\s+|a\s+)?(?:\w+\s+){0,2}?ward|ward\s+(?:referral|review|round|patient|team|nurse)|"
    r"in-?patients?|hospitali[sz](?:ed|ation)|(?:while|whilst|now|currently)\s+in\s+hospital|"
    r"in\s+(?:the\s+)?(?:icu|itu|hdu|intensive\s+care)|pod\s?\d|post-?op(?:erative)?\s+day\s+\d)(?!\w)",
    re.I,
)
# A hospital stay in the past is not where the patient is now ("admitted 4 weeks ago with", "a
# hospital stay for pneumonia last year").
_PAST_AFTER = re.compile(
    r"^[^.;\n]{0,40}?(?<!\w)(?:ago|earlier|previously|before(?!\s+(?:arrival|admission))|"
    r"last\s+(?:week|month|year)|in\s+(?:19|20)\d\d)(?!\w)",
    re.I,
)
# A denial or a past visit just before the phrase, within its own clause ("not seen in ED",
# "previously attended A&E", "no hospital admission"); a comma ends the reach, so "an old infarct
# with no lasting weakness presents to ED" and "past drug use, brought in" still count.
_NOT_NOW_BEFORE = re.compile(
    r"(?<!\w)(?:no|not|never|without|previous(?:ly)?|prior|last\s+year|past|former|earlier|once)"
    r"\s+(?:[\w&/-]+\s+){0,1}$",
    re.I,
)


@lru_cache(maxsize=1)
def _setting_prefilter() -> LiteralIndex:
    """Literal prefilter for the two setting patterns (a note naming no care place skips both)."""
    return LiteralIndex([_EMERGENCY_SETTING.pattern, _HOSPITAL_SETTING.pattern])


@lru_cache(maxsize=1)
def _imaging_prefilter() -> LiteralIndex:
    """Literal prefilter for imaging sentences (every one names a modality)."""
    return LiteralIndex([_IMAGING_SENTENCE.pattern])


# Advice, not a visit: "advised to attend ED if…", "safety-netted: A&E if worse", "if it worsens,
# attend A&E", "to re-attend ED", "should go to A&E".
_ADVICE_BEFORE = re.compile(
    r"(?:(?<!\w)(?:advised|advise|told|asked|instructed|encouraged|reminded|aware|knows?|"
    r"safety[- ]?net\w*)(?!\w)[^.;\n]*|"
    r"(?<!\w)(?:will|would|should|must|might|may|can|could|to)\s+|re-?)$",
    re.I,
)
# ... and a condition before an instruction ("if worse, attend A&E"; not "worse if sitting,
# presented to ED", where the verb is a past visit)
_IF_BEFORE = re.compile(r"(?<!\w)if(?!\w)[^.;\n]*$", re.I)
_INSTRUCTION = re.compile(r"(?:attend|present|come|go|return)(?!\w)", re.I)

# The patient is seen in a specialist spinal clinic ("referred to the spinal clinic", "reviewed
# in the spine surgery outpatients", "seen by the spinal surgeons"): the spine-clinic priors apply.
_SPINE_CLINIC = re.compile(
    r"(?<!\w)(?:seen|reviewed|assessed|attend\w*|present\w*|referred|referral)\s+"
    r"(?:\w+\s+){0,3}?(?:to|in|at|by|from)\s+(?:the\s+|our\s+|a\s+|an\s+)?"
    r"(?:orthopa?edic\s+|neurosurgical\s+|specialist\s+)?spin(?:e|al)\s+"
    r"(?:surgery\s+|surgical\s+|orthopa?edic\s+)?"
    r"(?:clinic|outpatients?|service|team|surgeons?|consultant)(?!\w)",
    re.I,
)
# ... but not when the visit is only planned ("will be referred to the spinal clinic")
_PLANNED_BEFORE = re.compile(
    r"(?<!\w)(?:will\s+be|to\s+be|plan(?:ned)?\s+to\s+be|awaiting|waiting\s+for|await|"
    r"should\s+be|could\s+be|consider|may\s+need\s+to\s+be)\s+$",
    re.I,
)


@lru_cache(maxsize=1)
def _fast_setting() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The emergency, hospital and spine-clinic patterns with a first-character test."""
    return tuple(  # type: ignore[return-value]
        with_first_char_test(rx) for rx in (_EMERGENCY_SETTING, _HOSPITAL_SETTING, _SPINE_CLINIC)
    )


@lru_cache(maxsize=1)
def _fast_imaging_sentence() -> re.Pattern[str]:
    """The imaging-sentence pattern with a first-character test."""
    return with_first_char_test(_IMAGING_SENTENCE)


def note_setting(text: str) -> Literal["emergency", "spine-clinic"] | None:
    """The care setting a note states, else None.

    "emergency" for an emergency or hospital visit; "spine-clinic" for a specialist spinal
    clinic. An emergency wins when a note states both.
    """
    if not isinstance(text, str):
        return None
    text = text[:20_000]
    possible = _setting_prefilter().candidates(text.lower())  # words each pattern needs
    # the same patterns with a first-character test where it holds (same matches, faster)
    emergency, hospital, spine_clinic = (
        _fast_setting() if folds_like_ascii(text) else (_EMERGENCY_SETTING, _HOSPITAL_SETTING,
                                                         _SPINE_CLINIC)
    )  # fmt: skip
    for k, pattern in enumerate((emergency, hospital)):
        if k not in possible:
            continue
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 60) : m.start()]
            if _NOT_NOW_BEFORE.search(before[-30:]):
                continue  # "not seen in ED", "previously admitted", "no hospital admission"
            if pattern is emergency and (
                _ADVICE_BEFORE.search(before)
                or (_INSTRUCTION.match(m.group(0)) and _IF_BEFORE.search(before))
            ):
                continue  # "advised to attend ED if…" (a planned admission still places the
                # patient in hospital: "will be admitted under orthopaedics")
            if pattern is hospital and _PAST_AFTER.search(text[m.end() : m.end() + 60]):
                continue  # "admitted 4 weeks ago", "hospitalised in 2019"
            return "emergency"
    if "spin" in text.lower():
        for m in spine_clinic.finditer(text):
            before = text[max(0, m.start() - 30) : m.start()]
            if _NOT_NOW_BEFORE.search(before) or _PLANNED_BEFORE.search(before):
                continue  # "not seen in spine clinic", "will be referred to the spinal team"
            return "spine-clinic"
    return None


_SENTENCE_STOP = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n|$")


def imaging_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the imaging sentences inside a clinical note (each to its sentence end)."""
    spans: list[tuple[int, int]] = []
    if not _imaging_prefilter().candidates(text.lower()):
        return spans  # no modality word: no imaging sentence
    pos = 0
    n = len(text)
    sentence = _fast_imaging_sentence() if folds_like_ascii(text) else _IMAGING_SENTENCE
    while pos < n:
        m = sentence.search(text, pos)
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
