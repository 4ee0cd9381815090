"""Outcome instruments: ODI v2.1a, Keele STarT Back, Roland-Morris (RMDQ-24), NRS-11, and change.

Pure functions and pydantic models, no I/O. Every threshold is a `Threshold` constant that names
its source ids (from `knowledge/data/sources.yaml`) or is marked `expert_estimate` with a
rationale, and each result lists the thresholds it used. Bad input raises `InputError`; nothing
is silently coerced. Scoring rules and licensing notes: docs/INSTRUMENTS.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spineguide.errors import InputError

# ---------------------------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------------------------

SRC_ODI = "fairbank-2000-odi"
SRC_SBST = "keele-sbst"
SRC_RMDQ = "roland-2000-rmdq"
SRC_NRS_PALOS = "palos-2006-nrs"
SRC_MIC = "ostelo-2008"
SRC_NRS_MIC = "farrar-2001"
SRC_NRS_PHYSIO_CANADA = "physiotherapy-canada-nrs"
SRC_NRS_BOONSTRA = "boonstra-2016-nrs"


class Threshold(BaseModel):
    """A number the scoring uses, with its provenance (source ids or an expert estimate)."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    unit: str
    source_ids: tuple[str, ...] = ()
    expert_estimate: bool = False
    rationale: str | None = None

    @model_validator(mode="after")
    def _has_provenance(self) -> Threshold:
        if not self.source_ids and not self.expert_estimate:
            raise ValueError(f"threshold {self.name} needs a source id or expert_estimate")
        if self.expert_estimate and not self.rationale:
            raise ValueError(f"expert-estimate threshold {self.name} needs a rationale")
        return self


class _Result(BaseModel):
    """Common configuration of every instrument result (each ends with sources and thresholds)."""

    model_config = ConfigDict(frozen=True)


def _bad(message: str, hint: str | None = None) -> InputError:
    return InputError(message, hint)


def _is_int(value: Any) -> bool:
    # JSON booleans arrive as Python bool, a subclass of int: never accept them as numbers.
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


# ---------------------------------------------------------------------------------------------
# Oswestry Disability Index v2.1a
# ---------------------------------------------------------------------------------------------

ODI_VERSION = "2.1a"
ODI_SECTIONS: tuple[str, ...] = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
)
ODI_SECTION_LABELS: dict[str, str] = {
    "pain_intensity": "Pain intensity",
    "personal_care": "Personal care",
    "lifting": "Lifting",
    "walking": "Walking",
    "sitting": "Sitting",
    "standing": "Standing",
    "sleeping": "Sleeping",
    "sex_life": "Sex life (if applicable)",
    "social_life": "Social life",
    "travelling": "Travelling",
}

# Each section: 6 statements scored 0 (least) to 5 (most disability).
ODI_SECTION_MAX = Threshold(
    name="odi_section_max_score", value=5, unit="points per section", source_ids=(SRC_ODI,)
)
# How many unanswered sections still give a valid index. No published rule was found
# (research note 3.1, tagged [U]); 2 is the common convention.
ODI_MAX_MISSING = Threshold(
    name="odi_max_missing_sections",
    value=2,
    unit="sections",
    expert_estimate=True,
    rationale=(
        "No published invalidation rule was found; at most 2 of 10 missing is the common "
        "convention and keeps the index on at least 8 answered sections (denominator ≥ 40)."
    ),
)

