"""Parse medication sigs ("ibuprofen 400 mg three times daily", "tramadol 50mg q6h prn").

The parser finds the drug (via knowledge-base names and aliases), the strength and unit, how many
units per dose, how often, route, PRN and duration, and computes the largest daily amount the sig
allows. It never guesses silently: anything it cannot read is listed in ``problems``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from spineguide.knowledge.loader import normalize_name

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.knowledge.schema import Drug

MAX_SIG_CHARS = 500

_WORD_NUMBERS = {
    "half": 0.5,
    "one": 1,
    "once": 1,
    "two": 2,
    "twice": 2,
    "three": 3,
    "thrice": 3,
    "four": 4,
    "five": 5,
    "six": 6,
}
_NUM = r"(\d+(?:\.\d+)?|half|one|two|three|four|five|six)"
_RANGE = r"\s*(?:-|–|to|or)\s*"

# Words that belong to the sig, not to the drug name (skipped when looking the name up).
_SIG_WORDS = {
    "mg",
    "g",
    "gm",
    "mcg",
    "ug",
    "micrograms",
    "milligrams",
    "grams",
    "gram",
    "tab",
    "tabs",
    "tablet",
    "tablets",
    "cap",
    "caps",
    "capsule",
    "capsules",
    "take",
    "takes",
    "po",
    "by",
    "mouth",
    "oral",
    "orally",
    "daily",
    "a",
    "day",
    "per",
    "times",
    "time",
    "once",
    "twice",
    "every",
    "hours",
    "hour",
    "hrs",
    "hr",
    "h",
    "prn",
    "as",
    "needed",
    "required",
    "at",
    "night",
    "bedtime",
    "in",
    "the",
    "morning",
    "bd",
    "bid",
    "tds",
    "tid",
    "qds",
    "qid",
    "od",
    "qd",
    "nocte",
    "mane",
    "qhs",
    "hs",
    "for",
    "days",
    "x",
    "max",
    "maximum",
    "of",
    "with",
    "food",
    "and",
    "then",
    "up",
    "to",
    "iv",
    "im",
    "sc",
    "apply",
    "topical",
    "when",
    "if",
    "sig",
}

_UNIT_RE = r"(mg|mcg|µg|ug|micrograms?|milligrams?|grams?|gm|g|%)"
_STRENGTH_RE = re.compile(
    r"(?<![a-z0-9.])(\d+(?:\.\d+)?)(?:" + _RANGE + r"(\d+(?:\.\d+)?))?"
    r"(?:\s*/\s*(\d+(?:\.\d+)?))?\s*" + _UNIT_RE + r"?(?![a-z0-9])"
)
_UNITS_PER_DOSE_RE = re.compile(
    _NUM + r"(?:" + _RANGE + _NUM + r")?\s*(?:x\s*)?"
    r"(tablets?|tabs?|caps(?:ules)?|pills?|patch(?:es)?|sachets?|puffs?|applications?)\b"
)
# A bare tablet count written straight after the strength ("co-codamol 30/500 2 qds"): UK
# prescribing shorthand for "two tablets of 30/500 four times a day". Read as a count only when
# no unit follows it and it is a plausible number of units per dose.
_BARE_COUNT_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?|one|two|three|four|half)(?:\s*(?:-|to|or)\s*(\d+(?:\.\d+)?|one|two|"
    r"three|four))?\s*(?:x\b)?(?!\s*(?:mg|mcg|µg|ug|micrograms?|milligrams?|grams?|gm|g|%|/|\.\d|\d))"
)
MAX_BARE_COUNT = 4  # a bare number above this after a strength is not read as a tablet count
_DAILY_RE = re.compile(
    r"(max(?:imum)?\.?\s*(?:of\s*)?)?(\d+(?:\.\d+)?)\s*(mg|g|mcg)\s*"
    r"(?:/|per|a|in)\s*(?:day|d|24\s*h(?:ours?|rs?)?)\b"
)
_DURATION_RES = (
    re.compile(r"(?:for|x|×)\s*(\d+(?:\.\d+)?)\s*(?:days?|d)\b"),
    re.compile(r"\bday\s*(\d+)\b"),
    re.compile(r"\b(\d+)\s*(?:-|\s)?days?\b"),
)
_PRN_RE = re.compile(r"\b(prn|as needed|as required|when required|if needed|when needed)\b")

# (pattern, min doses per day, max doses per day); interval patterns are handled separately.
_FREQ_FIXED: tuple[tuple[re.Pattern[str], float, float], ...] = tuple(
    (re.compile(p), lo, hi)
    for p, lo, hi in (
        (r"\b(?:qds|qid)\b", 4, 4),
        (r"\b(?:tds|tid)\b", 3, 3),
        (r"\b(?:bd|bid)\b", 2, 2),
        (r"\bevery other day\b|\balternate days\b", 0.5, 0.5),
        (r"\b(?:od|qd|daily|mane|nocte|qhs|hs|qam|qpm|stat)\b", 1, 1),
        (r"\b(?:at|before) (?:night|bedtime)\b|\bbedtime\b|\bin the (?:morning|evening)\b", 1, 1),
        (r"\bevery (?:morning|night|evening)\b|\beach (?:morning|night|evening)\b", 1, 1),
        (r"\bonce\b|\bsingle dose\b|\bsingle shot\b", 1, 1),
    )
)
_FREQ_TIMES_RE = re.compile(
    _NUM + r"(?:" + _RANGE + _NUM + r")?\s*(?:times?|x)\s*(?:a|per|each|/)?\s*(?:day|daily|d)\b"
    r"|(once|twice|thrice)\s*(?:a|per|each)?\s*(?:day|daily)\b"
)
_FREQ_INTERVAL_RE = re.compile(
    r"\b(?:q|every|each)\s*(\d+(?:\.\d+)?)(?:" + _RANGE + r"(\d+(?:\.\d+)?))?\s*"
    r"(?:h|hrs?|hours?|hourly)\b"
    r"|\b(\d+(?:\.\d+)?)(?:" + _RANGE + r"(\d+(?:\.\d+)?))?\s*-?\s*hourly\b"
)
_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\bepidural\b", "epidural"),
        (r"\b(?:iv|im|intravenous(?:ly)?|intramuscular(?:ly)?|injection|inj)\b", "iv_im"),
        (r"\b(?:patch|patches|transdermal|plaster)\b", "transdermal"),
        (r"\b(?:topical(?:ly)?|apply|gel|cream|ointment)\b", "topical"),
        (r"\b(?:po|oral(?:ly)?|by mouth|tablets?|tabs?|capsules?|caps)\b", "oral"),
    )
)


class ParsedSig(BaseModel):
    """A medication sig broken into drug, strength, units, frequency, route and duration."""

    text: str
    name: str | None = None  # drug name as found in the text
    drug_id: str | None = None
    strengths: list[float] = Field(default_factory=list)  # per unit, in the written unit
    strength_max: float | None = None  # upper end of a strength range ("2-4 mg")
    unit: str | None = None  # mg, g, mcg or %
    unit_assumed: bool = False  # a bare number was read as mg
    units_per_dose_min: float = 1
    units_per_dose_max: float = 1
    doses_per_day_min: float | None = None
    doses_per_day_max: float | None = None
    prn: bool = False
    route: str | None = None
    duration_days: float | None = None
    stated_daily_mg: float | None = None  # "1200 mg/day"
    daily_cap_mg: float | None = None  # "max 4 g/day"
    problems: list[str] = Field(default_factory=list)

    def strengths_mg(self) -> list[float] | None:
        """Per-unit strengths converted to mg (None for percentages or a missing strength)."""
        if not self.strengths or self.unit == "%":
            return None
        factor = {"g": 1000.0, "mcg": 0.001}.get(self.unit or "mg", 1.0)
        values = list(self.strengths)
        if self.strength_max is not None and len(values) == 1:
            values = [self.strength_max]
        return [v * factor for v in values]

    def max_daily_mg(self) -> list[float] | None:
        """Largest daily amount per ingredient (mg) the sig allows, or None when not computable."""
        per_unit = self.strengths_mg()
        if self.stated_daily_mg is not None and (per_unit is None or len(per_unit) == 1):
            return None if self.unit == "%" else [self.stated_daily_mg]
        if per_unit is None:
            return None
        if self.doses_per_day_max is None:
            if self.daily_cap_mg is not None and len(per_unit) == 1:
                return [self.daily_cap_mg]
            return None
        daily = [v * self.units_per_dose_max * self.doses_per_day_max for v in per_unit]
        if self.daily_cap_mg is not None and len(daily) == 1:
            daily = [min(daily[0], self.daily_cap_mg)]
        return daily

    def max_single_dose_mg(self) -> list[float] | None:
        """Largest single dose per ingredient (mg), or None when the strength is unknown."""
        per_unit = self.strengths_mg()
        if per_unit is None:
            return None
        return [v * self.units_per_dose_max for v in per_unit]


def _num(text: str) -> float:
    return float(_WORD_NUMBERS.get(text, text)) if text in _WORD_NUMBERS else float(text)


def _normalise(text: str) -> str:
    t = text.lower().replace("µg", "mcg").replace("μg", "mcg").replace("×", "x")
    t = re.sub(r"(?<=[a-z])\.(?=[a-z])", "", t)  # b.i.d. -> bid.
    t = re.sub(r"(?<=[a-z])\.", " ", t)
    t = t.replace("½", " half ").replace("⇧", " ")
    return re.sub(r"\s+", " ", t).strip()


def resolve_drug(text: str, kb: KnowledgeBase) -> tuple[Drug | None, str | None]:
    """Find the drug named in free text: the longest run of words matching a KB name or alias."""
    whole = kb.drug(text)
    if whole is not None:
        return whole, text.strip()
    words = normalize_name(re.sub(r"\d+(?:\.\d+)?\s*%?", " ", text)).split()
    words = words[:16]
    for length in range(min(len(words), 6), 0, -1):
        for start in range(len(words) - length + 1):
            chunk = words[start : start + length]
            if length == 1 and chunk[0] in _SIG_WORDS:
                continue
            drug = kb.drug(" ".join(chunk))
            if drug is not None:
                return drug, " ".join(chunk)
    return None, None


def _guess_name(text: str) -> str | None:
    head = re.split(r"\d", text, maxsplit=1)[0]
    words = [w for w in normalize_name(head).split() if w not in _SIG_WORDS]
    return " ".join(words) or None


def _frequency(t: str, sig: ParsedSig) -> None:
    m = _FREQ_INTERVAL_RE.search(t)
    if m:
        a = m.group(1) or m.group(3)
        b = m.group(2) or m.group(4)
        short = float(a)
        long_ = float(b) if b else short
        if short <= 0 or long_ <= 0:
            sig.problems.append("dosing interval of zero hours")
            return
        short, long_ = min(short, long_), max(short, long_)
        sig.doses_per_day_max = 24.0 / short
        sig.doses_per_day_min = 24.0 / long_
        return
    m = _FREQ_TIMES_RE.search(t)
    if m:
        if m.group(3):
            n = _num(m.group(3))
            sig.doses_per_day_min = sig.doses_per_day_max = n
        else:
            lo = _num(m.group(1))
            hi = _num(m.group(2)) if m.group(2) else lo
            sig.doses_per_day_min, sig.doses_per_day_max = min(lo, hi), max(lo, hi)
        return
    for pattern, lo, hi in _FREQ_FIXED:
        if pattern.search(t):
            sig.doses_per_day_min, sig.doses_per_day_max = lo, hi
            return


def _bare_count(after: str, sig: ParsedSig) -> None:
    """Read '2' in '30/500 2 qds' as two units per dose (see _BARE_COUNT_RE)."""
    m = _BARE_COUNT_RE.match(after)
    if not m:
        return
    words = {"half": 0.5}
    lo = words.get(m.group(1)) or _num(m.group(1))
    hi = (words.get(m.group(2)) or _num(m.group(2))) if m.group(2) else lo
    if 0 < lo <= hi <= MAX_BARE_COUNT:
        sig.units_per_dose_min, sig.units_per_dose_max = lo, hi


def parse_sig(text: str, kb: KnowledgeBase) -> ParsedSig:
    """Parse one sig string; unreadable parts are reported in ``problems``, never guessed."""
    sig = ParsedSig(text=text)
    if len(text) > MAX_SIG_CHARS:
        sig.problems.append(f"sig longer than {MAX_SIG_CHARS} characters")
        return sig
    t = _normalise(text)
    if not t:
        sig.problems.append("empty medication text")
        return sig
    drug, name = resolve_drug(text, kb)
    if drug is not None:
        sig.drug_id, sig.name = drug.id, name
    else:
        sig.name = _guess_name(t)

    if _PRN_RE.search(t):
        sig.prn = True
    for pattern, route in _ROUTES:
        if pattern.search(t):
            sig.route = route
            break

    rest = t
    for m in _DAILY_RE.finditer(t):
        value = float(m.group(2)) * {"g": 1000.0, "mcg": 0.001}.get(m.group(3), 1.0)
        if m.group(1):
            sig.daily_cap_mg = value
        else:
            sig.stated_daily_mg = value
        rest = rest.replace(m.group(0), " ")
    for pattern in _DURATION_RES:
        m = pattern.search(rest)
        if m:
            sig.duration_days = float(m.group(1))
            rest = rest.replace(m.group(0), " ")
            break
    m = _UNITS_PER_DOSE_RE.search(rest)
    counted = m is not None
    if m:
        lo = _num(m.group(1))
        hi = _num(m.group(2)) if m.group(2) else lo
        sig.units_per_dose_min, sig.units_per_dose_max = min(lo, hi), max(lo, hi)
        rest = rest.replace(m.group(0), " ")
    _frequency(rest, sig)
    rest = _FREQ_INTERVAL_RE.sub(" ", rest)
    rest = _FREQ_TIMES_RE.sub(" ", rest)

    m = _STRENGTH_RE.search(rest)
    if m:
        first, upper, second, unit = m.group(1), m.group(2), m.group(3), m.group(4)
        sig.strengths = [float(first)] + ([float(second)] if second else [])
        if upper and not second:
            sig.strength_max = float(upper)
        if not counted:
            _bare_count(rest[m.end() :], sig)
        if unit is None:
            sig.unit, sig.unit_assumed = "mg", True
            sig.problems.append(f"no unit after {m.group(0).strip()!r}; read as mg")
        else:
            sig.unit = {
                "µg": "mcg",
                "ug": "mcg",
                "microgram": "mcg",
                "micrograms": "mcg",
                "milligram": "mg",
                "milligrams": "mg",
                "gram": "g",
                "grams": "g",
                "gm": "g",
            }.get(unit, unit)
    elif sig.stated_daily_mg is None:
        sig.problems.append("no strength found")
    if sig.doses_per_day_max is None and sig.stated_daily_mg is None:
        sig.problems.append(
            "no frequency found" + (" (PRN without an interval)" if sig.prn else "")
        )
    return sig
