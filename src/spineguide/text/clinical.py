"""Clinical free text (history, exam, labs) → evidence items with spans.

The vocabulary (``text/vocabulary/clinical.yaml``) maps words to finding ids; this module adds the
context a clinician reads into a note: negation (``denies``, ``no``, ``without``, ``… negative``),
coordinated lists (``no fever, weight loss or night sweats``), family members (``mother has
psoriasis`` is not the patient's), laterality carried across a sentence, MRC grades, reflex states,
tension-test angles, demographics, durations and lab values.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from spineguide.errors import InputError, InputTooLargeError
from spineguide.knowledge.loader import read_yaml
from spineguide.reasoning.evidence import Choice, Evidence, trusted_evidence
from spineguide.text.context import ContextEngine, ContextRules, CueMatch, context_path, tokenise
from spineguide.text.pipeline import MedicationMention, Uninterpreted
from spineguide.text.prefilter import (
    LiteralFinder,
    LiteralHits,
    LiteralIndex,
    first_chars,
    folds_like_ascii,
    with_first_char_test,
)

MAX_TEXT_CHARS = 100_000  # documented input limit for one presentation
VOCAB_PATH = Path(__file__).parent / "vocabulary" / "clinical.yaml"

_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})
_PAIN_FREE = re.compile(r"pain[- ]free", re.I)
_FAMILY_SPA = re.compile(
    r"psoria|crohn|colitis|inflammatory bowel|uveitis|iritis|ankylosing|spondyloarthr|spondylitis|"
    r"(?<!\w)(?:ibd|axspa)(?!\w)",
    re.I,
)
_SIDE = re.compile(
    r"(?<!\w)(?:(left|right|lt|rt)|(bilateral(?:ly)?|bilat|b/l|ble|both|each side|both sides))(?!\w)|"
    # "R leg", and "RLE"/"LLE" (right/left lower extremity): the letter is the side
    r"(?<![\w/])(l|r)(?=\s+(?:leg|thigh|calf|foot|knee|hip|buttock|side)|les?(?!\w))|"
    r"(?<![\w/.])(?-i:(L|R))(?![\w/'-])(?!\.\w)",  # telegraphic "KJ absent L", "SLR +ve at 40° R"
    re.I,
)
# "pain into R) lateral calf", "(L) sided LBP": a bracket around a capital L or R marks the side;
# it is rewritten as "Rt"/"Lt" (same length, offsets kept; "(L)" becomes "Lt" and a space) so it
# does not split the clause
_SIDE_BRACKET = re.compile(r"\((?-i:([LR]))\)|(?<![\w(])(?-i:([LR]))\)(?=\s|$)")
# (an arrow opens a telegraphic sentence too: "AJ ++ bilat. ↓ PP medial calf L")
# (a break starts at a space or at the end: that is tested before the alternation)
_SENTENCE_END = re.compile(r"(?=\s)(?:(?<=[.!?])\s+(?=[A-Z0-9(\"'↓↑])|\n+)|(?<=[.!?])$")
# (the leading look-ahead tests the first character before the alternation is tried: same
# matches, a fifth faster over a note)
_CLAUSE_SPLIT = re.compile(
    r"(?=[,;:()\sbhatw])(?:[,;:()]|\s-\s|(?<!\w)(?:but|however|although|though|whereas)(?!\w))",
    re.I,
)
_WORD = re.compile(r"\w+")
_NONE: frozenset[int] = frozenset()  # no candidate pattern in a family
_AND_LIST = re.compile(r"(?<!\w)and(?!\w)", re.I)
_WINDOW_CHARS = 240  # context looked at around a mention (negation, side)
_MAX_LIST_ITEMS = 12
_DENIAL_VERBS = frozenset(
    {"denies", "denied", "deny", "denying", "denies any", "negative for", "neg for"}
)
_HISTORY_HEADER = re.compile(
    r"^\W*(?:pmh|pmhx|past medical history|past history|background|previous history)(?!\w)", re.I
)
_CURRENT_KINDS = frozenset({"symptom", "sign", "exam", "red_flag", "course"})
_BILATERAL_LEG = ("leg_pain", "radicular_pain_below_knee")
# findings whose side is read even though they carry none themselves: a bilateral side turns
# them into their bilateral finding (leg weakness on both sides is bilateral leg weakness)
_SIDE_CARRIERS = frozenset({"leg_pain", "radicular_pain_below_knee", "leg_weakness_reported"})

_AGE_PATTERNS = [
    re.compile(r"(?<!\w)(\d{1,3})[- ]?(?:year|yr)s?[- ]old", re.I),
    re.compile(r"(?<!\w)(\d{1,3})\s?(?:y/?o|yo|yrs? old)(?!\w)", re.I),
    re.compile(r"(?<!\w)i'?m (\d{2,3})(?!\w)(?! ?(?:kg|cm|mg|%|/))", re.I),
    re.compile(r"(?<![\w.])(\d{1,3})\s?([MF])(?![\w])"),
    re.compile(r"(?<!\w)(?<!before )(?<!after )(?<!under )(?<!until )aged\s+(\d{1,3})(?!\w)", re.I),
    # "onset before age 45", "since age 12", "by the age of 30" name another age than the patient's
    re.compile(
        r"(?<!\w)(?<!before )(?<!after )(?<!under )(?<!until )(?<!since )(?<!below )(?<!above )"
        r"(?<!over )(?<!from )(?<!by )(?<!at )(?<!the )age[:\s]+(\d{1,3})(?!\w)",
        re.I,
    ),
]
_MALE = re.compile(r"(?<!\w)(?:man|male|gentleman|boy|he|his|him|mr)(?!\w)", re.I)
_FEMALE = re.compile(r"(?<!\w)(?:woman|female|lady|girl|she|her|mrs|ms|miss)(?!\w)", re.I)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "few": 3,
    "couple of": 2, "many": 6,
}  # fmt: skip
_UNIT_DAYS = {
    "hour": 1 / 24,
    "day": 1,
    "week": 7,
    "month": 30.4,
    "year": 365,
    "hr": 1 / 24,
    "wk": 7,
    "mth": 30.4,
    "mo": 30.4,
    "yr": 365,
}  # "x 2 wks", "3 mths"
_UNITS = "(hour|hr|day|week|wk|month|mth|mo|year|yr)"
_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|couple of|many)"
_DURATION_PATTERNS = [
    # "began 2 hours earlier", "came on three days before admission", "onset 6 hours prior"
    re.compile(
        rf"(?<!\w)(?:began|started|came on|onset|developed|commenced)\s+(?:\w+\s+){{0,3}}?{_NUM}\s+"
        rf"(hour|hr|day|week|wk)s?\s+(?:earlier|before|previously|prior|ago)(?!\w)",
        re.I,
    ),
    # "3 weeks of", "for 2 weeks", "over the last 4 days", "10-day history", "since 3 days"
    re.compile(rf"(?<!\w){_NUM}[- ]{_UNITS}s?[- ](?:of|history)(?!\w)", re.I),
    re.compile(
        rf"(?<!\w)(?:for|over|in|during|since)\s+(?:the\s+)?(?:last\s+|past\s+)?"
        rf"(?:about\s+|around\s+|approximately\s+|approx\.?\s+|nearly\s+|almost\s+|roughly\s+)?{_NUM}\s+"
        rf"{_UNITS}s?(?!\w)",
        re.I,
    ),
    re.compile(rf"(?<!\w){_NUM}\s+{_UNITS}s?\s+ago(?!\w)", re.I),
    re.compile(rf"(?<!\w)x\s?{_NUM}\s*{_UNITS}s?(?!\w)", re.I),
    re.compile(
        r"(?<!\w)(?:for|over)\s+(?:the\s+)?(?:last\s+|past\s+)?(year|month|week)(?!\w)", re.I
    ),
    re.compile(r"(?<!\w)since\s+(yesterday|last night|this morning|today)(?!\w)", re.I),
]
_SLASH_DURATION = re.compile(r"(?<![\w/.])(\d{1,2})/(52|12|7)(?![\w/])")  # 3/52 = 3 weeks
_SLASH_UNITS = {"52": "week", "12": "month", "7": "day"}
_FORTNIGHT = re.compile(
    r"(?<!\w)(?:for|over|in|since|x)\s+(?:the\s+)?(?:last\s+|past\s+)?(?:(a|one|two)\s+)?fortnights?(?!\w)|(?<!\w)(a|one|two)[- ]fortnights?[- ](?:of|history)(?!\w)",
    re.I,
)
# every whole-note duration scan, in the order _duration tries them (indexed by the literal pass)
_DURATION_SCANS: tuple[re.Pattern[str], ...] = (_SLASH_DURATION, _FORTNIGHT, *_DURATION_PATTERNS)
_GRADE = re.compile(
    r"(?<![\w/])([0-5])\s?(?:\+|-)?\s?(?:/|out of\s)\s?5(?!\w)|(?<!\w)(?:mrc|grade)\s?([0-5])(?:\+|-)?(?![\w/])"
    r"|(?<![\w/.+-])([0-4])[+-](?![\w/]|\.\d)",  # "hip flexion 3+": a signed grade with no "/5"
    re.I,
)
_AGAINST_GRAVITY = re.compile(
    r"(?:cannot|can't|unable to|not)\s+(?:\w+\s+){0,6}against gravity", re.I
)
_POWER_NORMAL = re.compile(
    r"(?<!\w)(?:(?:power|strength|motor (?:exam|strength))\s+(?:is\s+|was\s+)?(?:full|normal|"
    r"5/5|intact|preserved|symmetrical)|full power|normal power|5/5 (?:throughout|power|bilaterally)|"
    r"no (?:motor )?weakness|power(?:,| and) (?:reflexes|sensation)(?: and sensation)? (?:are |were )?normal|"
    r"reflexes, power and sensation (?:are |were )?normal)",
    re.I,
)
# a power label answered normal after a colon or dash; the verdict ends its clause, so "Power:
# normal except L EHL 4/5" is left to the grades
_POWER_LABEL_NORMAL = re.compile(
    r"(?<!\w)(?:(?:lower[- ]limb |leg )?(?:power|strength|motor(?: exam(?:ination)?| strength)?))"
    r"\s*(?::|\s-)\s*(?:full|normal|5/5|intact|preserved|symmetrical)\s*(?:[.,;)\n]|$)",
    re.I,
)
_SENSATION_NORMAL = re.compile(
    r"(?<!\w)(?:sensation\s+(?:is\s+|was\s+)?(?:normal|intact)|sensory (?:exam(?:ination)? )?"
    r"(?:is )?(?:normal|intact)|no sensory (?:loss|deficit)|reflexes, power and sensation (?:are |were )?normal|"
    r"power(?:,)? (?:and )?sensation (?:are |were )?normal)",
    re.I,
)
# "hip flexion 4/5, otherwise 5/5": a grade after one of these words is the other muscles'
_OTHER_MUSCLES = re.compile(
    r"(?<!\w)(?:otherwise|elsewhere|else|rest|remainder|all other|other (?:muscles?|myotomes?|groups?))"
    r"(?!\w)",
    re.I,
)
# a physiotherapy body chart labels each area of symptoms "P1:", "P2 -" (P for pain); the words
# after the label name where it hurts ("P2: R post thigh to knee, intermittent")
_BODY_CHART = re.compile(
    r"(?<![\w/])p[1-9](?:\s*(?::|=|-(?=\s))|(?=\s+(?:central|left|right|[lr]|lt|rt|bilat\w*|b/l|"
    r"lower|low|back|lbp|buttocks?|thighs?|legs?|calf|foot)(?!\w)))",
    re.I,
)
_AT_START = re.compile("")  # an empty match: the cue of a body-chart clause (it has no pain word)
_ANGLE = re.compile(r"(?<!\w)(?:at\s+)?(\d{1,2})\s*(?:°|deg(?:rees?)?)", re.I)
_GENERIC_REFLEX = re.compile(r"(?<!\w)reflexes(?!\w)", re.I)


@dataclass(frozen=True)
class _Region:
    name: str
    regex: re.Pattern[str]
    pain: str | None
    sensory: str | None
    tingle: str | None
    weak: str | None = None


@dataclass(frozen=True)
class _Phrase:
    finding: str
    regex: re.Pattern[str]
    exclude: re.Pattern[str] | None
    no_negation: bool
    value_group: int | None
    is_test: bool
    choice: Choice | None  # fixed polarity stated by the wording itself ("afebrile")
    prefilter: tuple[str, ...] | None = None  # hand-written literals, where parsing finds none
    also: tuple[str, ...] = ()  # further findings the same words state ("fall from a roof")
    time_value: bool = False  # value = days since, when the sentence states it ("2 weeks ago")
    older_than: tuple[float, str] | None = None  # (days, finding) when the stated time is older
    requires: tuple[str, ...] = ()  # findings the note must also state as present
    alts: tuple[str, ...] = ()  # the patterns joined in `regex`, in order


@dataclass(frozen=True)
class _Numeric:
    finding: str
    regex: re.Pattern[str]  # the name, then a number within a few characters
    above: float | None
    below: float | None
    plausible: tuple[float, float]
    units: tuple[tuple[re.Pattern[str], float], ...] = ()  # unit written after the number → factor
    normal_below: float | None = None  # a reading under this answers the finding absent
    unit_required: bool = False  # a bare number is not this reading ("residual weakness 4/5")
    sentence_needs: re.Pattern[str] | None = None  # words its sentence must hold ("catheter")
    not_followed_by: re.Pattern[str] | None = None  # a rate, not a volume ("50 mL/hr")


# what a number is when a time, a grade, a score or another unit follows it ("PVR 2 days ago",
# "residual pain 3/10"): not the reading named before it
_NOT_A_READING = re.compile(
    r"\s*(?:/|%|(?:days?|hours?|hrs?|h|weeks?|wks?|months?|mths?|years?|yrs?|mg|kg|mm|cm|fr|ch)\b)",
    re.I,
)


# a reading, with thousands written with commas ("bladder scan 1,200 mL" is 1200, not 1)
_NUMBER = r"\d{1,3}(?:,\d{3})+(?!\d|\.\d)|\d+(?:\.\d+)?"


def _numeric(n: dict[str, Any]) -> _Numeric:
    """One numeric reading of the vocabulary: its name (or the words after it) and thresholds.

    "PVR 450", "bladder scan showed 900 ml" (the name, then the number) and, when the entry has
    `after` words, "900 ml residual" (the number and its unit, then the words).
    """
    units = "|".join(u["pattern"] for u in n.get("units", ())) or "(?!)"
    # the number is not part of a word before it ("residual numbness L4" holds no volume)
    body = (
        rf"(?<!\w)(?:{n['name']})(?!\w)\D{{0,12}}?(?<![^\W\d_])({_NUMBER})"
        rf"(?:\s*({units})(?!\w))?"
    )
    if n.get("after"):
        body += (
            rf"|(?<![\w.,])({_NUMBER})\s*({units})(?!\w)\s*(?:of\s+(?:\w+\s+)?urine\s+)?"
            rf"(?:{n['after']})(?!\w)"
        )
    return _Numeric(
        finding=n["finding"],
        regex=re.compile(body, re.I),
        above=n.get("above"),
        below=n.get("below"),
        plausible=(float(n["plausible"][0]), float(n["plausible"][1])),
        units=tuple(
            (re.compile(rf"(?:{u['pattern']})$", re.I), float(u["factor"]))
            for u in n.get("units", ())
        ),
        normal_below=n.get("normal_below"),
        unit_required=bool(n.get("unit_required")),
        sentence_needs=re.compile(n["sentence_needs"], re.I) if n.get("sentence_needs") else None,
        not_followed_by=(
            re.compile(n["not_followed_by"], re.I) if n.get("not_followed_by") else None
        ),
    )


@dataclass(frozen=True)
class _Vocab:
    pain: re.Pattern[str]
    sens: re.Pattern[str]
    tingle: re.Pattern[str]
    weak: re.Pattern[str]
    regions: tuple[_Region, ...]
    muscles: tuple[tuple[str, re.Pattern[str]], ...]
    phrases: tuple[_Phrase, ...]
    reflex_names: tuple[tuple[str, re.Pattern[str]], ...]
    reflex_stop: re.Pattern[str]  # any reflex name (it ends a muscle's grade tail)
    reflex_both: re.Pattern[str]
    reflex_reduced: re.Pattern[str]
    reflex_normal: re.Pattern[str]
    tension: tuple[tuple[str, re.Pattern[str]], ...]
    tension_pos: re.Pattern[str]
    tension_neg: re.Pattern[str]
    weakword: re.Pattern[str]
    numeric: tuple[_Numeric, ...]
    lab_units: dict[str, dict[str, Any]]
    lexicon: tuple[tuple[re.Pattern[str], str], ...]
    index: LiteralIndex  # which vocabulary patterns a text can match, from one literal pass
    bases: dict[str, int]  # where each pattern family starts in the index
    alt_owner: tuple[tuple[int, int], ...]  # phrase pattern number → (phrase, its pattern number)
    # (family, first index position, end position): each family is one contiguous index range
    family_ranges: tuple[tuple[str, int, int], ...]
    treatment_time: re.Pattern[str]  # after a time: the time is a treatment's, not the symptoms'
    procedure_time: re.Pattern[str]  # before a time: the time is an operation's, not the symptoms'
    procedure_time_days: float  # ... when the operation is older than this

    def candidates(self, lower_text: str) -> dict[str, frozenset[int]]:
        """Per pattern family, the positions of the patterns this lower-cased text can match."""
        return self.by_family(self.index.candidates(lower_text))

    def by_family(self, candidates: set[int]) -> dict[str, frozenset[int]]:
        """Index candidates as positions within each pattern family."""
        found = sorted(candidates)
        out: dict[str, frozenset[int]] = {}
        # each family is one contiguous range of the index: cut the sorted answer at its bounds
        for name, base, stop in self.family_ranges:
            lo, hi = bisect.bisect_left(found, base), bisect.bisect_left(found, stop)
            out[name] = frozenset(i - base for i in found[lo:hi]) if hi > lo else _NONE
        return out


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for name, value in macros.items():
        pattern = pattern.replace(f"<<{name}>>", value)
    return pattern


class _LazyRegex:
    """A word-bounded pattern compiled on first use (most phrases never meet their prefilter)."""

    def __init__(self, body: str) -> None:
        self._body = body

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy/pickle protocol probes: not a pattern method
            raise AttributeError(name)
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self._compiled = re.compile(rf"(?<!\w)(?:{self._body})(?!\w)", re.I)
            # later calls find the common methods as plain attributes (no __getattr__ again)
            for attr in ("search", "finditer", "match", "fullmatch", "findall", "sub", "pattern"):
                setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)


def _word_regex(body: str) -> re.Pattern[str]:
    # Compiling ~200 vocabulary patterns up front cost a third of a cold `assess`.
    return cast("re.Pattern[str]", _LazyRegex(body))


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    raw: dict[str, Any] = read_yaml(VOCAB_PATH)
    macros = raw["macros"]
    regions = tuple(
        _Region(
            r["name"],
            _word_regex(_expand(r["pattern"], macros)),
            r.get("pain"),
            r.get("sensory"),
            r.get("tingle"),
            r.get("weak"),
        )
        for r in raw["regions"]
    )
    muscles = tuple(
        (m["finding"], _word_regex(_expand(m["pattern"], macros))) for m in raw["muscles"]
    )
    phrases = []
    bodies = []
    alt_bodies: list[str] = []  # every pattern of every phrase, in order
    alt_owner: list[tuple[int, int]] = []  # (phrase, pattern number) of each
    for i, p in enumerate(raw["phrases"]):
        alts = tuple(f"(?:{_expand(x, macros)})" for x in p["patterns"])
        body = "|".join(alts)
        bodies.append(body)
        for j, alt in enumerate(alts):
            alt_bodies.append(alt)
            alt_owner.append((i, j))
        exclude = p.get("exclude")
        phrases.append(
            _Phrase(
                finding=p["finding"],
                regex=_word_regex(body),
                exclude=_word_regex("|".join(exclude)) if exclude else None,
                no_negation=bool(p.get("no_negation")),
                value_group=p.get("value_group"),
                is_test=bool(p.get("test")),
                choice=Choice(p["choice"]) if p.get("choice") else None,
                prefilter=tuple(str(x).lower() for x in p.get("prefilter") or ()) or None,
                also=tuple(p.get("also", ())),
                requires=tuple(p.get("requires", ())),
                alts=alts,
                time_value=bool(p.get("time_value")),
                older_than=(
                    (float(p["older_than"]["days"]), str(p["older_than"]["finding"]))
                    if p.get("older_than")
                    else None
                ),
            )
        )
    rf = raw["reflexes"]
    tt = raw["tension_tests"]
    numeric = tuple(_numeric(n) for n in raw.get("numeric", []))
    families = {
        "phrases": bodies,
        "regions": [_expand(r["pattern"], macros) for r in raw["regions"]],
        "muscles": [_expand(m["pattern"], macros) for m in raw["muscles"]],
        "tension": [t["pattern"] for t in tt["tests"]],
        "reflexes": list(rf["names"].values()),
        "labs": [rx.pattern for rx in _LAB_SCANS],
        "lexicon": [x["pattern"] for x in raw["red_flag_lexicon"]],
        "family_spa": [_FAMILY_SPA.pattern],
        "durations": [rx.pattern for rx in _DURATION_SCANS],
        "phrase_patterns": alt_bodies,
        "ages": [rx.pattern for rx in _AGE_PATTERNS],
        "symptoms": [macros[k] for k in ("PAIN", "SENS", "TINGLE", "WEAKWORD")],
        "reflex_words": [rf["reduced"], rf["normal"]],
        "numeric": [n.regex.pattern for n in numeric],  # a value needs its name (or words)
        "power_normal": [_POWER_NORMAL.pattern],  # read clause by clause in _muscles
        "body_chart": [_BODY_CHART.pattern],
        "other_muscles": [_OTHER_MUSCLES.pattern],  # "otherwise 5/5", read beside muscles
    }
    bases, flat = {}, []
    for name, bodies_of in families.items():
        bases[name] = len(flat)
        flat += bodies_of
    fallback = [p.prefilter for p in phrases] + [None] * (len(flat) - len(phrases))
    return _Vocab(
        pain=_word_regex(macros["PAIN"]),
        sens=_word_regex(macros["SENS"]),
        tingle=_word_regex(macros["TINGLE"]),
        weak=_word_regex(macros["WEAK"]),
        regions=regions,
        muscles=muscles,
        phrases=tuple(phrases),
        index=LiteralIndex(flat, fallback=fallback),
        bases=bases,
        alt_owner=tuple(alt_owner),
        family_ranges=tuple(
            (name, bases[name], bases[name] + len(pats)) for name, pats in families.items()
        ),
        reflex_names=tuple((k, _word_regex(v)) for k, v in rf["names"].items()),
        reflex_stop=_word_regex("|".join([*rf["names"].values(), rf["both"], "reflexes"])),
        reflex_both=_word_regex(rf["both"]),
        reflex_reduced=_word_regex(rf["reduced"]),
        reflex_normal=_word_regex(rf["normal"]),
        tension=tuple((t["finding"], _word_regex(t["pattern"])) for t in tt["tests"]),
        tension_pos=_word_regex(tt["positive"]),
        tension_neg=_word_regex(tt["negative"]),
        weakword=_word_regex(macros["WEAKWORD"]),
        numeric=numeric,
        lab_units={str(k): dict(v) for k, v in (raw.get("lab_units") or {}).items()},
        treatment_time=re.compile(rf"\s*(?:of\s+)?(?:{raw['treatment_time']})", re.I),
        procedure_time=re.compile(raw["procedure_time"], re.I),
        procedure_time_days=float(raw["procedure_time_days"]["value"]),
        lexicon=tuple(
            (_word_regex(x["pattern"]), str(x["reason"])) for x in raw["red_flag_lexicon"]
        ),
    )


# --------------------------------------------------------------------------------------------
# Document structure: sentences and clauses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NoteContext:
    """The shared context engine with the note cues, and the note's list rules."""

    engine: ContextEngine
    list_affirm: frozenset[str]
    no_list: frozenset[str]
    current_words: frozenset[str]  # a clause under a history heading that is about now
    list_verdicts: tuple[tuple[str, ...], ...]  # words that close a list with a normal verdict
    comma_bounds: frozenset[str]  # negation scopes stop at a comma; lists are joined by clause
    family_bounds: frozenset[str]  # a relative's scope runs over ":" and "," ("Mother: psoriasis")
    # where a forward negation cue may start: the letters its first word opens with (None when
    # some cue opens with punctuation, and every clause must be read)
    negation_starts: LiteralFinder | None = None