OdiBand = Literal["minimal", "moderate", "severe", "crippled", "bed_bound_or_exaggerating"]
# (inclusive upper edge in %, band id, label). The developers' bands are 0–20, 21–40, 41–60,
# 61–80, 81–100; upper edges are inclusive and the exact (unrounded) index is compared, so
# 20 < x ≤ 40 is moderate. For every index reachable with ≤ 2 missing sections this matches
# the >20.9 / >40.9 / >60.9 / >80.9 cut-offs of the widely used SOAPnote calculator.
ODI_BANDS: tuple[tuple[int, OdiBand, str], ...] = (
    (20, "minimal", "Minimal disability"),
    (40, "moderate", "Moderate disability"),
    (60, "severe", "Severe disability"),
    (80, "crippled", "Crippled"),
    (100, "bed_bound_or_exaggerating", "Bed-bound or exaggerating symptoms"),
)
ODI_BAND_THRESHOLDS: tuple[Threshold, ...] = tuple(
    Threshold(
        name=f"odi_band_{band}_upper_inclusive",
        value=upper,
        unit="index %",
        source_ids=(SRC_ODI,),
    )
    for upper, band, _ in ODI_BANDS[:-1]
)
ODI_BAND_CONVENTION = (
    "upper band edges inclusive, compared on the exact index: ≤20 minimal, >20–40 moderate, "
    ">40–60 severe, >60–80 crippled, >80 bed-bound or exaggerating"
)


class OdiResult(_Result):
    """A scored Oswestry Disability Index (v2.1a) questionnaire."""

    instrument: Literal["odi"] = "odi"
    version: str = ODI_VERSION
    section_scores: dict[str, int | None]
    answered: int
    missing_sections: list[str]
    raw_sum: int
    max_possible: int
    index_percent: float = Field(description="sum / (5 × answered) × 100, rounded to 0.1")
    band: OdiBand
    band_label: str
    band_convention: str = ODI_BAND_CONVENTION
    sources: list[str] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)

    @property
    def index_exact(self) -> Fraction:
        """The unrounded index as an exact fraction."""
        return Fraction(self.raw_sum * 100, self.max_possible)


def odi_band(index_percent: float | Fraction) -> tuple[OdiBand, str]:
    """The ODI interpretation band (id, label) for an index in %."""
    if isinstance(index_percent, bool) or not isinstance(index_percent, int | float | Fraction):
        raise _bad(f"ODI index {_describe(index_percent)} is not a number")
    if isinstance(index_percent, float) and not math.isfinite(index_percent):
        raise _bad("ODI index must be a finite number")
    value = index_percent if isinstance(index_percent, Fraction) else _frac(index_percent)
    if not 0 <= value <= 100:
        raise _bad(f"ODI index {float(value):g} % is outside 0–100")
    for upper, band, label in ODI_BANDS:
        if value <= upper:
            return band, label
    raise AssertionError("unreachable")  # pragma: no cover


def _odi_values(answers: Any) -> list[Any]:
    if isinstance(answers, Mapping):
        unknown = sorted(str(k) for k in answers if k not in ODI_SECTIONS)
        if unknown:
            raise _bad(
                f"unknown ODI section(s): {', '.join(unknown)}",
                f"use the section keys {', '.join(ODI_SECTIONS)}",
            )
        # An omitted key is an unanswered section, just like null.
        return [answers.get(key) for key in ODI_SECTIONS]
    if isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != len(ODI_SECTIONS):
            raise _bad(
                f"ODI needs {len(ODI_SECTIONS)} section answers, got {len(answers)}",
                "give one value 0–5 per section in form order, null for an unanswered section",
            )
        return list(answers)
    raise _bad(
        f"ODI answers must be an object keyed by section or a list of 10 values, got "
        f"{type(answers).__name__}",
        'e.g. {"answers": {"pain_intensity": 2, "lifting": 3, …}}',
    )


def score_odi(answers: Mapping[str, int | None] | Sequence[int | None]) -> OdiResult:
    """Score an ODI v2.1a from 10 section answers (0–5 each; None = unanswered)."""
    values = _odi_values(answers)
    scores: dict[str, int | None] = {}
    for key, value in zip(ODI_SECTIONS, values, strict=True):
        if value is None:
            scores[key] = None
            continue
        if not _is_int(value) or not 0 <= value <= ODI_SECTION_MAX.value:
            raise _bad(
                f"ODI section {key!r} has answer {_describe(value)}; it must be a whole number 0–5",
                "score the ticked statement 0 (first) to 5 (last); use null if unanswered",
            )
        scores[key] = value
    missing = [key for key, value in scores.items() if value is None]
    if len(missing) > ODI_MAX_MISSING.value:
        raise _bad(
            f"ODI has {len(missing)} unanswered sections ({', '.join(missing)}); at most "
            f"{int(ODI_MAX_MISSING.value)} may be missing for a valid index",
            "ask the patient to complete the missing sections",
        )
    answered = len(ODI_SECTIONS) - len(missing)
    raw_sum = sum(v for v in scores.values() if v is not None)
    max_possible = int(ODI_SECTION_MAX.value) * answered
    exact = Fraction(raw_sum * 100, max_possible)
    band, label = odi_band(exact)
    return OdiResult(
        section_scores=scores,
        answered=answered,
        missing_sections=missing,
        raw_sum=raw_sum,
        max_possible=max_possible,
        index_percent=round(float(exact), 1),
        band=band,
        band_label=label,
        sources=[SRC_ODI],
        thresholds=[ODI_SECTION_MAX, ODI_MAX_MISSING, *ODI_BAND_THRESHOLDS],
    )


# ---------------------------------------------------------------------------------------------
# Keele STarT Back Screening Tool (9 items)
# ---------------------------------------------------------------------------------------------

STARTBACK_VERSION = "9-item"
STARTBACK_ITEMS: tuple[str, ...] = (
    "referred_leg_pain",
    "shoulder_or_neck_pain",
    "walking_limited",
    "dressing_slowly",
    "fear",
    "anxiety",
    "catastrophising",
    "low_mood",
    "bothersomeness",
)
STARTBACK_ITEM_LABELS: dict[str, str] = {
    "referred_leg_pain": "1. Pain spread down the leg(s)",
    "shoulder_or_neck_pain": "2. Shoulder or neck pain",
    "walking_limited": "3. Walked only short distances",
    "dressing_slowly": "4. Dressed more slowly",
    "fear": "5. Fear of physical activity",
    "anxiety": "6. Anxiety",
    "catastrophising": "7. Catastrophising",
    "low_mood": "8. Loss of enjoyment",
    "bothersomeness": "9. Overall bothersomeness",
}
STARTBACK_PSYCHOSOCIAL_ITEMS: tuple[str, ...] = STARTBACK_ITEMS[4:]  # items 5–9
STARTBACK_LIKERT: tuple[str, ...] = (
    "not at all",
    "slightly",
    "moderately",
    "very much",
    "extremely",
)
STARTBACK_LIKERT_POSITIVE: frozenset[str] = frozenset({"very much", "extremely"})
_AGREE_WORDS = {"agree": True, "disagree": False}

STARTBACK_LOW_MAX_TOTAL = Threshold(
    name="startback_low_risk_max_total", value=3, unit="total score", source_ids=(SRC_SBST,)
)
STARTBACK_HIGH_MIN_SUBSCORE = Threshold(
    name="startback_high_risk_min_psychosocial_subscore",
    value=4,
    unit="psychosocial subscore (items 5–9)",
    source_ids=(SRC_SBST,),
)

StartBackRisk = Literal["low", "medium", "high"]
STARTBACK_PATHWAYS: dict[str, str] = {
    "low": "Advice, reassurance and support to self-manage; usually no further treatment needed.",
    "medium": "Physiotherapy aimed at pain and function.",
    "high": "Psychologically informed physiotherapy addressing physical and psychosocial barriers.",
}


class StartBackResult(_Result):
    """A scored Keele STarT Back (9-item) screen with its risk group and matched pathway."""

    instrument: Literal["startback"] = "startback"
    version: str = STARTBACK_VERSION
    item_scores: dict[str, int]
    bothersomeness: str
    total: int
    psychosocial_subscore: int
    risk: StartBackRisk
    pathway: str
    sources: list[str] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)