_ALNUM_PREFIX = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _note_context() -> _NoteContext:
    raw = read_yaml(VOCAB_PATH)["context"]
    shared = read_yaml(context_path("en"))
    replaced = set(raw.get("replace_categories", ()))
    dropped = {str(p).lower() for p in raw.get("drop_shared_phrases", ())}
    rules = [
        {**r, "phrases": [p for p in r.get("phrases") or [] if str(p).lower() not in dropped]}
        for r in shared["rules"]
        if r["category"] not in replaced
    ] + list(raw["rules"])
    boundaries = frozenset(shared.get("boundaries") or ())
    rules_obj = ContextRules(
        rules,
        list_breakers=shared.get("list_breakers", ()),
        max_scope=int(raw.get("max_scope", 8)),
        boundaries=boundaries,
        separators=shared.get("separators"),
    )
    openers: list[str] = []
    for r in rules:
        if r["category"] != "negated" or r["direction"] not in ("forward", "bidirectional"):
            continue
        for phrase in r.get("phrases") or ():
            m = _ALNUM_PREFIX.match(str(phrase).lower())
            openers.append(m.group() if m else "")
    return _NoteContext(
        negation_starts=LiteralFinder(openers) if all(openers) else None,
        engine=ContextEngine(rules_obj),
        list_affirm=frozenset(raw.get("list_affirm", ())),
        no_list=frozenset(raw.get("no_list", ())),
        current_words=frozenset(raw.get("current_words", ())),
        list_verdicts=tuple(tuple(str(v).lower().split()) for v in raw.get("list_verdicts", ())),
        comma_bounds=boundaries | {",", "-"},
        family_bounds=frozenset({".", ";", "!", "?"}),
    )


_MAX_CONTEXT_TOKENS = 160  # a run-on "sentence" is read in windows this long (bounded cost)


@dataclass
class _SentenceCues:
    words: list[str]
    starts: list[int]
    ends: list[int]
    cues: list[CueMatch]
    cue_starts: list[int] = field(default_factory=list)  # word index where each cue starts


@dataclass
class _Doc:
    text: str
    sentences: list[tuple[int, int]]
    clauses: list[tuple[int, int]]
    clause_starts: list[int]
    sentence_starts: list[int]
    clause_negated: list[bool]  # clause carries a leading negation from a list
    windows: dict[int, list[_SentenceCues]] = field(default_factory=dict)
    window_ends: dict[int, list[int]] = field(default_factory=dict)
    # per mention span, its context and nearest side: several findings are often read from one
    # span ("normal power" denies every muscle), and both depend on the span alone
    contexts: dict[tuple[int, int], dict[str, CueMatch]] = field(default_factory=dict)
    sides: dict[tuple[int, int], str | None] = field(default_factory=dict)

    def clause_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.clause_starts, pos) - 1)

    def sentence_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sentence_starts, pos) - 1)

    def cues_at(self, pos: int) -> _SentenceCues:
        """Tokens and context cues of the sentence window holding `pos` (computed once)."""
        si = self.sentence_of(pos)
        windows = self.windows.get(si)
        if windows is None:
            windows = self.windows[si] = _sentence_windows(self.text, *self.sentences[si])
        if len(windows) == 1:
            return windows[0]
        ends = self.window_ends.get(si)
        if ends is None:
            ends = self.window_ends[si] = [w.ends[-1] if w.ends else 0 for w in windows]
        return windows[min(len(windows) - 1, bisect.bisect_right(ends, pos))]