def _agree_value(key: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if _is_int(value) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip().lower() in _AGREE_WORDS:
        return int(_AGREE_WORDS[value.strip().lower()])
    raise _bad(
        f"STarT Back item {key!r} has answer {_describe(value)}",
        'items 1–8 take true/false, 1/0 or "agree"/"disagree"',
    )


def _likert_value(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in STARTBACK_LIKERT:
        return value.strip().lower()
    raise _bad(
        f"STarT Back item 9 (bothersomeness) has answer {_describe(value)}",
        f"use one of: {', '.join(repr(w) for w in STARTBACK_LIKERT)}",
    )


def _startback_values(answers: Any) -> list[Any]:
    if isinstance(answers, Mapping):
        unknown = sorted(str(k) for k in answers if k not in STARTBACK_ITEMS)
        if unknown:
            raise _bad(
                f"unknown STarT Back item(s): {', '.join(unknown)}",
                f"use the item keys {', '.join(STARTBACK_ITEMS)}",
            )
        missing = [k for k in STARTBACK_ITEMS if k not in answers]
        if missing:
            raise _bad(
                f"STarT Back is missing item(s): {', '.join(missing)}",
                "all 9 items must be answered",
            )
        return [answers[k] for k in STARTBACK_ITEMS]
    if isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != len(STARTBACK_ITEMS):
            raise _bad(
                f"STarT Back needs {len(STARTBACK_ITEMS)} answers, got {len(answers)}",
                'items 1–8 agree/disagree, item 9 a word such as "very much"',
            )
        return list(answers)
    raise _bad(
        f"STarT Back answers must be an object keyed by item or a list of 9 values, got "
        f"{type(answers).__name__}"
    )


def startback_risk(total: int, psychosocial_subscore: int) -> StartBackRisk:
    """The Keele risk group for a total (0–9) and psychosocial subscore (0–5)."""
    if not 0 <= psychosocial_subscore <= 5 or not psychosocial_subscore <= total <= 9:
        raise _bad(
            f"impossible STarT Back scores: total {total}, psychosocial subscore "
            f"{psychosocial_subscore}",
            "total is 0–9 and includes the subscore (0–5)",
        )
    if total <= STARTBACK_LOW_MAX_TOTAL.value:
        return "low"
    if psychosocial_subscore >= STARTBACK_HIGH_MIN_SUBSCORE.value:
        return "high"
    return "medium"


def score_startback(answers: Mapping[str, Any] | Sequence[Any]) -> StartBackResult:
    """Score a 9-item Keele STarT Back screen; all items must be answered."""
    values = _startback_values(answers)
    item_scores: dict[str, int] = {}
    for key, value in zip(STARTBACK_ITEMS[:8], values[:8], strict=True):
        if value is None:
            raise _bad(f"STarT Back item {key!r} is unanswered", "all 9 items must be answered")
        item_scores[key] = _agree_value(key, value)
    if values[8] is None:
        raise _bad("STarT Back item 9 (bothersomeness) is unanswered", "all 9 items are needed")
    word = _likert_value(values[8])
    item_scores["bothersomeness"] = int(word in STARTBACK_LIKERT_POSITIVE)
    total = sum(item_scores.values())
    subscore = sum(item_scores[k] for k in STARTBACK_PSYCHOSOCIAL_ITEMS)
    risk = startback_risk(total, subscore)
    return StartBackResult(
        item_scores=item_scores,
        bothersomeness=word,
        total=total,
        psychosocial_subscore=subscore,
        risk=risk,
        pathway=STARTBACK_PATHWAYS[risk],
        sources=[SRC_SBST],
        thresholds=[STARTBACK_LOW_MAX_TOTAL, STARTBACK_HIGH_MIN_SUBSCORE],
    )


# ---------------------------------------------------------------------------------------------
# Roland-Morris Disability Questionnaire (24 items)
# ---------------------------------------------------------------------------------------------

RMDQ_VERSION = "RMDQ-24"
RMDQ_ITEMS = 24
RMDQ_MAX = Threshold(name="rmdq_max_score", value=24, unit="points", source_ids=(SRC_RMDQ,))
_RMDQ_NOT_APPLICABLE = {"na", "n/a", "not_applicable", "not applicable"}


class RmdqResult(_Result):
    """A scored Roland-Morris Disability Questionnaire (count of ticked statements)."""

    instrument: Literal["rmdq"] = "rmdq"
    version: str = RMDQ_VERSION
    score: int
    max_score: int = RMDQ_ITEMS
    ticked_items: list[int]
    not_applicable_items: list[int] = Field(
        default_factory=list, description="marked not applicable; scored as not ticked"
    )
    sources: list[str] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)


def score_rmdq(
    ticked: Sequence[int] | None = None, answers: Sequence[Any] | None = None
) -> RmdqResult:
    """Score the RMDQ-24 from ticked item numbers (1–24) or 24 per-item answers."""
    if (ticked is None) == (answers is None):
        raise _bad(
            "give RMDQ either the ticked item numbers or 24 per-item answers, not both/neither",
            'e.g. {"ticked": [2, 3, 13]} or {"answers": [true, false, …]}',
        )
    not_applicable: list[int] = []
    if ticked is not None:
        if isinstance(ticked, str | bytes | Mapping) or not isinstance(ticked, Sequence):
            raise _bad("RMDQ 'ticked' must be a list of item numbers 1–24")
        for item in ticked:
            if not _is_int(item) or not 1 <= item <= RMDQ_ITEMS:
                raise _bad(
                    f"RMDQ ticked item {_describe(item)} is not an item number 1–24",
                    "list the numbers of the statements the patient ticked",
                )
        if len(set(ticked)) != len(ticked):
            dupes = sorted({i for i in ticked if list(ticked).count(i) > 1})
            raise _bad(f"RMDQ ticked item(s) listed twice: {dupes}")
        items = sorted(ticked)
    elif answers is not None:
        if isinstance(answers, str | bytes | Mapping) or not isinstance(answers, Sequence):
            raise _bad("RMDQ 'answers' must be a list of 24 values")
        if len(answers) != RMDQ_ITEMS:
            raise _bad(
                f"RMDQ needs {RMDQ_ITEMS} answers, got {len(answers)}",
                'one value per statement: true (ticked), false, or "not_applicable"',
            )
        items = []
        for number, value in enumerate(answers, start=1):
            if isinstance(value, bool):
                if value:
                    items.append(number)
            elif isinstance(value, str) and value.strip().lower() in _RMDQ_NOT_APPLICABLE:
                not_applicable.append(number)  # not applicable counts as "no"
            else:
                raise _bad(
                    f"RMDQ item {number} has answer {_describe(value)}",
                    'use true (ticked), false, or "not_applicable"',
                )
    return RmdqResult(
        score=len(items),
        ticked_items=items,
        not_applicable_items=not_applicable,
        sources=[SRC_RMDQ],
        thresholds=[RMDQ_MAX],
    )


# ---------------------------------------------------------------------------------------------
# Numeric pain rating scale (NRS-11)
# ---------------------------------------------------------------------------------------------

NRS_MAX = 10
NrsSeverity = Literal["none", "mild", "moderate", "severe"]
NrsScheme = Literal["palos", "physio-canada", "boonstra"]
NRS_DEFAULT_SCHEME: NrsScheme = "palos"


class NrsSchemeSpec(BaseModel):
    """One published set of NRS-11 severity cut points (inclusive upper edges)."""

    model_config = ConfigDict(frozen=True)

    id: str
    description: str
    mild_max: int
    moderate_max: int
    source_ids: tuple[str, ...]

    def band_ranges(self) -> dict[str, str]:
        """Human-readable ranges per severity band."""
        return {
            "none": "0",
            "mild": f"1–{self.mild_max}",
            "moderate": f"{self.mild_max + 1}–{self.moderate_max}",
            "severe": f"{self.moderate_max + 1}–10",
        }

    def thresholds(self) -> list[Threshold]:
        """The scheme's cut points as sourced thresholds."""
        return [
            Threshold(
                name=f"nrs_{self.id}_{band}_max",
                value=v,
                unit="NRS 0–10",
                source_ids=self.source_ids,
            )
            for band, v in (("mild", self.mild_max), ("moderate", self.moderate_max))
        ]


NRS_SCHEMES: dict[str, NrsSchemeSpec] = {
    "palos": NrsSchemeSpec(
        id="palos",
        description="community and patient cut points: mild 1–4, moderate 5–6, severe 7–10",
        mild_max=4,
        moderate_max=6,
        source_ids=(SRC_NRS_PALOS,),
    ),
    "physio-canada": NrsSchemeSpec(
        id="physio-canada",
        description="Physiotherapy Canada teaching page: mild 1–3, moderate 4–6, severe 7–10",
        mild_max=3,
        moderate_max=6,
        source_ids=(SRC_NRS_PHYSIO_CANADA,),
    ),
    "boonstra": NrsSchemeSpec(
        id="boonstra",
        description="chronic musculoskeletal pain, interference-based: mild ≤5, moderate 6–7, "
        "severe ≥8 (0 reported as none)",
        mild_max=5,
        moderate_max=7,
        source_ids=(SRC_NRS_BOONSTRA,),
    ),
}
# 0 is the "no pain" anchor of the scale itself, so every scheme reports it as "none".
NRS_ZERO_IS_NONE = Threshold(
    name="nrs_none_max",
    value=0,
    unit="NRS 0–10",
    expert_estimate=True,
    rationale="0 is the scale's 'no pain' anchor; Boonstra's 'mild ≤5' band is read as 1–5.",
)


class NrsResult(_Result):
    """A numeric pain rating (0–10) with its severity band under a named scheme."""

    instrument: Literal["nrs"] = "nrs"
    version: str = "NRS-11"
    score: int
    severity: NrsSeverity
    scheme: str
    scheme_description: str
    band_ranges: dict[str, str]
    sources: list[str] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)


def nrs_scheme(scheme: str) -> NrsSchemeSpec:
    """Look up an NRS severity scheme by id."""
    if not isinstance(scheme, str) or scheme not in NRS_SCHEMES:
        raise _bad(
            f"unknown NRS severity scheme {scheme!r}", f"use one of: {', '.join(NRS_SCHEMES)}"
        )
    return NRS_SCHEMES[scheme]


def score_nrs(value: int, scheme: str = NRS_DEFAULT_SCHEME) -> NrsResult:
    """Band a 0–10 pain rating as none/mild/moderate/severe under a severity scheme."""
    if not _is_int(value):
        raise _bad(
            f"NRS pain rating {_describe(value)} must be a whole number 0–10",
            "the NRS-11 has 11 points: 0 = no pain, 10 = worst pain imaginable",
        )
    if not 0 <= value <= NRS_MAX:
        raise _bad(
            f"NRS pain rating {value} is outside 0–10",
            "the NRS-11 has 11 points: 0 = no pain, 10 = worst pain imaginable",
        )
    spec = nrs_scheme(scheme)
    severity: NrsSeverity
    if value == 0:
        severity = "none"
    elif value <= spec.mild_max:
        severity = "mild"
    elif value <= spec.moderate_max:
        severity = "moderate"
    else:
        severity = "severe"
    thresholds = spec.thresholds()
    if spec.id == "boonstra":
        thresholds.insert(0, NRS_ZERO_IS_NONE)
    return NrsResult(
        score=value,
        severity=severity,
        scheme=spec.id,
        scheme_description=spec.description,
        band_ranges=spec.band_ranges(),
        sources=list(spec.source_ids),
        thresholds=thresholds,
    )