def _sentence_windows(text: str, s_start: int, s_end: int) -> list[_SentenceCues]:
    toks = tokenise(text[s_start:s_end], s_start)
    rules = _note_context().engine.rules
    out = []
    n = len(toks.words)
    for lo in range(0, max(n, 1), _MAX_CONTEXT_TOKENS):
        hi = min(n, lo + _MAX_CONTEXT_TOKENS)
        words = toks.words[lo:hi]
        cues = rules.match(words)
        out.append(
            _SentenceCues(
                words, toks.starts[lo:hi], toks.ends[lo:hi], cues, [c.start for c in cues]
            )
        )
    return out


def _unbracket_sides(text: str) -> str:
    """Rewrite side marks ("L)", "(R)") as "Lt"/"Rt" without moving any offset."""
    if ")" not in text:
        return text
    return _SIDE_BRACKET.sub(lambda m: f"{m.group(1)}t " if m.group(1) else f"{m.group(2)}t", text)


def _segment(text: str) -> _Doc:
    sentences: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            sentences.append((start, m.start()))
        start = m.end()
    if start < len(text):
        sentences.append((start, len(text)))
    clauses: list[tuple[int, int]] = []
    comma_before: list[bool] = []  # the clause follows a plain comma (a list continues)
    for s_start, s_end in sentences:
        c_start = s_start
        sep = ""
        for m in _CLAUSE_SPLIT.finditer(text, s_start, s_end):
            if m.start() > c_start:
                clauses.append((c_start, m.start()))
                comma_before.append(sep == ",")
            c_start = m.end()
            sep = m.group(0)
        if c_start < s_end:
            clauses.append((c_start, s_end))
            comma_before.append(sep == ",")
    doc = _Doc(
        text=text,
        sentences=sentences,
        clauses=clauses,
        clause_starts=[c for c, _ in clauses],
        sentence_starts=[s for s, _ in sentences],
        clause_negated=[False] * len(clauses),
    )
    _negate_lists(doc, comma_before)
    _negate_signed_items(doc)
    return doc


# a review-of-systems item marked by a sign before it: "(-) fever, (+) leg weakness",
# "+numbness RLE, -saddle anesthesia" ("-ve"/"+ve" are verdict words, not marks)
_SIGN_MARK = re.compile(r"\(\s*([-+])\s*\)|(?<![\w)+-])([-+])(?=[a-z])(?!ve\b)", re.I)
# (the look-behind follows the "+", so the search can skip ahead to each "+" in the note)
_PLUS_MARK = re.compile(r"\+(?<![\w)+-]\+)(?=[a-z])(?!ve\b)", re.I)
_MARK_BEFORE = frozenset(",;:.(\n")  # what may stand before a mark (after spaces): a list


def _negate_signed_items(doc: _Doc) -> None:
    """Deny the clause after a "(-)" mark, and after a bare "-" in a line that marks with signs.

    A bare "-" before a word is read as a denial only in a sentence that also holds a "+" or a
    bracketed mark (a signed list): "-LBP since Monday" alone may be a bullet point, and a bullet
    must not deny what it lists.
    """
    text = doc.text
    # without a bracketed mark, a bare "-" counts only beside a "+" mark: most notes hold neither
    if "(-" not in text and "(+" not in text and ("+" not in text or not _PLUS_MARK.search(text)):
        return
    marks: list[tuple[int, str, bool]] = []  # (where the item starts, sign, bracketed)
    for m in _SIGN_MARK.finditer(text):
        k = m.start() - 1
        while k >= 0 and text[k] in " \t":
            k -= 1
        if k >= 0 and text[k] not in _MARK_BEFORE:
            continue  # "SLR (-)", "FNST (+) L": a verdict after its test, not a list mark
        sign = m.group(1) or m.group(2)
        marks.append((m.end(), sign, m.group(1) is not None))
    if not marks:
        return
    signed = {doc.sentence_of(at) for at, sign, bracket in marks if bracket or sign == "+"}
    for at, sign, bracket in marks:
        if sign != "-" or not (bracket or doc.sentence_of(at) in signed):
            continue
        pos = at
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        ci = doc.clause_of(pos)
        inside = bool(doc.clauses) and doc.clauses[ci][0] <= pos < doc.clauses[ci][1]
        if inside and not text[doc.clauses[ci][0] : at].strip(" \t-"):
            doc.clause_negated[ci] = True  # the mark opens the clause


def _clause_cues(doc: _Doc, ci: int, category: str, direction: str) -> list[CueMatch]:
    """Context cues of one category and direction that lie inside clause `ci`."""
    c_start, c_end = doc.clauses[ci]
    w = doc.cues_at(c_start)
    lo = bisect.bisect_left(w.starts, c_start)
    hi = bisect.bisect_right(w.starts, c_end)
    k = bisect.bisect_left(w.cue_starts, lo)
    return [
        c
        for c in w.cues[k : bisect.bisect_left(w.cue_starts, hi)]
        if c.category == category
        and c.direction in (direction, "bidirectional")
        and w.starts[c.start] >= c_start
        and w.ends[c.end - 1] <= c_end
    ]


def _clause_words(doc: _Doc, ci: int) -> list[str]:
    c_start, c_end = doc.clauses[ci]
    w = doc.cues_at(c_start)
    lo = bisect.bisect_left(w.starts, c_start)
    hi = bisect.bisect_right(w.ends, c_end)
    return w.words[lo:hi]


def _negate_lists(doc: _Doc, comma_before: list[bool]) -> None:
    """Carry a negation over a comma list that is closed by or/nor (or a short and-list).

    "Denies fever, rigors, weight loss, night sweats or night pain": every item is denied. The
    scope ends at any other separator (but, semicolon, bracket), at an item that is not short or
    at an item that affirms ("no fever, now has leg pain"). The cues are the context engine's.
    """
    ctx = _note_context()
    text, clauses, negated = doc.text, doc.clauses, doc.clause_negated
    n = len(clauses)
    lower = text.lower()
    openers = (
        ctx.negation_starts.starts(lower)
        if ctx.negation_starts is not None and len(lower) == len(text)  # offsets line up
        else None
    )
    i = 0
    while i < n:
        if openers is not None:  # no negation cue can start in this clause: nothing to carry
            k = bisect.bisect_left(openers, clauses[i][0])
            if k == len(openers) or openers[k] >= clauses[i][1]:
                i += 1
                continue
        triggers = _clause_cues(doc, i, "negated", "forward")
        if not triggers or triggers[-1].phrase in ctx.no_list:
            i += 1
            continue
        j = i + 1
        close = -1
        short_and = True
        while j < n and j - i <= _MAX_LIST_ITEMS and comma_before[j]:
            if _clause_cues(doc, j, "negated", "forward"):
                break  # a new negated list starts here
            words = _clause_words(doc, j)
            chunk = text[clauses[j][0] : clauses[j][1]]
            closes_or = "or" in words or "nor" in words
            if len(_WORD.findall(chunk)) > (10 if closes_or else 6) or ctx.list_affirm & set(words):
                break
            parts = _AND_LIST.split(chunk)
            short_and = (
                short_and
                and all(len(_WORD.findall(p)) <= 3 for p in parts)
                and not any(ch.isdigit() for ch in chunk)
            )
            if closes_or or (short_and and "and" in words):
                close = j
                if triggers[-1].phrase not in _DENIAL_VERBS:
                    break
                # "denies f/c, bowel or bladder incontinence, saddle anesthesia": a denial
                # verb's list may go on after an item with its own "or"
            j += 1
        else:  # "Denies fever, rigors, IVDU.": a denial verb's list needs no closing "or"
            if (
                j > i + 1
                and triggers[-1].phrase in _DENIAL_VERBS
                and (j == n or not comma_before[j])
            ):
                close = j - 1
        if close > 0:
            for k in range(i + 1, close + 1):
                negated[k] = True
            i = close + 1
        else:
            i += 1


# --------------------------------------------------------------------------------------------
# Context: negation, history, family (the shared context engine) and laterality
# --------------------------------------------------------------------------------------------


def _context(doc: _Doc, start: int, end: int) -> dict[str, CueMatch]:
    """Context categories of the mention at [start, end) and the cue behind each (read-only)."""
    found = doc.contexts.get((start, end))
    if found is None:
        found = doc.contexts[start, end] = _read_context(doc, start, end)
    return found


def _read_context(doc: _Doc, start: int, end: int) -> dict[str, CueMatch]:
    ctx = _note_context()
    w = doc.cues_at(start)
    if not w.cues:
        return {}
    first = bisect.bisect_right(w.ends, start)  # first token ending after the mention starts
    last = bisect.bisect_left(w.starts, end) - 1  # last token starting before it ends
    if first > last:
        return {}
    rules = ctx.engine.rules
    reach = rules.max_scope + 2
    cues = [c for c in w.cues if c.end > first - reach and c.start < last + reach]
    if not cues:
        return {}
    found: dict[str, CueMatch] = {}
    for cue in cues:  # "no history of cancer": the cue runs into the mention's first words
        if cue.category == "negated" and cue.direction == "forward" and cue.start < first < cue.end:
            found["negated"] = cue
    # scopes stop at commas: list distribution over commas is the clause rule above
    near = rules.resolve(w.words, [first, last], cues, boundaries=ctx.comma_bounds,
                         lenient_lists=True)  # fmt: skip
    for k, target in enumerate((first, last)):
        for cat, cue in near[k].items():
            # a cue inside the mention ("has not passed urine") is part of its wording
            before = cue.end <= first and target == first
            after = cue.start > last and target == last
            if (before or after) and cat != "family":
                found.setdefault(cat, cue)
    family = [c for c in cues if c.category in ("family", "terminate", "pseudo")]
    if not any(c.category == "family" and c.end <= first for c in family):
        return found
    wide = rules.resolve(w.words, [first], family, boundaries=ctx.family_bounds,
                         lenient_lists=True)  # fmt: skip
    if "family" in wide[0] and wide[0]["family"].end <= first:
        found["family"] = wide[0]["family"]
    return found


def _is_negated(doc: _Doc, start: int, end: int, ctx: dict[str, CueMatch] | None = None) -> bool:
    """True when the mention at [start, end) is denied (a cue, a denied list, a list verdict)."""
    if "negated" in (ctx if ctx is not None else _context(doc, start, end)):
        return True
    ci = doc.clause_of(start)
    if doc.clauses and doc.clause_negated[ci]:
        return True
    if _ANSWER_NO.match(doc.text, end):
        return True
    if _label_answered_no(doc, end):
        return True
    return _list_tail_negated(doc, ci, start, end)


# the rest of a short label after the mention: "bladder[ or bowel][ upset]" (nothing else)
_LABEL_TAIL = re.compile(
    r"(?:\s*(?:or|and|nor|&|/)\s*[a-z]+)?"
    r"(?:\s+(?:upset|problems?|issues?|symptoms?|sx|dysfunction|disturbances?|changes?|retention|"
    r"incontinence))?",
    re.I,
)


# "Bladder and bowel: normal": a label answered with a normal verdict
_LABEL_NORMAL = re.compile(
    r"\s*(?::|-(?=\s))\s*(?:normal|nad|ok|okay|fine|intact|unremarkable)\s*(?:[.,;)\n]|$)", re.I
)


def _label_answered_no(doc: _Doc, end: int) -> bool:
    """A short label holding the mention is answered no as a whole.

    "Bladder or bowel upset: denied", "bladder or bowel upset denied": the answer follows the
    label, not the mention's own word; "Bladder and bowel: normal" likewise. Only a second item
    and a word like "upset" or "problems" may stand between them, so "left leg with numbness
    denied" keeps the leg.
    """
    after = _LABEL_TAIL.match(doc.text, end).end()  # type: ignore[union-attr]
    if _LABEL_NORMAL.match(doc.text, after):
        return True  # "Bladder: normal", "Bowel and bladder - normal"
    return after > end and bool(_ANSWER_NO.match(doc.text, after))


_END_PUNCT = frozenset({".", "!", "?", ";", ":"})
_EXAM_SUBJECT = re.compile(
    r"(?<!\w)(?:reflex\w*|jerks?|power|tone|slr|straight leg\w*|fnst|femoral stretch|slump|neuro\w*|"
    r"exam\w*|gait|pulses?|obs|observations|bloods?|x-?rays?|mri|ct|bp|temp\w*|sats|saturations)"
    r"(?!\w)",
    re.I,
)
# a checklist answer right after a label: "Saddle anaesthesia: No", "Fevers - nil", "Incontinence
# denied" at the end of a line ("absent" is left out: "Ankle reflex: absent" states a finding)
_ANSWER_NO = re.compile(
    r"\s*(?:(?::|-(?=\s)|=|\?)\s*(?:no|nil|none|neg|negative|-ve|denied|denies|n|✗|✘)|\s*[✗✘]"
    r"|\s(?:(?:all|both|is|are|was|were)\s+)?(?:denied|nil|none|negative|-ve))\s*(?:[.,;)\n]|$)",
    re.I,
)


# a checklist answer that leaves the question open: "Retention? Unsure", "Saddle numbness: not asked"
_ANSWER_UNSURE = re.compile(
    r"\s*(?::|-(?=\s)|=|\?)\s*(?:unsure|not sure|unknown|uncertain|unclear|not asked|"
    r"not assessed|not examined|n/?k|\?+)\s*(?:[.,;)\n]|$)",
    re.I,
)


_ANSWER_MARK_CHARS = (":", "-", "=", "?")  # what opens a checklist answer after a mention