# ---------------------------------------------------------------------------------------------
# Change between two time points (minimal important change)
# ---------------------------------------------------------------------------------------------

ChangeInstrument = Literal["odi", "rmdq", "nrs"]
ChangeVerdict = Literal["improved", "no_important_change", "worsened"]

# Ostelo 2008 consensus MIC (absolute points); Farrar 2001 agrees for NRS (~2 points / ~30 %).
MIC_POINTS: dict[str, Threshold] = {
    "odi": Threshold(name="odi_mic", value=10, unit="index points", source_ids=(SRC_MIC,)),
    "rmdq": Threshold(name="rmdq_mic", value=5, unit="points", source_ids=(SRC_MIC,)),
    "nrs": Threshold(name="nrs_mic", value=2, unit="points", source_ids=(SRC_MIC, SRC_NRS_MIC)),
}
MIC_PERCENT: dict[str, Threshold] = {
    name: Threshold(
        name=f"{name}_mic_percent_improvement",
        value=30,
        unit="% of baseline",
        source_ids=(SRC_MIC, SRC_NRS_MIC) if name == "nrs" else (SRC_MIC,),
    )
    for name in ("odi", "rmdq", "nrs")
}
# Worsening: the published thresholds describe improvement only; we apply the absolute MIC
# symmetrically and not the percentage (a 1-point rise from a baseline of 1 is +100 %).
WORSENING_POINTS: dict[str, Threshold] = {
    name: Threshold(
        name=f"{name}_worsening_points",
        value=mic.value,
        unit=mic.unit,
        expert_estimate=True,
        rationale=(
            "MIC values were derived for improvement; a rise of at least the same absolute MIC "
            "is taken as worsening, and percentage rises are ignored because small baselines "
            "inflate them."
        ),
    )
    for name, mic in MIC_POINTS.items()
}
_SCORE_RANGES: dict[str, tuple[int, int, bool]] = {
    # (min, max, whole numbers only)
    "odi": (0, 100, False),
    "rmdq": (0, RMDQ_ITEMS, True),
    "nrs": (0, NRS_MAX, True),
}
CHANGE_INSTRUMENTS: tuple[str, ...] = tuple(_SCORE_RANGES)