def _list_tail_negated(doc: _Doc, ci: int, start: int, end: int) -> bool:
    """ "Bladder, bowel and saddle sensation normal": a short list item shares the list's verdict."""
    if not doc.clauses:
        return False
    c_start, c_end = doc.clauses[ci]
    if end < c_end - 1 or len(_WORD.findall(doc.text, c_start, end)) > 3:
        return False
    if _note_context().list_affirm & set(_clause_words(doc, ci)):
        return False  # "reduced anal tone, perianal sensation intact": the item has its own state
    sent = doc.sentence_of(start)
    for cj in range(ci + 1, min(len(doc.clauses), ci + 5)):
        a, b = doc.clauses[cj]
        if doc.sentence_of(a) != sent or doc.text[doc.clauses[cj - 1][1] : a].strip() != ",":
            return False
        if len(_WORD.findall(doc.text, a, b)) > 8:
            return False
        if _EXAM_SUBJECT.search(doc.text, a, b):
            return False  # "severe sciatica, SLR normal": the verdict is the test's, not a list's
        words = [w for w in _clause_words(doc, cj) if w not in _END_PUNCT]
        verdicts = _note_context().list_verdicts
        # the list closes with a verdict on all of it ("… and saddle sensation normal"); a
        # clause that opens with its own finding ("absent right ankle jerk") is not one
        if any(tuple(words[-len(v) :]) == v for v in verdicts if len(v) <= len(words)):
            return True
    return False


def _is_historical(doc: _Doc, start: int, end: int) -> bool:
    """True when the mention is about a past episode or sits under a history heading."""
    if not doc.clauses:
        return False
    if "historical" in _context(doc, start, end):
        return True
    s_start, _ = doc.sentences[doc.sentence_of(start)]
    if not _HISTORY_HEADER.match(doc.text, s_start):
        return False
    current = _note_context().current_words
    return not current & set(_clause_words(doc, doc.clause_of(start)))


def _side_near(doc: _Doc, start: int, end: int) -> str | None:
    """Nearest side word in the clause, else earlier in the sentence."""
    key = (start, end)
    if key not in doc.sides:
        doc.sides[key] = _read_side(doc, start, end)
    return doc.sides[key]


def _read_side(doc: _Doc, start: int, end: int) -> str | None:
    if not doc.clauses:
        return None
    ci = doc.clause_of(start)
    c_start, c_end = doc.clauses[ci]
    c_start, c_end = max(c_start, start - _WINDOW_CHARS), min(c_end, end + _WINDOW_CHARS)
    best: tuple[int, str] | None = None
    for m in _SIDE.finditer(doc.text, c_start, c_end):
        if m.group(1) == "LT" and _light_touch(doc.text, m):
            continue
        side = _side_word(m)
        dist = start - m.end() if m.end() <= start else m.start() - end
        dist = abs(dist) + (0 if m.end() <= start else 3)  # prefer a preceding side word
        if best is None or dist < best[0]:
            best = (dist, side)
    if best:
        return best[1]
    si = doc.sentence_of(start)
    s_start, _ = doc.sentences[si]
    found = None
    for m in _SIDE.finditer(doc.text, max(s_start, start - 2 * _WINDOW_CHARS), start):
        if m.group(1) != "LT" or not _light_touch(doc.text, m):
            found = _side_word(m)
    return found


# "LT" in capitals beside a sensation word is light touch, not the left side ("sensation to LT",
# "↓ LT ant thigh", "LT & PP intact"); tested only when a match is "LT" (rare), not in _SIDE
_LIGHT_TOUCH_BEFORE = re.compile(
    r"(?:\bto|sensation|\band|↓|reduced|decreased|diminished|altered|impaired)\s*$", re.I
)
_LIGHT_TOUCH_AFTER = re.compile(
    r"\s*(?:[&/+]|and)\s*(?:pp|pin)|\s+(?:sensation|sens\b|intact|reduced|decreased|diminished|"
    r"altered|normal|equal)",
    re.I,
)


def _light_touch(text: str, m: re.Match[str]) -> bool:
    """Whether a side match "LT" is the light-touch abbreviation."""
    if m.group(1) != "LT":
        return False
    before = text[max(0, m.start() - 12) : m.start()]
    return bool(_LIGHT_TOUCH_BEFORE.search(before) or _LIGHT_TOUCH_AFTER.match(text, m.end()))


def _side_word(m: re.Match[str]) -> str:
    if m.group(1):
        return "left" if m.group(1).lower().startswith("l") else "right"
    if m.group(2):
        return "bilateral"
    letter = m.group(3) or m.group(4)
    return "left" if letter.lower() == "l" else "right"


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


class _Collector:
    def __init__(self, doc: _Doc, lateral_ids: frozenset[str] | None = None) -> None:
        self.doc = doc
        self.items: list[Evidence] = []
        self.family_spa: dict[int, bool] = {}
        self.lateral_ids = lateral_ids  # findings that may carry a side (None: all may)
        self.read: list[tuple[int, int]] = []  # cue words the reader used (not evidence spans)
        self.conditional: list[tuple[Evidence, tuple[str, ...]]] = []  # kept if all are present
        self._candidates: dict[str, frozenset[int]] | None = None
        self._hits: LiteralHits | None = None  # where the literals are (None: offsets differ)
        self.ascii = folds_like_ascii(doc.text)  # first-character and offset tests hold
        self._by_clause: dict[str, list[set[int]]] = {}  # see by_clause

    def can_match(self, vocab: _Vocab, family: str) -> frozenset[int]:
        """Positions of the `family` patterns the note can match (one literal pass per note)."""
        if self._candidates is None:
            lower = self.doc.text.lower()
            hits = vocab.index.hits(lower)
            self._candidates = vocab.by_family(hits.candidates)
            # such a text lower-cases character for character, so offsets into the lower-cased
            # text are offsets into the note
            self._hits = hits if self.ascii else None
        return self._candidates[family]

    def may_match_within(self, vocab: _Vocab, family: str, pos: int, start: int, end: int) -> bool:
        """Whether pattern `pos` of `family` can match inside text[start:end] (a clause).

        Reading clause by clause, most clauses hold none of a pattern's words: the literal pass
        says so without running the pattern. False only when the pattern cannot match there.
        """
        if pos not in self.can_match(vocab, family):
            return False
        if self._hits is None:
            return True
        return self._hits.may_match_within(vocab.bases[family] + pos, start, end)

    def by_clause(self, vocab: _Vocab, family: str) -> list[set[int]]:
        """Per clause, the `family` patterns that can match inside it (`may_match_within`).

        One pass over the literal starts of the family's candidates, so a clause loop asks a
        set instead of testing each pattern against each clause.
        """
        got = self._by_clause.get(family)
        if got is not None:
            return got
        doc = self.doc
        clauses, starts = doc.clauses, doc.clause_starts
        out: list[set[int]] = [set() for _ in clauses]
        for pos in self.can_match(vocab, family):
            where = None if self._hits is None else self._hits.starts(vocab.bases[family] + pos)
            if where is None:  # anywhere
                for clause in out:
                    clause.add(pos)
                continue
            for at in where:
                ci = bisect.bisect_right(starts, at) - 1
                if ci >= 0 and at < clauses[ci][1]:
                    out[ci].add(pos)
        self._by_clause[family] = out
        return out

    def mark_read(self, regex: re.Pattern[str], start: int, end: int) -> None:
        """Record the words of `regex` in [start, end) as read (for the uninterpreted report)."""
        self.read += [(m.start(), m.end()) for m in regex.finditer(self.doc.text, start, end)]

    def add(
        self,
        finding: str,
        start: int,
        end: int,
        *,
        choice: Choice | None = None,
        side: str | None = None,
        value: float | None = None,
        negatable: bool = True,
        lateral: bool = True,
    ) -> None:
        doc = self.doc
        ci = doc.clause_of(start)
        ctx = _context(doc, start, end)
        if "family" in ctx:  # about a relative: only a family history of SpA is the patient's
            if ci not in self.family_spa:
                self.family_spa[ci] = bool(_FAMILY_SPA.search(doc.text, *doc.clauses[ci]))
            if not self.family_spa[ci]:
                return
            finding = "family_history_spa"
        if choice is None:
            if negatable and _is_negated(doc, start, end, ctx):
                choice = Choice.absent
            elif negatable and "hypothetical" in ctx:
                choice = Choice.unknown  # "return if saddle numbness develops"
            elif (
                negatable
                # a checklist answer mark right after the mention ("Retention? Unsure")
                and doc.text[end : end + 2].lstrip(" ")[:1] in _ANSWER_MARK_CHARS
                and _ANSWER_UNSURE.match(doc.text, end)
            ):
                choice = Choice.unknown  # "Urinary retention? Unsure": asked, not answered
            else:
                choice = Choice.present
        lateral = lateral and (self.lateral_ids is None or finding in self.lateral_ids)
        if lateral and side is None:
            side = _side_near(doc, start, end)
        cue_spans: list[tuple[int, int]] = []
        if negatable and ctx:
            wanted = {Choice.absent: "negated", Choice.unknown: "hypothetical"}.get(choice)
            cue = ctx.get(wanted) if wanted else None
            if cue is not None:
                w = doc.cues_at(start)
                cue_spans.append((w.starts[cue.start], w.ends[cue.end - 1]))
        self.items.append(
            trusted_evidence(
                finding, choice, side, value, (start, end), doc.text[start:end], "text", cue_spans
            )
        )