class ChangeResult(_Result):
    """Change between a baseline and a follow-up score judged against the MIC."""

    instrument: ChangeInstrument
    baseline: float
    followup: float
    absolute_change: float = Field(description="followup − baseline; negative = better")
    percent_change: float | None = Field(
        description="(followup − baseline) / baseline × 100; None when the baseline is 0"
    )
    mic_points: float
    mic_percent: float
    met_absolute_improvement: bool
    met_percent_improvement: bool
    verdict: ChangeVerdict
    rule: str
    sources: list[str] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)


InstrumentScore = float | int | OdiResult | RmdqResult | NrsResult


def check_change_instrument(instrument: str) -> None:
    """Raise InputError unless change can be judged for this instrument."""
    if instrument not in _SCORE_RANGES:
        raise _bad(
            f"change is not defined for instrument {instrument!r}",
            f"use one of: {', '.join(CHANGE_INSTRUMENTS)} (STarT Back is a risk screen)",
        )


def _frac(value: float | int) -> Fraction:
    # Decimal-exact so that 40 → 30 or 10 → 7 sit exactly on the thresholds.
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _score_of(instrument: str, value: Any, label: str) -> Fraction:
    if isinstance(value, OdiResult | RmdqResult | NrsResult):
        if value.instrument != instrument:
            raise _bad(f"{label} is a {value.instrument} result, not {instrument}")
        return value.index_exact if isinstance(value, OdiResult) else Fraction(value.score)
    low, high, whole = _SCORE_RANGES[instrument]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{label} {instrument} score {_describe(value)} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(f"{label} {instrument} score must be a finite number")
    if whole and value != int(value):
        raise _bad(f"{label} {instrument} score {value:g} must be a whole number")
    if not low <= value <= high:
        raise _bad(f"{label} {instrument} score {value:g} is outside {low}–{high}")
    return _frac(value)