def _regions(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    can = col.can_match(vocab, "regions")
    regions = [(i, r) for i, r in enumerate(vocab.regions) if i in can]
    pending: list[tuple[int, str]] = []  # list items without a region: (clause index, kinds)
    carried: tuple[int, tuple[str, ...]] | None = None  # (clause, kinds) a region list continues
    symptom_words = (vocab.pain, vocab.sens, vocab.tingle, vocab.weakword)
    symptoms_in, regions_in = col.by_clause(vocab, "symptoms"), col.by_clause(vocab, "regions")
    charted = _body_chart_clauses(col, vocab)
    # (clause, its region matches) of the clause just read with a region
    last_hits: tuple[int, list[tuple[_Region, re.Match[str]]]] | None = None
    for ci, (c_start, c_end) in enumerate(doc.clauses):
        chunk = doc.text[c_start:c_end]

        # pain, sensory, tingling, weakness words: searched only where the literal pass puts
        # one of their words in this clause
        here = symptoms_in[ci]
        has_pain, has_sens, has_tingle, has_weak = (
            regex.search(chunk) if k in here else None for k, regex in enumerate(symptom_words)
        )
        if ci in charted and not (has_pain or has_sens or has_tingle or has_weak):
            has_pain = _AT_START.match(chunk)  # a body-chart area: its regions are painful
        if not (has_pain or has_sens or has_tingle or has_weak):
            if (
                carried is not None
                and carried[0] == ci - 1
                and _region_tail(col, vocab, ci, carried[1])
            ):
                carried = (ci, carried[1])
            else:
                carried = None
            if not (pending and _is_list_item(doc, ci)):
                pending = []
            continue
        pain_free = bool(_PAIN_FREE.search(chunk))
        taken = bytearray(c_end - c_start)
        found_any = False
        first_region: tuple[_Region, int, int] | None = None
        hits: list[tuple[_Region, re.Match[str]]] = []
        here = regions_in[ci]
        for k, region in regions:
            if k not in here:
                continue  # none of the region's words starts in this clause
            for m in region.regex.finditer(doc.text, c_start, c_end):
                if any(taken[m.start() - c_start : m.end() - c_start]):
                    continue
                taken[m.start() - c_start : m.end() - c_start] = b"\x01" * (m.end() - m.start())
                hits.append((region, m))
        held = (
            _pain_held_elsewhere(
                doc.text, c_start, hits, has_pain, (has_sens, has_tingle, has_weak)
            )
            if has_pain and len(hits) > 1 and not vocab.pain.search(chunk, has_pain.end())
            else set()
        )  # one pain word in the clause ("heaviness" later in it is a pain word of its own)
        for k, (region, m) in enumerate(hits):
            found_any = True
            if first_region is None or m.start() < first_region[1]:
                first_region = (region, m.start(), m.end())
            kinds = (
                (has_pain, region.pain),
                (has_sens, region.sensory),
                (has_tingle, region.tingle),
                (has_weak, region.weak),
            )
            for cue, finding in kinds:
                if cue and finding:
                    if cue is has_pain and k in held:
                        continue  # "sore back, and a numb left calf": the calf is numb, not sore
                    choice = Choice.absent if (pain_free and cue is has_pain) else None
                    # "both legs move, neither is numb": the symptom word carries the denial
                    a, b = c_start + cue.start(), c_start + cue.end()
                    outside = b < m.start() or a >= m.end()
                    if choice is None and outside and _is_negated(doc, a, b):
                        choice = Choice.absent
                    col.add(finding, m.start(), m.end(), choice=choice,
                            side=_plural_side(col, finding, m))  # fmt: skip
        if found_any:
            for cue, regex in (
                (has_pain, vocab.pain),
                (has_sens, vocab.sens),
                (has_tingle, vocab.tingle),
                (has_weak, vocab.weakword),
            ):
                if cue:
                    # the clause holds no such word before the one already found
                    col.mark_read(regex, c_start + cue.start(), c_end)
        if found_any:
            last_hits = (ci, hits)
        elif last_hits is not None and last_hits[0] == ci - 1:
            cues = (has_pain, has_sens, has_tingle, has_weak)
            _trailing_symptoms(col, vocab, ci, last_hits[1], cues)
        carried = None
        if found_any:
            kinds = ("pain",) * bool(has_pain) + ("sensory",) * bool(has_sens)
            carried = (ci, kinds + ("tingle",) * bool(has_tingle))
        if found_any and first_region is not None and pending:
            _distribute(col, pending, first_region)
        if found_any:
            pending = []
        elif _is_list_item(doc, ci):
            pending.append((ci, ""))
        else:
            pending = []
        if not found_any and has_pain and "sciatica" in has_pain.group(0).lower():
            col.add("leg_pain", c_start + has_pain.start(), c_start + has_pain.end())
        if has_pain and "sciatica" in chunk.lower():
            m = re.search("sciatica", chunk, re.I)
            if m:
                col.add("radicular_pain_below_knee", c_start + m.start(), c_start + m.end())
                if not found_any:
                    continue
        if has_tingle and not found_any:
            col.add("paresthesia", c_start + has_tingle.start(), c_start + has_tingle.end())


# Both limbs named in the plural with no side word: "numb legs", "his legs feel weak", "pain down
# the back of the thighs" (not "one of his legs", "either leg")
_PLURAL_LIMB = re.compile(
    r"(?<!\w)(?:legs|feet|thighs|calves|shins|lower (?:limbs|extremities))(?!\w)", re.I
)
_ONE_OF = re.compile(
    r"(?<!\w)(?:one|either|each|any) of (?:the |his |her |my |their |both )?$", re.I
)


def _plural_side(col: _Collector, finding: str, m: re.Match[str]) -> str | None:
    """'bilateral' for a lateral finding read from limbs named in the plural with no side word."""
    if _PLURAL_LIMB.search(m.group(0)) is None:
        return None
    if col.lateral_ids is not None and finding not in col.lateral_ids:
        return None
    doc = col.doc
    if _side_near(doc, m.start(), m.end()) is not None:
        return None  # "left leg and both feet", "R>L legs": the note's own side word wins
    if _ONE_OF.search(doc.text, max(0, m.start() - 20), m.start()):
        return None
    return "bilateral"


_TRAILING_WORDS = 8  # a clause this short after a region may describe it further
# symptoms that come on with walking or standing are claudication (read by its own phrases), not
# a fixed deficit of the region ("both legs aching, going numb and weak after 10 min walking")
_EXERTIONAL = re.compile(r"(?<!\w)(?:walk\w*|stand\w*|exert\w*|exercis\w*|ambulat\w*)(?!\w)", re.I)


def _trailing_symptoms(
    col: _Collector,
    vocab: _Vocab,
    ci: int,
    hits: list[tuple[_Region, re.Match[str]]],
    cues: tuple[re.Match[str] | None, ...],
) -> None:
    """Give a short comma clause's symptom words the region of the clause just before it.

    "Both legs aching, going numb and weak": the legs are numb and weak too. Only a short clause
    in the same sentence that names no region of its own and no exertion (symptoms brought on by
    walking are claudication); its own negation still applies ("left leg painful, no numbness"
    denies numbness of the leg).
    """
    doc = col.doc
    c_start, c_end = doc.clauses[ci]
    region, hit = max(hits, key=lambda h: h[1].start())  # the region nearest what follows
    r_start, r_end = hit.start(), hit.end()
    p_end = doc.clauses[ci - 1][1]
    if doc.text[p_end:c_start].strip() != "," or doc.sentence_of(r_start) != doc.sentence_of(
        c_start
    ):
        return
    if len(_WORD.findall(doc.text, c_start, c_end)) > _TRAILING_WORDS:
        return
    if _EXERTIONAL.search(doc.text, c_start, c_end):
        return
    side = _side_near(doc, r_start, r_end)
    kinds = (region.pain, region.sensory, region.tingle, region.weak)
    regexes = (vocab.pain, vocab.sens, vocab.tingle, vocab.weakword)
    for cue, finding, regex in zip(cues, kinds, regexes, strict=True):
        if cue is not None and finding and cue.end() > cue.start():  # a real symptom word
            col.add(finding, c_start + cue.start(), c_start + cue.end(), side=side)
            col.mark_read(regex, c_start, c_end)


def _body_chart_clauses(col: _Collector, vocab: _Vocab) -> frozenset[int]:
    """Clauses after a body-chart label ("P1:", "P2 -") up to the end of its sentence."""
    if not col.can_match(vocab, "body_chart"):
        return _NONE
    doc = col.doc
    out: set[int] = set()
    for m in _BODY_CHART.finditer(doc.text):
        ci = doc.clause_of(m.end())
        si = doc.sentence_of(m.start())
        end = doc.sentences[si][1]
        while ci < len(doc.clauses) and doc.clauses[ci][0] < end:
            if doc.clauses[ci][1] > m.end():
                out.add(ci)
            ci += 1
    return frozenset(out)


def _pain_held_elsewhere(
    text: str,
    c_start: int,
    hits: list[tuple[_Region, re.Match[str]]],
    pain: re.Match[str] | None,
    others: tuple[re.Match[str] | None, ...],
) -> set[int]:
    """Regions of a clause (positions in `hits`) that its pain word, already a region's, misses.

    "Back pain and numbness of the left leg": the pain word belongs to the back (the region just
    before it), and the leg after it has its own symptom word (numbness between the two, or
    right after the leg), so the leg is numb, not painful. "Back and leg pain" and "back pain
    radiating to the leg" are unchanged. The caller checks that the clause has one pain word.
    """
    spans = [(c_start + o.start(), c_start + o.end()) for o in others if o is not None]
    if pain is None or not spans or len(hits) < 2:
        return set()
    p_start, p_end = c_start + pain.start(), c_start + pain.end()
    if not any(m.end() <= p_start and not text[m.end() : p_start].strip(" -") for _, m in hits):
        return set()
    held = set()
    for k, (_, m) in enumerate(hits):
        if m.start() < p_end:
            continue
        between = any(p_end <= a and b <= m.start() for a, b in spans)
        after = any(a >= m.end() and not text[m.end() : a].strip(" ") for a, _ in spans)
        if between or after:
            held.add(k)
    return held


_LIST_ITEM_WORDS = 3
_TAIL_FILLER = frozenset(
    {"and", "or", "the", "his", "her", "their", "my", "both", "into", "to", "down"}
)
_SIDE_WORDS = frozenset({"left", "right", "l", "r", "lt", "rt", "bilateral", "bilaterally"})


def _region_tail(col: _Collector, vocab: _Vocab, ci: int, kinds: tuple[str, ...]) -> bool:
    """Give a comma clause of region names only the symptoms of the clause before it.

    "Ache spreading into the left thigh, buttock and groin": the buttock and groin pain is read
    too. True when the clause was such a continuation.
    """
    doc = col.doc
    if not kinds or ci == 0:
        return False
    c_start, c_end = doc.clauses[ci]
    p_start, p_end = doc.clauses[ci - 1]
    if doc.text[p_end:c_start].strip() != "," or doc.sentence_of(c_start) != doc.sentence_of(
        p_start
    ):
        return False
    words = _WORD.findall(doc.text, c_start, c_end)
    if not words or len(words) > 10:  # every word not a region must be a filler word
        return False
    taken = bytearray(c_end - c_start)
    hits: list[tuple[_Region, int, int]] = []
    for k, region in enumerate(vocab.regions):
        if not col.may_match_within(vocab, "regions", k, c_start, c_end):
            continue  # none of the region's words is in this clause (or in the note)
        for m in region.regex.finditer(doc.text, c_start, c_end):
            if not any(taken[m.start() - c_start : m.end() - c_start]):
                taken[m.start() - c_start : m.end() - c_start] = b"\x01" * (m.end() - m.start())
                hits.append((region, m.start(), m.end()))
    leftover = "".join(" " if taken[i] else ch for i, ch in enumerate(doc.text[c_start:c_end]))
    if not hits or any(
        w.lower() not in _TAIL_FILLER | _SIDE_WORDS for w in _WORD.findall(leftover)
    ):
        return False
    for region, a, b in hits:  # the side is read as for any mention (earlier in the sentence)
        for kind in kinds:
            finding = getattr(region, kind)
            if finding:
                col.add(finding, a, b)
    return True


def _is_list_item(doc: _Doc, ci: int) -> bool:
    """A short clause followed by a comma in the same sentence: an item of a coordinated list."""
    c_start, c_end = doc.clauses[ci]
    if len(_WORD.findall(doc.text, c_start, c_end)) > _LIST_ITEM_WORDS:
        return False
    if ci + 1 >= len(doc.clauses) or doc.sentence_of(doc.clauses[ci + 1][0]) != doc.sentence_of(
        c_start
    ):
        return False
    return doc.text[c_end : doc.clauses[ci + 1][0]].strip() == ","


def _distribute(
    col: _Collector, pending: list[tuple[int, str]], region: tuple[_Region, int, int]
) -> None:
    """Give list items the region and side of the item that names it.

    "Pain, numbness and weakness of the left leg": the pain is leg pain on the left too.
    """
    vocab = _vocab()
    doc = col.doc
    reg, r_start, r_end = region
    side = _side_near(doc, r_start, r_end)
    for ci, _ in pending:
        c_start, c_end = doc.clauses[ci]
        for regex, finding in (
            (vocab.pain, reg.pain),
            (vocab.sens, reg.sensory),
            (vocab.tingle, reg.tingle),
            (vocab.weakword, reg.weak),
        ):
            m = regex.search(doc.text, c_start, c_end)
            if m and finding:
                col.add(finding, m.start(), m.end(), side=side)
                col.mark_read(regex, c_start, c_end)


def _following(
    doc: _Doc, ci: int, blocked: re.Pattern[str] | tuple[re.Pattern[str], ...], limit: int = 2
) -> int:
    """End of clause `ci` extended over up to `limit` later clauses of its sentence that name nothing new.

    Telegraphic notes split one statement over commas or brackets ("ankle DF 4/5 last week, today
    2/5"; "SLR 60 deg, positive"); a following clause that names another muscle or test stops it.
    """
    end = doc.clauses[ci][1]
    sent = doc.sentence_of(doc.clauses[ci][0])
    patterns = blocked if isinstance(blocked, tuple) else (blocked,)
    for cj in range(ci + 1, min(len(doc.clauses), ci + 1 + limit)):
        a, b = doc.clauses[cj]
        if doc.sentence_of(a) != sent or any(p.search(doc.text, a, b) for p in patterns):
            break
        end = b
    return end


def _grades(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """MRC grades written in `text[start:end]`, in order (every spelling of _GRADE)."""
    stop = len(text) if end is None else end
    return [int(m.group(1) or m.group(2) or m.group(3)) for m in _GRADE.finditer(text, start, stop)]


def _muscles(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    names = tuple(regex for _, regex in vocab.muscles)
    can = col.can_match(vocab, "muscles")
    muscles = [(i, m) for i, m in enumerate(vocab.muscles) if i in can]
    normal_in, muscles_in = col.by_clause(vocab, "power_normal"), col.by_clause(vocab, "muscles")
    # clauses that may say "otherwise" (most notes hold none of its words: no per-clause sets)
    other_in = (
        col.by_clause(vocab, "other_muscles") if col.can_match(vocab, "other_muscles") else None
    )
    # "Power: normal" and "Strength - full": the label's clause, answered after the separator
    labelled = (
        {doc.clause_of(m.start()) for m in _POWER_LABEL_NORMAL.finditer(doc.text)}
        if col.can_match(vocab, "power_normal")
        else set()
    )
    for ci, (c_start, c_end) in enumerate(doc.clauses):
        chunk = doc.text[c_start:c_end]
        if ci in labelled or (
            0 in normal_in[ci]
            and _POWER_NORMAL.search(chunk)
            # "hip flexion 4/5, otherwise 5/5 throughout": the verdict is the other muscles'
            and not any(g < 5 for g in _grades(chunk))
        ):
            # "EHL 4/5 R, otherwise 5/5 throughout": the muscles found weak keep their grade
            weak_before = (
                {e.id for e in col.items if e.choice == Choice.present}
                if other_in is not None and 0 in other_in[ci] and _OTHER_MUSCLES.search(chunk)
                else set()
            )
            for finding, _ in vocab.muscles:
                if finding not in weak_before:
                    col.add(finding, c_start, c_end, choice=Choice.absent, lateral=False)
            continue
        hits: list[tuple[int, int, str]] = []
        taken = bytearray(c_end - c_start)
        here = muscles_in[ci]
        for k, (finding, regex) in muscles:
            if k not in here:
                continue  # none of the muscle's words is in this clause
            for m in regex.finditer(doc.text, c_start, c_end):
                if not any(taken[m.start() - c_start : m.end() - c_start]):
                    taken[m.start() - c_start : m.end() - c_start] = b"\x01" * (m.end() - m.start())
                    hits.append((m.start(), m.end(), finding))
        if not hits:
            continue
        hits.sort()
        # a reflex named after the muscle ends its tail: "quads 4/5, KJ 1+" is not grade 1
        blocked = (*names, _POWER_NORMAL, vocab.reflex_stop)
        if other_in is not None and any(
            other_in[cj] for cj in range(ci + 1, min(len(doc.clauses), ci + 3))
        ):
            blocked = (*blocked, _OTHER_MUSCLES)
        tail_end = _following(doc, ci, blocked)
        tail = doc.text[c_end:tail_end]
        tail_grades = _grades(tail)
        other = (
            _OTHER_MUSCLES.search(chunk)
            if other_in is not None and hits[-1][1] < c_end and 0 in other_in[ci]
            else None
        )
        if other is not None and c_start + other.start() >= hits[-1][1]:
            c_end = c_start + other.start()  # the grades after it are the other muscles'
            chunk, tail_grades = doc.text[c_start:c_end], []
        clause_grades = _grades(chunk)
        weak = vocab.weak.search(chunk) or any(g < 5 for g in tail_grades + clause_grades)
        if weak:
            col.mark_read(vocab.weak, c_start, c_end)
        against_gravity = bool(_AGAINST_GRAVITY.search(chunk))
        for i, (start, end, finding) in enumerate(hits):
            seg_end = hits[i + 1][0] if i + 1 < len(hits) else c_end
            grades = _grades(doc.text, end, seg_end)
            if i + 1 == len(hits):
                grades += tail_grades
            if not grades:
                grades = clause_grades[-1:] or tail_grades[-1:]
            if not weak:
                if grades and grades[-1] == 5:
                    col.add(finding, start, end, choice=Choice.absent)
                continue
            grade: float | None = float(grades[-1]) if grades else None
            if grade is None and against_gravity:
                grade = 2.0
            if grade == 5:
                col.add(finding, start, end, choice=Choice.absent)
                continue
            col.add(finding, start, end, value=grade)
            if grade is not None and grade <= 3:
                col.add("severe_weakness", start, end, value=grade)
            if len(grades) >= 2 and grades[-1] < grades[0]:
                col.add("rapidly_progressive_weakness", start, end, value=grade)


def _reflexes(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    can = col.can_match(vocab, "reflexes")
    verdicts = col.can_match(vocab, "reflex_words")  # reduced / normal wording in the note
    if not verdicts:
        return  # every reading needs one of them
    verdicts_in = col.by_clause(vocab, "reflex_words")
    for ci, (c_start, c_end) in enumerate(doc.clauses):
        chunk = doc.text[c_start:c_end]
        # the verdict words are searched only in the clauses the literal pass puts them in
        here = verdicts_in[ci]
        reduced = vocab.reflex_reduced.search(chunk) if 0 in here else None
        normal = vocab.reflex_normal.search(chunk) if 1 in here else None
        if not (reduced or normal):
            reduced, normal = _reflex_verdict_after(doc, ci, vocab)
            if not (reduced or normal):
                continue
        names: list[tuple[str, int, int]] = []
        both = vocab.reflex_both.search(chunk)
        if both:
            names = [
                (f, c_start + both.start(), c_start + both.end())
                for f in ("patellar_reflex_reduced", "achilles_reflex_reduced")
            ]
        else:
            for i, (finding, regex) in enumerate(vocab.reflex_names):
                if i not in can or not col.may_match_within(vocab, "reflexes", i, c_start, c_end):
                    continue
                for m in regex.finditer(doc.text, c_start, c_end):
                    names.append((finding, m.start(), m.end()))
        if not names:
            generic = _GENERIC_REFLEX.search(chunk)
            if generic and normal and not reduced and "brisk" not in chunk.lower():
                for f in ("patellar_reflex_reduced", "achilles_reflex_reduced"):
                    col.add(f, c_start + generic.start(), c_start + generic.end(),
                            choice=Choice.absent, lateral=False)  # fmt: skip
            continue
        for finding, start, end in names:
            if reduced and not (
                normal and normal.start() < reduced.start() and "brisk" in normal.group(0).lower()
            ):
                choice = Choice.present
                if not reduced and _is_negated(doc, start, end):
                    choice = Choice.absent
            else:
                choice = Choice.absent
            col.add(finding, start, end, choice=choice)
            if normal and "brisk" in normal.group(0).lower():
                col.add("hyperreflexia", start, end, lateral=False)


def _reflex_verdict_after(
    doc: _Doc, ci: int, vocab: _Vocab
) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    """The verdict of a reflex named before a colon or a dash ("Ankle jerks: absent")."""
    if ci + 1 >= len(doc.clauses):
        return None, None
    c_start, c_end = doc.clauses[ci]
    a, b = doc.clauses[ci + 1]
    if doc.text[c_end:a].strip() not in (":", "-") or doc.sentence_of(a) != doc.sentence_of(
        c_start
    ):
        return None, None
    stop = vocab.reflex_stop
    if not stop.search(doc.text, c_start, c_end) or stop.search(doc.text, a, b):
        return None, None  # "Reflexes: KJ 2+, AJ absent": the next clause names its own reflexes
    return vocab.reflex_reduced.search(doc.text, a, b), vocab.reflex_normal.search(doc.text, a, b)


# a side written right after a test and its verdict ("FNST (+) L", "SLR +ve R", "SLR -ve bilat"):
# it is the test's, even when another side was named earlier in the sentence
_TEST_SIDE_AFTER = re.compile(
    r"[ \t(]*(?:\+ ?ve|- ?ve|\+|-|positive|negative|pos|neg)?[ \t)]*(?:on the |on |at )?"
    r"(?:(left|right|lt|rt)|(bilateral(?:ly)?|bilat|b/l|both sides|both)|(?-i:(L|R)))(?![\w/'-])",
    re.I,
)


def _test_side_after(text: str, end: int) -> str | None:
    """The side written right after a tension test named at text[:end], if any."""
    m = _TEST_SIDE_AFTER.match(text, end)
    if m is None:
        return None
    if m.group(2):
        return "bilateral"
    word = m.group(1) or m.group(3)
    return "left" if word.lower().startswith("l") else "right"


def _tension_tests(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    names = tuple(regex for _, regex in vocab.tension)
    can = col.can_match(vocab, "tension")
    tests = [(i, t) for i, t in enumerate(vocab.tension) if i in can]
    tests_in = col.by_clause(vocab, "tension")
    for ci, (c_start, c_end) in enumerate(doc.clauses):
        hits: list[tuple[int, int, str]] = []
        here = tests_in[ci]
        for k, (finding, regex) in tests:
            if k not in here:
                continue  # the test is not named in this clause
            for m in regex.finditer(doc.text, c_start, c_end):
                hits.append((m.start(), m.end(), finding))
        if not hits:
            continue
        # longest match wins where names overlap ("reverse SLR" is a femoral test, not an SLR)
        hits.sort(key=lambda h: (h[0], h[0] - h[1]))
        kept: list[tuple[int, int, str]] = []
        taken = bytearray(c_end - c_start)
        for h in hits:
            if not any(taken[h[0] - c_start : h[1] - c_start]):
                taken[h[0] - c_start : h[1] - c_start] = b"\x01" * (h[1] - h[0])
                kept.append(h)
        chunk = doc.text[c_start:c_end]
        if not (vocab.tension_neg.search(chunk) or vocab.tension_pos.search(chunk)):
            chunk = doc.text[c_start : _following(doc, ci, names, limit=1)]
        # the verdict and angle words are the clause's: read once, not once per test named
        neg = vocab.tension_neg.search(chunk)
        pos = vocab.tension_pos.search(chunk)
        denied = neg and not (
            pos and "positive" in pos.group(0).lower() and "negative" not in chunk.lower()
        )
        angle = _ANGLE.search(chunk)
        for start, end, finding in kept:
            if denied:
                choice = Choice.absent
            elif pos:
                choice = Choice.present
            elif _is_negated(doc, start, end):
                choice = Choice.absent
            else:
                continue
            value = float(angle.group(1)) if angle and choice == Choice.present else None
            side = _test_side_after(doc.text, end)
            col.add(finding, start, end, choice=choice, value=value, side=side)


def _family_spa(col: _Collector) -> None:
    """A relative with psoriasis, IBD, uveitis or spondyloarthritis: family history of SpA."""
    doc = col.doc
    if not col.can_match(_vocab(), "family_spa"):
        return  # none of the conditions is named
    for m in _FAMILY_SPA.finditer(doc.text):
        if "family" in _context(doc, m.start(), m.end()):
            col.add("family_history_spa", m.start(), m.end(), lateral=False)


@lru_cache(maxsize=2048)
def _first_char_regex(alts: tuple[str, ...]) -> re.Pattern[str]:
    """`_patterns_regex` with a lookahead for the characters a match can start with.

    For speed: most word starts in a note cannot open any of the patterns, and one character
    test rejects them before the alternation is tried. The lookahead consumes nothing and adds
    no group, so matches and group numbers are those of the plain alternation. Used only for
    notes whose letters and digits are all ASCII (`folds_like_ascii`: the set test and the
    patterns' own letters fold case alike, and a digit is 0-9).
    """
    body = "|".join(alts)
    first = first_chars(f"(?:{body})", ascii_text=True)
    if first is None:
        return _patterns_regex(alts)
    chars = "".join(re.escape(c) for c in sorted(first))
    return re.compile(rf"(?<!\w)(?=[{chars}])(?:{body})(?!\w)", re.I)


@lru_cache(maxsize=64)
def _first_char_scan(regex: re.Pattern[str]) -> re.Pattern[str]:
    """A whole-note scan pattern with its first-character test (notes that fold like ASCII)."""
    return with_first_char_test(regex)


@lru_cache(maxsize=2048)
def _patterns_regex(alts: tuple[str, ...]) -> re.Pattern[str]:
    """Some patterns of a phrase as one word-bounded alternation (compiled once, then cached)."""
    return re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)", re.I)


def _phrases(col: _Collector, vocab: _Vocab, only: Callable[[_Phrase], bool] | None = None) -> None:
    doc = col.doc
    # only phrases whose required literals the text holds are scanned, in vocabulary order, and
    # only with their patterns that can match: a pattern that cannot match anywhere in the text
    # never wins an alternation, so dropping it leaves every match unchanged (a phrase with
    # hand-written prefilter words too: each of its patterns is indexed on its own, and one
    # without literals is always live); a value group keeps the full pattern (group numbers)
    live: dict[int, list[int]] = {}
    owner = vocab.alt_owner
    for k in col.can_match(vocab, "phrase_patterns"):
        i, j = owner[k]
        live.setdefault(i, []).append(j)
    for i in sorted(col.can_match(vocab, "phrases")):
        phrase = vocab.phrases[i]
        if only is not None and not only(phrase):
            continue
        alts = live.get(i)
        if not alts:
            continue  # no pattern of the phrase can match
        regex = phrase.regex
        if col.ascii:  # the same pattern with a test of its first character (see below)
            used = phrase.alts
            if len(alts) < len(phrase.alts) and phrase.value_group is None:
                used = tuple(phrase.alts[j] for j in sorted(alts))
            regex = _first_char_regex(used)
        elif len(alts) < len(phrase.alts) and phrase.value_group is None:
            regex = _patterns_regex(tuple(phrase.alts[j] for j in sorted(alts)))
        vetoed: dict[int, bool] = {}  # per sentence, so repeated mentions stay linear
        for m in regex.finditer(doc.text):
            if phrase.exclude is not None:
                si = doc.sentence_of(m.start())
                if si not in vetoed:
                    s_start, s_end = doc.sentences[si]
                    vetoed[si] = bool(phrase.exclude.search(doc.text, s_start, s_end))
                if vetoed[si]:
                    continue
            value = None
            if phrase.value_group:
                try:
                    value = float(m.group(phrase.value_group))
                except (TypeError, ValueError, IndexError):
                    value = None
            if phrase.choice is not None and _fixed_choice_denied(doc, phrase.choice, m):
                continue  # "not afebrile": leave it to the positive wording and the numbers
            finding = phrase.finding
            if phrase.time_value:
                value = _days_ago(doc, m.start(), m.end())
                if value is not None and phrase.older_than and value > phrase.older_than[0]:
                    finding = phrase.older_than[1]  # "discectomy 2 years ago" is not recent
            n = len(col.items)
            col.add(finding, m.start(), m.end(), choice=phrase.choice, value=value,
                    negatable=not phrase.no_negation)  # fmt: skip
            if len(col.items) > n and phrase.requires:
                col.conditional.append((col.items[-1], phrase.requires))
            if len(col.items) > n:
                added = col.items[-1]
                for extra in phrase.also:
                    col.items.append(added.model_copy(update={"id": extra}))


def _fixed_choice_denied(doc: _Doc, choice: Choice, m: re.Match[str]) -> bool:
    """Whether a wording that states its own polarity ("afebrile") is itself denied.

    A list closed by a normal verdict ("afebrile, general condition preserved") agrees with a
    wording that already says absent, so only a negation cue or a denied list counts for one.
    """
    start, end = m.start(), m.end()
    if choice != Choice.absent:
        return _is_negated(doc, start, end)
    if "negated" in _context(doc, start, end):
        return True
    if not doc.clauses or not doc.clause_negated[doc.clause_of(start)]:
        return False
    # "Denies saddle anaesthesia, bladder and bowel function normal": an item with its own normal
    # verdict agrees with the denial around it rather than reversing it
    ci = doc.clause_of(start)
    if doc.text[doc.clauses[ci][0] : doc.clauses[ci][1]].strip(" .;!?") == m.group(0):
        return False  # "Denies fever, afebrile": the item is the wording itself
    words = [w for w in _clause_words(doc, ci) if w not in _END_PUNCT]
    verdicts = _note_context().list_verdicts
    return not any(tuple(words[-len(v) :]) == v for v in verdicts if len(v) <= len(words))


_AGO = re.compile(
    rf"(?<!\w){_NUM}\s*(hour|hr|day|week|wk|month|mth|mo|year|yr)s?\s+(?:ago|before|earlier|previously|prior)(?!\w)|"
    r"(?<!\w)(?:pod|post-?op(?:erative)? day|day)\s?(\d{1,3})(?!\w)|"
    r"(?<!\w)(yesterday|last night|this morning|last week|last month)(?!\w)",
    re.I,
)
_AGO_WORDS = {"yesterday": 1.0, "last night": 0.5, "this morning": 0.25, "last week": 7.0,
              "last month": 30.4}  # fmt: skip


def _days_ago(doc: _Doc, start: int, end: int) -> float | None:
    """Days since the event named at [start, end), when its sentence says ("10 days ago")."""
    s_start, s_end = doc.sentences[doc.sentence_of(start)]
    best: tuple[int, float] | None = None
    for m in _AGO.finditer(doc.text, s_start, s_end):
        if m.group(1):
            num = m.group(1).lower()
            count = float(num) if num[0].isdigit() else _NUMBER_WORDS.get(num, 1)
            days = count * _UNIT_DAYS[m.group(2).lower()]
        elif m.group(3):
            days = float(m.group(3))
        else:
            days = _AGO_WORDS[m.group(4).lower()]
        dist = abs(m.start() - end) if m.start() >= end else abs(start - m.end())
        if best is None or dist < best[0]:
            best = (dist, round(days, 2))
    return best[1] if best else None


_LABS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("crp", re.compile(r"(?<!\w)(?:crp|c-reactive protein)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    ("esr", re.compile(r"(?<!\w)(?:esr|sed(?:imentation)? rate)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    (
        "wbc",
        re.compile(
            r"(?<!\w)(?:white (?:blood )?(?:cell )?count|wbc|wcc|white cells?)\D{0,12}?"
            r"(\d{1,3}(?:,\d{3})+(?!\d|\.\d)|\d+(?:\.\d+)?)",  # "WBC 15,500" (per microlitre)
            re.I,
        ),
    ),
    ("pth", re.compile(r"(?<!\w)(?:pth|parathyroid hormone)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    ("egfr", re.compile(r"(?<!\w)e?gfr\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    (
        "alkaline_phosphatase",
        re.compile(r"(?<!\w)(?:alp|alkaline phosphatase)\D{0,12}?(\d+)", re.I),
    ),
)
# "T 38.6C", and "T 101.8F", "temp 102.4 °F" (US notes: converted with the data factors)
_TEMP = re.compile(
    r"(?<!\w)(?:temperature|temp|tmax|t|fever|pyrexia|pyrexial|febrile)\s*(?:of\s*|is\s*|was\s*|:\s*)?"
    r"(\d{2,3}(?:\.\d)?)\s*°?\s*([cf])?(?!\w)",
    re.I,
)
_HBA1C = re.compile(r"(?<!\w)hba1c\D{0,10}?(\d+(?:\.\d+)?)\s*(%|mmol)?", re.I)
_HB = re.compile(
    r"(?<!\w)(?:ha?emoglobin|hb)\b\D{0,25}?(\d{1,3}(?:\.\d)?)(?:\s*(?:g/?[dl]l?)?\s*(?:to|->|→|down to)\s*(\d{1,3}(?:\.\d)?))?",
    re.I,
)
# "adj Ca 2.74", "corrected calcium 2.81 mmol/L", "calcium 12.1 mg/dL" ("Ca" alone only before a
# decimal reading, so "Ca breast" stays a cancer)
# "Ca2+ 3.1" and "Ca++ 2.9" name calcium by its ion: a reading low enough to be an ionised
# calcium is left unread; "ionised calcium" itself is another test (its normal range is about half
# the total's) and is never read as the total
_CALCIUM = re.compile(
    # (the ionised test looks back from the end of the name, so a match still opens with a
    # letter the first-character test can use)
    r"(?<!\w)(?:(?:adj(?:usted)?|corr(?:ected)?|serum|total|albumin[- ]adjusted)\.?\s*"
    r"(?:calcium|ca)(?!\w)|calcium(?<!ionised calcium)(?<!ionized calcium)(?<!free calcium)(?!\w)"
    r"|ca(?<!ionised ca)(?<!ionized ca)(?=\s*(?:[:=]|is|was|of)?\s*\d{1,2}\.\d)(?!\w)"
    r"|(ca\s?(?:2\+|\+\+)))\D{0,12}?(\d{1,2}(?:\.\d+)?)"
    r"\s*(mmol\s*/\s*l|mg\s*/\s*dl)?",
    re.I,
)


def _calcium_mmol(value: float, unit: str | None) -> float | None:
    """A calcium reading in mmol/L (mg/dL converted with the data factor), None if implausible."""
    conv = _vocab().lab_units.get("serum_calcium", {})
    mg = unit is not None and unit.lower().replace(" ", "").startswith("mg")
    if mg or (unit is None and value > conv.get("mmol_max", 5.0)):
        value *= conv.get("mg_dl_to_mmol_l", 0.2495)
    low, high = conv.get("plausible_mmol", (1.0, 5.0))
    return value if low <= value <= high else None


_INR = re.compile(r"(?<!\w)inr\D{0,10}?(\d+(?:\.\d+)?)", re.I)
_BP = re.compile(r"(?<!\w)(?:blood pressure|bp)\D{0,10}?(\d{2,3})\s*/\s*(\d{2,3})", re.I)
_PULSE = re.compile(
    r"(?<![\w/])(?:pulse|heart rate|hr|p)\s*(?:rate\s*)?(?:of\s*|is\s*|was\s*|[:=]\s*)?(\d{2,3})(?!\s*/|\.\d|\s*(?:mg|kg|mm|%))",
    re.I,
)
_ABI = re.compile(
    r"(?<!\w)(?:ankle[- ]brachial(?: pressure)? index|abpi|abi)\D{0,10}?(\d(?:\.\d+)?)", re.I
)


# the whole-note value scans below, indexed by the vocabulary's literal prefilter (most notes name
# two or three of them; a scan whose words are absent is skipped)
_LAB_SCANS: tuple[re.Pattern[str], ...] = (
    *(rx for _, rx in _LABS), _CALCIUM, _TEMP, _HBA1C, _HB, _INR, _BP, _PULSE, _ABI,
)  # fmt: skip


_MG_DL = re.compile(r"\s*mg\s*/\s*d[li]\b", re.I)


def _crp_mg_l(value: float, text: str, end: int, units: dict[str, Any]) -> float:
    """A CRP value in mg/L: "CRP 15 mg/dL" is 150 mg/L (kept as written when that is implausible)."""
    if not units or not _MG_DL.match(text, end):
        return value
    converted = value * float(units["mg_dl_to_mg_l"])
    low, high = units["plausible_mg_l"]
    return converted if low <= converted <= high else value


def _labs(col: _Collector, findings: dict[str, Any]) -> None:
    doc = col.doc
    text = doc.text
    can = col.can_match(_vocab(), "labs")
    live = {rx for i, rx in enumerate(_LAB_SCANS) if i in can}

    def scan(regex: re.Pattern[str]) -> Any:
        if regex not in live:
            return ()
        return (_first_char_scan(regex) if col.ascii else regex).finditer(text)

    def threshold(fid: str, value: float, start: int, end: int) -> None:
        f = findings.get(fid)
        above = getattr(f, "abnormal_above", None) if f else None
        below = getattr(f, "abnormal_below", None) if f else None
        abnormal = (above is not None and value > above) or (below is not None and value < below)
        col.add(fid, start, end, choice=Choice.present if abnormal else Choice.absent,
                value=value, negatable=False, lateral=False)  # fmt: skip

    crp_units = _vocab().lab_units.get("crp", {})
    wbc_units = _vocab().lab_units.get("wbc", {})
    for fid, regex in _LABS:
        for m in scan(regex):
            value = float(m.group(1).replace(",", ""))
            if fid == "crp":
                value = _crp_mg_l(value, text, m.end(), crp_units)
            elif fid == "wbc" and wbc_units and value >= float(wbc_units["per_ul_min"]):
                value *= float(wbc_units["per_ul_to_10e9_l"])  # "WBC 15,500" cells/µL
            threshold(fid, value, m.start(), m.end())
    ca_units = _vocab().lab_units.get("serum_calcium", {})
    for m in scan(_CALCIUM):
        if m.group(1) and float(m.group(2)) < float(ca_units.get("ionised_max", 2.0)):
            continue  # "Ca2+ 1.32" may be an ionised calcium
        value = _calcium_mmol(float(m.group(2)), m.group(3))
        if value is not None:
            threshold("serum_calcium", round(value, 2), m.start(), m.end())
    temp_units = _vocab().lab_units.get("temperature", {})
    for m in scan(_TEMP):
        value = float(m.group(1))
        bare_f = temp_units.get("bare_fahrenheit")
        fahrenheit = (m.group(2) or "").lower() == "f" or (
            m.group(2) is None
            and bare_f is not None
            and float(bare_f[0]) <= value <= float(bare_f[1])
            and not m.group(0)[:2].lower().startswith(("t ", "t:", "t="))  # a bare "T 100"
        )
        if fahrenheit:
            offset, factor = (
                temp_units.get("fahrenheit_offset"),
                temp_units.get("fahrenheit_factor"),
            )
            if offset is None or factor is None:
                continue  # no conversion in the data: a Fahrenheit reading stays unread
            value = round((value - float(offset)) * float(factor), 1)
        if 34 <= value <= 43:
            threshold("fever", value, m.start(), m.end())
    for m in scan(_HBA1C):
        value = float(m.group(1))
        unit = (m.group(2) or "").lower()
        mmol = value if unit.startswith("mmol") or value > 20 else (value - 2.15) * 10.929
        threshold("hba1c", round(mmol, 1), m.start(), m.end())
        if mmol > 69:  # ~8.5 %: poorly controlled (expert estimate; see findings core)
            col.add(
                "poorly_controlled_diabetes", m.start(), m.end(), negatable=False, lateral=False
            )
    hb_units = _vocab().lab_units.get("hemoglobin", {})
    hb_factor, hb_max = float(hb_units.get("g_dl_to_g_l", 10)), float(hb_units.get("g_dl_max", 25))

    def g_per_l(x: str) -> float:
        value = float(x)
        return value * hb_factor if value < hb_max else value  # g/dL written bare → g/L

    for m in scan(_HB):
        first = g_per_l(m.group(1))
        second = g_per_l(m.group(2)) if m.group(2) else None
        if not 20 <= first <= 250:
            continue
        current = second if second is not None else first
        threshold("hemoglobin", current, m.start(), m.end())
        if second is not None and first - second >= 15:
            col.add(
                "hemoglobin_drop",
                m.start(),
                m.end(),
                value=first - second,
                negatable=False,
                lateral=False,
            )
    for m in scan(_INR):
        value = float(m.group(1))
        threshold("supratherapeutic_inr", value, m.start(), m.end())
    for m in scan(_BP):
        systolic = float(m.group(1))
        threshold("hypotension", systolic, m.start(), m.end())
    for m in scan(_PULSE):
        threshold("tachycardia", float(m.group(1)), m.start(), m.end())
    for m in scan(_ABI):
        threshold("low_abi", float(m.group(1)), m.start(), m.end())
    named = col.can_match(_vocab(), "numeric")
    for k, num in enumerate(_vocab().numeric):
        if k not in named:
            continue  # the value's name is not in the note
        for m in num.regex.finditer(text):
            first = m.group(1) is not None  # the name, then the number
            value = float((m.group(1) if first else m.group(3)).replace(",", ""))
            unit = m.group(2) if first else m.group(4)
            if unit is None and (num.unit_required or _NOT_A_READING.match(text, m.end())):
                continue  # "residual weakness 4/5", "PVR 2 days ago": no volume
            if num.not_followed_by is not None and num.not_followed_by.match(text, m.end()):
                continue  # "catheter draining 50 mL/hr" is a rate
            if num.sentence_needs is not None:
                s_start, s_end = col.doc.sentences[col.doc.sentence_of(m.start())]
                if not num.sentence_needs.search(text, s_start, s_end):
                    continue  # "300 mL drained" from an abscess is no bladder volume
            if unit:
                value *= next((f for rx, f in num.units if rx.match(unit)), 1.0)
            if not num.plausible[0] <= value <= num.plausible[1]:
                continue
            high = num.above is not None and value > num.above
            low = num.below is not None and value < num.below
            if high or low:  # a normal reading does not rule the finding out …
                col.add(num.finding, m.start(), m.end(), value=value, negatable=False,
                        lateral=False)  # fmt: skip
            elif num.normal_below is not None and value < num.normal_below:  # … unless it is clear
                col.add(num.finding, m.start(), m.end(), choice=Choice.absent, value=value,
                        negatable=False, lateral=False)  # fmt: skip


def _demographics(col: _Collector) -> None:
    text = col.doc.text
    # the earliest age statement wins ("60F … 1 yr LBP" is 60, not 1)
    can = col.can_match(_vocab(), "ages")
    candidates = [
        (m, rx)
        for i, rx in enumerate(_AGE_PATTERNS)
        if i in can and (m := (_first_char_scan(rx) if col.ascii else rx).search(text))
    ]
    candidates = [(m, rx) for m, rx in candidates if 0 < float(m.group(1)) < 120]
    if candidates:
        m, regex = min(candidates, key=lambda c: c[0].start())
        col.add("age", m.start(), m.end(), value=float(m.group(1)), negatable=False, lateral=False)
        if regex.groups >= 2 and m.group(2):
            sex = "sex_male" if m.group(2).upper() == "M" else "sex_female"
            col.add(sex, m.start(), m.end(), negatable=False, lateral=False)
    if not any(e.id in ("sex_male", "sex_female") for e in col.items):
        head = text[:200]
        male, female = _MALE.search(head), _FEMALE.search(head)
        if male and (not female or male.start() < female.start()):
            col.add("sex_male", male.start(), male.end(), negatable=False, lateral=False)
        elif female:
            col.add("sex_female", female.start(), female.end(), negatable=False, lateral=False)


def _not_symptom_time(
    col: _Collector, start: int, med_starts: list[int], to_original: Callable[[int], int]
) -> bool:
    """True when a time at `start` belongs to a medicine or the past history, not the symptoms.

    "On prednisolone 10 mg for 2 years", "PMH: diabetes for 10 years".
    """
    doc = col.doc
    if not doc.clauses:
        return False
    c_start = doc.clauses[doc.clause_of(start)][0]
    k = bisect.bisect_left(med_starts, to_original(c_start))  # medicine spans are original
    if k < len(med_starts) and med_starts[k] < to_original(start):
        return True
    s_start = doc.sentences[doc.sentence_of(start)][0]
    return bool(_HISTORY_HEADER.match(doc.text, s_start))


_SINCE = re.compile(r"(?<!\w)(?:since|ever since|after|following|from)(?!\w)", re.I)
_AGO_WORD = re.compile(r"(?<!\w)(?:ago|previously|before|earlier|back)(?!\w)", re.I)
_TIME_SPAN = re.compile(rf"(?<!\w){_NUM}\s*(hour|day|week|month|year)s?(?!\w)", re.I)


def _operation_time(col: _Collector, procedure: re.Pattern[str], start: int, end: int) -> bool:
    """True when a time "… ago" dates an old operation named just before it in its sentence.

    "L4-5 fusion 8 years ago" dates the fusion; "pain since her fusion 8 years ago" still dates
    the pain (the symptom is said to run from the operation). A recent operation ("injection 10
    days ago") still bounds the new symptoms, so it is kept as their time.
    """
    doc = col.doc
    if not doc.sentences or not _AGO_WORD.search(doc.text, start, end + 12):
        return False
    span = _TIME_SPAN.search(doc.text, start, end)
    if span is not None:
        num = span.group(1).lower()
        count = float(num) if num[0].isdigit() else _NUMBER_WORDS.get(num, 1)
        if count * _UNIT_DAYS[span.group(2).lower()] <= _vocab().procedure_time_days:
            return False
    s_start = doc.sentences[doc.sentence_of(start)][0]
    before = doc.text[max(s_start, start - 60) : start]
    hits = list(procedure.finditer(before))
    return bool(hits) and not _SINCE.search(before, 0, hits[-1].start())  # nearest operation


def _duration(
    col: _Collector,
    med_starts: list[int] | None = None,
    to_original: Callable[[int], int] = lambda i: i,
) -> None:
    text = col.doc.text
    meds = sorted(med_starts or [])
    can = col.can_match(_vocab(), "durations")
    live = {rx for i, rx in enumerate(_DURATION_SCANS) if i in can}

    treatment = _vocab().treatment_time
    procedure = _vocab().procedure_time

    def first(regex: re.Pattern[str]) -> re.Match[str] | None:
        if regex not in live:
            return None  # the text lacks the words every match needs
        return next(
            (m for m in regex.finditer(text)
             if not _not_symptom_time(col, m.start(), meds, to_original)
             and not treatment.match(text, m.end())  # "six weeks of physiotherapy"
             and not _operation_time(col, procedure, m.start(), m.end())),
            None,
        )  # fmt: skip

    slash = first(_SLASH_DURATION)
    if slash:
        days = int(slash.group(1)) * _UNIT_DAYS[_SLASH_UNITS[slash.group(2)]]
        _add_duration(col, days, slash.start(), slash.end())
        return
    fortnight = first(_FORTNIGHT)
    if fortnight:
        count = _NUMBER_WORDS.get((fortnight.group(1) or fortnight.group(2) or "a").lower(), 1)
        _add_duration(col, 14.0 * count, fortnight.start(), fortnight.end())
        return
    for regex in _DURATION_PATTERNS:
        m = first(regex)
        if not m:
            continue
        groups = [g for g in m.groups() if g]
        if len(groups) == 1:
            word = groups[0].lower()
            days = {"yesterday": 1, "last night": 0.5, "this morning": 0.25, "today": 0.25}.get(
                word
            )
            if days is None:
                days = _UNIT_DAYS.get(word, 0)
        else:
            num, unit = groups[0].lower(), groups[1].lower()
            count = float(num) if num[0].isdigit() else _NUMBER_WORDS.get(num, 1)
            days = count * _UNIT_DAYS[unit]
        _add_duration(col, days, m.start(), m.end())
        return


def _add_duration(col: _Collector, days: float, start: int, end: int) -> None:
    col.add(
        "symptom_duration_days", start, end, value=round(days, 2), negatable=False, lateral=False
    )
    if days > 84:
        col.add("chronic_course", start, end, negatable=False, lateral=False)


def _dominant_side(items: list[Evidence], lateral_ids: set[str]) -> None:
    """Give unlateralized lateral findings the presentation's single side, if there is one."""
    sides = {e.side for e in items if e.side and e.choice == Choice.present and e.id in lateral_ids}
    if len(sides) != 1:
        return
    (side,) = sides
    for e in items:
        if e.side is None and e.id in lateral_ids and e.choice == Choice.present:
            e.side = side


def _dedupe(items: list[Evidence]) -> list[Evidence]:
    """Keep one item per (id, side, choice); present beats absent for the same id and side."""
    out: dict[tuple[str, str | None], Evidence] = {}
    for e in items:
        key = (e.id, e.side)
        prev = out.get(key)
        same = prev is not None and prev.choice == e.choice
        better = (
            prev is None
            or (prev.choice != Choice.present and e.choice == Choice.present)
            or (same and prev.value is None and e.value is not None)
            or (
                same
                and e.value is not None
                and prev.value is not None
                and e.id.endswith("weakness")
                and e.value < prev.value
            )
        )
        if better:
            out[key] = e
    return list(out.values())


@dataclass
class NoteReading:
    """Everything the note reader found in one text (the pipeline wraps it in an Extraction)."""

    evidence: list[Evidence]
    medications: list[MedicationMention]
    uninterpreted: list[Uninterpreted]
    imaging_spans: list[tuple[int, int]]


def extract_clinical_evidence(text: str) -> list[Evidence]:
    """Read a free-text presentation into evidence items with spans."""
    return read_note(text).evidence


_LATERAL: dict[str, frozenset[str]] = {}


def _lateral_ids(kb: Any) -> frozenset[str]:
    """Findings that may carry a side, per knowledge-base version."""
    got = _LATERAL.get(kb.version)
    if got is None:
        got = _LATERAL[kb.version] = frozenset(f.id for f in kb.findings.values() if f.lateralized)
    return got


def read_note(text: str) -> NoteReading:
    """Read a clinical note: evidence, medicines, uninterpreted red-flag wording, imaging spans."""
    if not isinstance(text, str):
        raise InputError("clinical text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise InputTooLargeError(
            f"clinical text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
            "send one presentation at a time (history, exam, labs and imaging summary)",
        )
    if not text.strip():
        return NoteReading([], [], [], [])
    from spineguide.knowledge.loader import get_kb
    from spineguide.text.medications import find_medications, medication_evidence
    from spineguide.text.pipeline import imaging_spans
    from spineguide.text.spelling import correct

    kb = get_kb()
    normalized = text.translate(_DASHES)
    spans = imaging_spans(normalized)
    masked = _mask(normalized, spans)  # imaging sentences go to the imaging reader, not here
    corrected, to_original = correct(masked)
    doc = _segment(_unbracket_sides(corrected))
    vocab = _vocab()
    lateral_ids = _lateral_ids(kb)
    col = _Collector(doc, lateral_ids | _SIDE_CARRIERS)
    _demographics(col)
    meds = find_medications(masked)
    # a time after a medicine in its clause is the medicine's ("on prednisolone for 2 years")
    _duration(col, [m.span[0] for m in meds], to_original)
    _phrases(col, vocab)
    _regions(col, vocab)
    _muscles(col, vocab)
    _reflexes(col, vocab)
    _tension_tests(col, vocab)
    _labs(col, kb.findings)
    _family_spa(col)
    items = [e for e in col.items if e.id in kb.findings or e.id == "family_history_spa"]
    if col.conditional:  # "confused" is a sepsis sign in a note that states a fever
        present = {e.id for e in items if e.choice == Choice.present}
        unmet = {id(e) for e, needs in col.conditional if not all(n in present for n in needs)}
        items = [e for e in items if id(e) not in unmet]
    for e in items:
        if e.choice == Choice.present and e.span is not None:
            f = kb.findings.get(e.id)
            if f is None or getattr(f.kind, "value", f.kind) not in _CURRENT_KINDS:
                continue
            if _is_historical(doc, *e.span):
                e.choice, e.history = Choice.unknown, True
                hist = _context(doc, *e.span).get("historical")
                if hist is not None:
                    w = doc.cues_at(e.span[0])
                    e.cue_spans = [*e.cue_spans, (w.starts[hist.start], w.ends[hist.end - 1])]
    _bilateral(items)
    # the reader's own items (built with every field set) are updated in place through their
    # field dict: the values are already typed, and pydantic's checked assignment is the cost
    for e in items:
        if e.id not in lateral_ids:
            e.__dict__["side"] = None
    _dominant_side(items, lateral_ids)
    for e in items:  # spans point into the text as the caller wrote it
        fields = e.__dict__
        span = fields["span"]
        if span is not None:
            start, end = to_original(span[0]), to_original(span[1])
            fields["span"] = (start, end)
            fields["text"] = text[start:end]
            if fields["cue_spans"]:
                fields["cue_spans"] = [(to_original(a), to_original(b)) for a, b in e.cue_spans]
    for e in _imaging_phrases(normalized, spans, vocab, kb.findings):  # spans already original
        if e.span is not None:
            e.text = text[e.span[0] : e.span[1]]
        items.append(e)
    items += [e for e in medication_evidence(masked, meds) if e.id in kb.findings]
    evidence = _dedupe(items)
    return NoteReading(
        evidence=evidence,
        medications=meds,
        uninterpreted=_uninterpreted(
            text,
            masked,
            evidence,
            meds,
            vocab,
            [(to_original(a), to_original(b)) for a, b in col.read],
            # the reader's own literal pass holds when spelling changed nothing
            col.can_match(vocab, "lexicon") if corrected == masked else None,
        ),
        imaging_spans=spans,
    )


_PHRASE_REACH = 200  # characters a vocabulary phrase match may run past an imaging sentence


def _imaging_phrases(
    text: str, spans: list[tuple[int, int]], vocab: _Vocab, findings: dict[str, Any]
) -> list[Evidence]:
    """Imaging-kind phrases of the note vocabulary read inside the imaging sentences.

    The note reader skips imaging sentences, but a few note phrases name imaging findings the
    reasoning uses directly ("intradural disc herniation"); those are still read there.
    """
    if not spans:
        return []

    def imaging(p: _Phrase) -> bool:
        return p.finding in findings and getattr(findings[p.finding].kind, "value", "") == "imaging"

    # a match starts inside a span and may run a little past its end
    inside = "\n".join(text[a : b + _PHRASE_REACH] for a, b in spans).lower()
    can = vocab.candidates(inside)["phrases"]
    if not any(imaging(vocab.phrases[i]) for i in can):
        return []  # no imaging phrase can match inside the imaging sentences
    doc = _segment(text)
    col = _Collector(doc, frozenset())
    _phrases(col, vocab, imaging)
    return [
        e for e in col.items if e.span is not None and any(a <= e.span[0] < b for a, b in spans)
    ]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans blanked out (offsets unchanged)."""
    if not spans:
        return text
    out = list(text)
    for start, end in spans:
        out[start:end] = " " * (end - start)
    return "".join(out)


def _bilateral(items: list[Evidence]) -> None:
    """Bilateral leg pain or weakness stated with a side word gets its bilateral finding too."""
    for source, target in (
        (_BILATERAL_LEG, "bilateral_leg_pain"),
        (("leg_weakness_reported",), "bilateral_leg_weakness"),
    ):
        hit = next(
            (
                e
                for e in items
                if e.id in source and e.choice == Choice.present and e.side == "bilateral"
            ),
            None,
        )
        if hit is not None:
            items.append(hit.model_copy(update={"id": target, "side": None}))


_COVER_CHARS = 20  # evidence this close in the same clause has read the wording
# (the leading look-ahead tests the first character before the alternation is tried: a third
# faster over a note, same matches)
_CLAUSE_MARK = re.compile(
    r"(?=[.;,:()\n!?baow])(?:[.;,:()\n!?]|(?<!\w)(?:but|and|with|or)(?!\w))", re.I
)


def _clause_bounds(
    marks: list[tuple[int, int]], starts: list[int], n: int, start: int, end: int
) -> tuple[int, int]:
    """The clause around [start, end): from the previous to the next clause mark."""
    i = bisect.bisect_right(starts, start) - 1
    left = max(marks[i][1], start - _WINDOW_CHARS) if i >= 0 else max(0, start - _WINDOW_CHARS)
    j = bisect.bisect_left(starts, end)
    right = marks[j][0] if j < len(marks) else n
    return left, min(right, end + _WINDOW_CHARS)


def _uninterpreted(
    text: str,
    masked: str,
    evidence: list[Evidence],
    meds: list[MedicationMention],
    vocab: _Vocab,
    read: list[tuple[int, int]],
    can: frozenset[int] | None = None,
) -> list[Uninterpreted]:
    """Red-flag wording (data lexicon) that no evidence item or medicine covers."""
    if can is None:
        can = vocab.candidates(masked.lower())["lexicon"]  # red-flag words the note may hold
    if not can:
        return []
    covered = bytearray(len(text) + 1)
    for start, end in [e.span for e in evidence if e.span] + [m.span for m in meds] + read:
        covered[start:end] = b"\x01" * max(0, end - start)
    out: list[Uninterpreted] = []
    seen: set[tuple[int, int]] = set()
    marks: list[tuple[int, int]] | None = None  # clause marks, found when first needed
    mark_starts: list[int] = []
    doc: _Doc | None = None  # segmented only when some wording is left over
    for i, (regex, reason) in enumerate(vocab.lexicon):
        if i not in can:
            continue
        for m in regex.finditer(masked):
            if (m.start(), m.end()) in seen:
                continue
            if any(covered[m.start() : m.end()]):
                continue  # its own words were read (no lexicon wording holds a clause mark)
            # the words of a clause are read together ("numb under the right foot" is read through
            # its region), so evidence close by in the same clause covers the wording
            if marks is None:
                marks = [(c.start(), c.end()) for c in _CLAUSE_MARK.finditer(masked)]
                mark_starts = [a for a, _ in marks]
            c_start, c_end = _clause_bounds(marks, mark_starts, len(masked), m.start(), m.end())
            lo, hi = max(c_start, m.start() - _COVER_CHARS), min(c_end, m.end() + _COVER_CHARS)
            if any(covered[lo:hi]):
                continue
            if doc is None:
                doc = _segment(masked.translate(_DASHES))
            if _is_negated(doc, m.start(), m.end()) or "family" in _context(
                doc, m.start(), m.end()
            ):
                continue  # "no numbness anywhere", "father had cancer": nothing of the patient's
            seen.add((m.start(), m.end()))
            out.append(Uninterpreted(text=text[m.start() : m.end()], span=(m.start(), m.end()),
                                     reason=reason))  # fmt: skip
    out.sort(key=lambda u: u.span)
    return out