def score_change(
    instrument: str, baseline: InstrumentScore, followup: InstrumentScore
) -> ChangeResult:
    """Judge the change from baseline to follow-up against the minimal important change."""
    check_change_instrument(instrument)
    base = _score_of(instrument, baseline, "baseline")
    follow = _score_of(instrument, followup, "follow-up")
    mic = MIC_POINTS[instrument]
    mic_pct = MIC_PERCENT[instrument]
    delta = follow - base
    improvement = -delta
    met_abs = improvement >= _frac(mic.value)
    percent: Fraction | None = None if base == 0 else delta * 100 / base
    met_pct = percent is not None and -percent >= _frac(mic_pct.value)
    verdict: ChangeVerdict
    if met_abs or met_pct:
        verdict = "improved"
    elif delta >= _frac(WORSENING_POINTS[instrument].value):
        verdict = "worsened"
    else:
        verdict = "no_important_change"
    sources = sorted({s for t in (mic, mic_pct) for s in t.source_ids})
    return ChangeResult(
        instrument=instrument,
        baseline=round(float(base), 2),
        followup=round(float(follow), 2),
        absolute_change=round(float(delta), 2),
        percent_change=None if percent is None else round(float(percent), 1),
        mic_points=mic.value,
        mic_percent=mic_pct.value,
        met_absolute_improvement=met_abs,
        met_percent_improvement=met_pct,
        verdict=verdict,
        rule=(
            f"improved if the score falls by ≥{mic.value:g} {mic.unit} or by ≥{mic_pct.value:g}% "
            f"of baseline; worsened if it rises by ≥{mic.value:g} {mic.unit}; lower is better"
        ),
        sources=sources,
        thresholds=[mic, mic_pct, WORSENING_POINTS[instrument]],
    )


# ---------------------------------------------------------------------------------------------
# Dispatch from parsed JSON payloads (the CLI and API read files; this only sees the data)
# ---------------------------------------------------------------------------------------------

INSTRUMENTS: tuple[str, ...] = ("odi", "startback", "rmdq", "nrs")
AnyResult = OdiResult | StartBackResult | RmdqResult | NrsResult


def _check_version(payload: Mapping[str, Any], instrument: str, accepted: set[str]) -> None:
    version = payload.get("version")
    if version is not None and str(version).strip().lower() not in accepted:
        raise _bad(
            f"{instrument} version {version!r} is not supported",
            f"supported: {', '.join(sorted(accepted))} (or omit 'version')",
        )


def _answers(payload: Any, instrument: str) -> Any:
    if isinstance(payload, Mapping):
        if "answers" not in payload:
            raise _bad(
                f"{instrument} input has no 'answers' field",
                'e.g. {"answers": [...]}; see docs/INSTRUMENTS.md',
            )
        return payload["answers"]
    if isinstance(payload, list):
        return payload
    raise _bad(f"{instrument} input must be a JSON object or list, got {type(payload).__name__}")


def score_payload(instrument: str, payload: Any, *, nrs_scheme_id: str | None = None) -> AnyResult:
    """Score an instrument from its documented JSON payload (already parsed)."""
    if isinstance(payload, Mapping) and payload.get("instrument", instrument) != instrument:
        raise _bad(
            f"the input says it is {payload['instrument']!r}, not {instrument!r}",
            "score it with the matching command or fix the 'instrument' field",
        )
    if instrument == "odi":
        answers = _answers(payload, "ODI")
        if isinstance(payload, Mapping):
            _check_version(payload, "ODI", {"2.1a", "v2.1a"})
            extra = sorted(str(k) for k in set(payload) - {"answers", "version", "instrument"})
            if extra:
                raise _bad(
                    f"unexpected ODI field(s): {', '.join(extra)}",
                    "put the section answers under 'answers'",
                )
        return score_odi(answers)
    if instrument == "startback":
        if isinstance(payload, Mapping):
            _check_version(payload, "STarT Back", {"9-item", "9"})
        return score_startback(_answers(payload, "STarT Back"))
    if instrument == "rmdq":
        if isinstance(payload, list):
            return score_rmdq(answers=payload)
        if not isinstance(payload, Mapping):
            raise _bad(f"RMDQ input must be a JSON object or list, got {type(payload).__name__}")
        _check_version(payload, "RMDQ", {"rmdq-24", "24", "24-item"})
        return score_rmdq(ticked=payload.get("ticked"), answers=payload.get("answers"))
    if instrument == "nrs":
        value = payload.get("score") if isinstance(payload, Mapping) else payload
        scheme = nrs_scheme_id or (
            payload.get("scheme", NRS_DEFAULT_SCHEME)
            if isinstance(payload, Mapping)
            else NRS_DEFAULT_SCHEME
        )
        return score_nrs(value, scheme)
    raise _bad(f"unknown instrument {instrument!r}", f"use one of: {', '.join(INSTRUMENTS)}")
