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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from spineguide.errors import InputError, InputTooLargeError
from spineguide.reasoning.evidence import Choice, Evidence

MAX_TEXT_CHARS = 100_000  # documented input limit for one presentation
VOCAB_PATH = Path(__file__).parent / "vocabulary" / "clinical.yaml"

_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})
_PRE_NEG = re.compile(
    r"(?<!\w)(?:no|not|denies|denied|deny|denying|without|negative for|absence of|free of|never|"
    r"nor|neither|none|no evidence of|no sign of|no signs of|no history of|ruled out|rules out|"
    r"no new|no recent|not had|hasn't had|has not had|did not|does not|doesn't|didn't)(?!\w)",
    re.I,
)
_POST_NEG = re.compile(
    r"^[\s,:]*(?:(?:and|or|&|/)\s*[\w-]+\s*){0,3}(?:(?:is|are|was|were|test|tests|sign|"
    r"function|control)\s+){0,2}(?:negative|normal|absent|"
    r"not present|unremarkable|intact|nil|none|pain[- ]free|denied|resolved|not clear|unclear|"
    r"equivocal|not (?:elicited|found|demonstrated))(?!\w)",
    re.I,
)
_PAIN_FREE = re.compile(r"pain[- ]free", re.I)
_FAMILY = re.compile(
    r"(?<!\w)(?:mother|father|mum|dad|brother|sister|son|daughter|grand(?:mother|father)|aunt|"
    r"uncle|cousin|sibling|parent|family history|fhx|fh of|wife|husband|partner)(?!\w)",
    re.I,
)
_FAMILY_SPA = re.compile(
    r"psoria|crohn|colitis|inflammatory bowel|uveitis|iritis|ankylosing|spondyl", re.I
)
_SIDE = re.compile(
    r"(?<!\w)(?:(left|right)|(bilateral(?:ly)?|both|each side|both sides))(?!\w)|"
    r"(?<![\w/])(l|r)(?=\s+(?:leg|thigh|calf|foot|knee|hip|buttock|side))",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n+|(?<=[.!?])$")
_CLAUSE_SPLIT = re.compile(r"[,;:()]|\s-\s|(?<!\w)(?:but|however|although|though|whereas)(?!\w)", re.I)
_OR_LIST = re.compile(r"(?<!\w)(?:or|nor)(?!\w)", re.I)
_WORD = re.compile(r"\w+")

_AGE_PATTERNS = [
    re.compile(r"(?<!\w)(\d{1,3})[- ]?(?:year|yr)s?[- ]old", re.I),
    re.compile(r"(?<!\w)(\d{1,3})\s?(?:y/?o|yo|yrs?)(?!\w)", re.I),
    re.compile(r"(?<![\w.])(\d{1,3})\s?([MF])(?![\w])"),
    re.compile(r"(?<!\w)aged\s+(\d{1,3})(?!\w)", re.I),
    re.compile(r"(?<!\w)age[:\s]+(\d{1,3})(?!\w)", re.I),
]
_MALE = re.compile(r"(?<!\w)(?:man|male|gentleman|boy|he|his|him|mr)(?!\w)", re.I)
_FEMALE = re.compile(r"(?<!\w)(?:woman|female|lady|girl|she|her|mrs|ms|miss)(?!\w)", re.I)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "few": 3,
    "couple of": 2, "many": 6,
}  # fmt: skip
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30.4, "year": 365}
_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|couple of|many)"
_DURATION_PATTERNS = [
    # "3 weeks of", "for 2 weeks", "over the last 4 days", "10-day history", "since 3 days"
    re.compile(rf"(?<!\w){_NUM}[- ](hour|day|week|month|year)s?[- ](?:of|history)(?!\w)", re.I),
    re.compile(
        rf"(?<!\w)(?:for|over|in|during|since)\s+(?:the\s+)?(?:last\s+|past\s+)?{_NUM}\s+"
        rf"(hour|day|week|month|year)s?(?!\w)",
        re.I,
    ),
    re.compile(rf"(?<!\w){_NUM}\s+(hour|day|week|month|year)s?\s+ago(?!\w)", re.I),
    re.compile(r"(?<!\w)(?:for|over)\s+(?:the\s+)?(?:last\s+|past\s+)?(year|month|week)(?!\w)", re.I),
    re.compile(r"(?<!\w)since\s+(yesterday|last night|this morning|today)(?!\w)", re.I),
]
_GRADE = re.compile(r"(?<![\w/])([0-5])(?:\+|-)?/5(?!\w)")
_AGAINST_GRAVITY = re.compile(r"(?:cannot|can't|unable to|not)\s+(?:\w+\s+){0,6}against gravity", re.I)
_POWER_NORMAL = re.compile(
    r"(?<!\w)(?:(?:power|strength|motor (?:exam|strength))\s+(?:is\s+|was\s+)?(?:full|normal|"
    r"5/5|intact|preserved|symmetrical)|full power|normal power|5/5 (?:throughout|power|bilaterally)|"
    r"no (?:motor )?weakness|power(?:,| and) (?:reflexes|sensation)(?: and sensation)? (?:are |were )?normal|"
    r"reflexes, power and sensation (?:are |were )?normal)",
    re.I,
)
_SENSATION_NORMAL = re.compile(
    r"(?<!\w)(?:sensation\s+(?:is\s+|was\s+)?(?:normal|intact)|sensory (?:exam(?:ination)? )?"
    r"(?:is )?(?:normal|intact)|no sensory (?:loss|deficit)|reflexes, power and sensation (?:are |were )?normal|"
    r"power(?:,)? (?:and )?sensation (?:are |were )?normal)",
    re.I,
)
_ANGLE = re.compile(r"(?<!\w)(?:at\s+)?(\d{1,2})\s*(?:°|deg(?:rees?)?)", re.I)
_GENERIC_REFLEX = re.compile(r"(?<!\w)reflexes(?!\w)", re.I)


@dataclass(frozen=True)
class _Region:
    name: str
    regex: re.Pattern[str]
    pain: str | None
    sensory: str | None
    tingle: str | None


@dataclass(frozen=True)
class _Phrase:
    finding: str
    regex: re.Pattern[str]
    exclude: re.Pattern[str] | None
    no_negation: bool
    value_group: int | None
    is_test: bool


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
    reflex_both: re.Pattern[str]
    reflex_reduced: re.Pattern[str]
    reflex_normal: re.Pattern[str]
    tension: tuple[tuple[str, re.Pattern[str]], ...]
    tension_pos: re.Pattern[str]
    tension_neg: re.Pattern[str]


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for name, value in macros.items():
        pattern = pattern.replace(f"<<{name}>>", value)
    return pattern


def _word_regex(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I)


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    raw: dict[str, Any] = yaml.safe_load(VOCAB_PATH.read_text(encoding="utf-8"))
    macros = raw["macros"]
    regions = tuple(
        _Region(
            r["name"],
            _word_regex(_expand(r["pattern"], macros)),
            r.get("pain"),
            r.get("sensory"),
            r.get("tingle"),
        )
        for r in raw["regions"]
    )
    muscles = tuple(
        (m["finding"], _word_regex(_expand(m["pattern"], macros))) for m in raw["muscles"]
    )
    phrases = []
    for p in raw["phrases"]:
        body = "|".join(f"(?:{_expand(x, macros)})" for x in p["patterns"])
        exclude = p.get("exclude")
        phrases.append(
            _Phrase(
                finding=p["finding"],
                regex=_word_regex(body),
                exclude=_word_regex("|".join(exclude)) if exclude else None,
                no_negation=bool(p.get("no_negation")),
                value_group=p.get("value_group"),
                is_test=bool(p.get("test")),
            )
        )
    rf = raw["reflexes"]
    tt = raw["tension_tests"]
    return _Vocab(
        pain=_word_regex(macros["PAIN"]),
        sens=_word_regex(macros["SENS"]),
        tingle=_word_regex(macros["TINGLE"]),
        weak=_word_regex(macros["WEAK"]),
        regions=regions,
        muscles=muscles,
        phrases=tuple(phrases),
        reflex_names=tuple((k, _word_regex(v)) for k, v in rf["names"].items()),
        reflex_both=_word_regex(rf["both"]),
        reflex_reduced=_word_regex(rf["reduced"]),
        reflex_normal=_word_regex(rf["normal"]),
        tension=tuple((t["finding"], _word_regex(t["pattern"])) for t in tt["tests"]),
        tension_pos=_word_regex(tt["positive"]),
        tension_neg=_word_regex(tt["negative"]),
    )


# --------------------------------------------------------------------------------------------
# Document structure: sentences and clauses
# --------------------------------------------------------------------------------------------


@dataclass
class _Doc:
    text: str
    sentences: list[tuple[int, int]]
    clauses: list[tuple[int, int]]
    clause_starts: list[int]
    sentence_starts: list[int]
    clause_negated: list[bool]  # clause carries a leading negation from a list
    family_clause: list[bool]

    def clause_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.clause_starts, pos) - 1)

    def sentence_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sentence_starts, pos) - 1)


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
    for s_start, s_end in sentences:
        c_start = s_start
        for m in _CLAUSE_SPLIT.finditer(text, s_start, s_end):
            if m.start() > c_start:
                clauses.append((c_start, m.start()))
            c_start = m.end()
        if c_start < s_end:
            clauses.append((c_start, s_end))
    negated = [False] * len(clauses)
    family = [False] * len(clauses)
    sentence_starts = [s for s, _ in sentences]
    prev_sentence = -1
    for i, (c_start, c_end) in enumerate(clauses):
        chunk = text[c_start:c_end]
        sent = max(0, bisect.bisect_right(sentence_starts, c_start) - 1)
        family[i] = bool(_FAMILY.search(chunk)) or (
            i > 0 and family[i - 1] and sent == prev_sentence and len(_WORD.findall(chunk)) <= 4
        )
        if i > 0 and sent == prev_sentence:
            prev_chunk = text[clauses[i - 1][0] : clauses[i - 1][1]]
            prev_neg = bool(_PRE_NEG.search(prev_chunk)) or negated[i - 1]
            if (
                prev_neg
                and not _PRE_NEG.search(chunk)
                and _OR_LIST.search(chunk)
                and len(_WORD.findall(chunk)) <= 7
            ):
                negated[i] = True
        prev_sentence = sent
    return _Doc(
        text=text,
        sentences=sentences,
        clauses=clauses,
        clause_starts=[c for c, _ in clauses],
        sentence_starts=sentence_starts,
        clause_negated=negated,
        family_clause=family,
    )


# --------------------------------------------------------------------------------------------
# Context: negation and laterality
# --------------------------------------------------------------------------------------------


def _is_negated(doc: _Doc, start: int, end: int) -> bool:
    ci = doc.clause_of(start)
    c_start, c_end = doc.clauses[ci] if doc.clauses else (0, len(doc.text))
    before = doc.text[c_start:start]
    if _PRE_NEG.search(before):
        return True
    if doc.clause_negated[ci] if doc.clauses else False:
        return True
    after = doc.text[end:c_end]
    if _POST_NEG.match(after):
        return True
    return False


def _side_near(doc: _Doc, start: int, end: int) -> str | None:
    """Nearest side word in the clause, else earlier in the sentence."""
    if not doc.clauses:
        return None
    ci = doc.clause_of(start)
    c_start, c_end = doc.clauses[ci]
    best: tuple[int, str] | None = None
    for m in _SIDE.finditer(doc.text, c_start, c_end):
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
    for m in _SIDE.finditer(doc.text, s_start, start):
        found = _side_word(m)
    return found


def _side_word(m: re.Match[str]) -> str:
    if m.group(1):
        return m.group(1).lower()
    if m.group(2):
        return "bilateral"
    return "left" if m.group(3).lower() == "l" else "right"


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


class _Collector:
    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.items: list[Evidence] = []

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
        if doc.clauses and doc.family_clause[ci]:
            chunk = doc.text[doc.clauses[ci][0] : doc.clauses[ci][1]]
            if _FAMILY_SPA.search(chunk):
                finding = "family_history_spa"
            else:
                return
        if choice is None:
            choice = Choice.absent if negatable and _is_negated(doc, start, end) else Choice.present
        if lateral and side is None:
            side = _side_near(doc, start, end)
        self.items.append(
            Evidence(
                id=finding,
                choice=choice,
                side=side,
                value=value,
                span=(start, end),
                text=doc.text[start:end],
                source="text",
            )
        )


def _regions(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    for c_start, c_end in doc.clauses:
        chunk = doc.text[c_start:c_end]
        has_pain = vocab.pain.search(chunk)
        has_sens = vocab.sens.search(chunk)
        has_tingle = vocab.tingle.search(chunk)
        if not (has_pain or has_sens or has_tingle):
            continue
        pain_free = bool(_PAIN_FREE.search(chunk))
        taken: list[tuple[int, int]] = []
        found_any = False
        for region in vocab.regions:
            for m in region.regex.finditer(doc.text, c_start, c_end):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                found_any = True
                kinds = (
                    (has_pain, region.pain),
                    (has_sens, region.sensory),
                    (has_tingle, region.tingle),
                )
                for cue, finding in kinds:
                    if cue and finding:
                        choice = Choice.absent if (pain_free and cue is has_pain) else None
                        col.add(finding, m.start(), m.end(), choice=choice)
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


def _muscles(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    for c_start, c_end in doc.clauses:
        chunk = doc.text[c_start:c_end]
        if _POWER_NORMAL.search(chunk):
            for finding, _ in vocab.muscles:
                col.add(finding, c_start, c_end, choice=Choice.absent, lateral=False)
            continue
        for finding, regex in vocab.muscles:
            for m in regex.finditer(doc.text, c_start, c_end):
                weak = vocab.weak.search(chunk)
                if not weak:
                    grade5 = re.search(r"(?<![\w/])5/5", chunk)
                    if grade5:
                        col.add(finding, m.start(), m.end(), choice=Choice.absent)
                    continue
                grades = [int(g) for g in _GRADE.findall(chunk)]
                grade: float | None = float(grades[-1]) if grades else None
                if grade is None and _AGAINST_GRAVITY.search(chunk):
                    grade = 2.0
                if grade == 5:
                    col.add(finding, m.start(), m.end(), choice=Choice.absent)
                    continue
                col.add(finding, m.start(), m.end(), value=grade)
                if grade is not None and grade <= 3:
                    col.add("severe_weakness", m.start(), m.end(), value=grade)
                if len(grades) >= 2 and grades[-1] < grades[0]:
                    col.add("rapidly_progressive_weakness", m.start(), m.end(), value=grade)


def _reflexes(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    for c_start, c_end in doc.clauses:
        chunk = doc.text[c_start:c_end]
        reduced = vocab.reflex_reduced.search(chunk)
        normal = vocab.reflex_normal.search(chunk)
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
            for finding, regex in vocab.reflex_names:
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
            if reduced and not (normal and normal.start() < reduced.start() and "brisk" in normal.group(0).lower()):
                choice = Choice.present
                if _PRE_NEG.search(doc.text[c_start:start]) and not reduced:
                    choice = Choice.absent
            else:
                choice = Choice.absent
            col.add(finding, start, end, choice=choice)
            if normal and "brisk" in normal.group(0).lower():
                col.add("hyperreflexia", start, end, lateral=False)


def _tension_tests(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    for c_start, c_end in doc.clauses:
        taken: list[tuple[int, int]] = []
        chunk = doc.text[c_start:c_end]
        for finding, regex in vocab.tension:
            for m in regex.finditer(doc.text, c_start, c_end):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                neg = vocab.tension_neg.search(chunk)
                pos = vocab.tension_pos.search(chunk)
                if neg and not (pos and "positive" in pos.group(0).lower() and "negative" not in chunk.lower()):
                    choice = Choice.absent
                elif pos:
                    choice = Choice.present
                elif _PRE_NEG.search(doc.text[c_start : m.start()]):
                    choice = Choice.absent
                else:
                    continue
                angle = _ANGLE.search(chunk)
                value = float(angle.group(1)) if angle and choice == Choice.present else None
                col.add(finding, m.start(), m.end(), choice=choice, value=value)


def _phrases(col: _Collector, vocab: _Vocab) -> None:
    doc = col.doc
    for phrase in vocab.phrases:
        for m in phrase.regex.finditer(doc.text):
            if phrase.exclude is not None:
                ci = doc.clause_of(m.start())
                s_start, s_end = doc.sentences[doc.sentence_of(m.start())]
                c_start, c_end = doc.clauses[ci] if doc.clauses else (s_start, s_end)
                if phrase.exclude.search(doc.text, s_start, s_end):
                    continue
            value = None
            if phrase.value_group:
                try:
                    value = float(m.group(phrase.value_group))
                except (TypeError, ValueError, IndexError):
                    value = None
            col.add(phrase.finding, m.start(), m.end(), value=value, negatable=not phrase.no_negation)


_LABS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("crp", re.compile(r"(?<!\w)(?:crp|c-reactive protein)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    ("esr", re.compile(r"(?<!\w)(?:esr|sed(?:imentation)? rate)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    (
        "wbc",
        re.compile(
            r"(?<!\w)(?:white (?:blood )?(?:cell )?count|wbc|wcc|white cells?)\D{0,12}?(\d+(?:\.\d+)?)",
            re.I,
        ),
    ),
    ("serum_calcium", re.compile(r"(?<!\w)(?:adjusted |corrected |serum )?calcium\D{0,12}?(\d(?:\.\d+)?)", re.I)),
    ("pth", re.compile(r"(?<!\w)(?:pth|parathyroid hormone)\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    ("egfr", re.compile(r"(?<!\w)e?gfr\D{0,12}?(\d+(?:\.\d+)?)", re.I)),
    ("alkaline_phosphatase", re.compile(r"(?<!\w)(?:alp|alkaline phosphatase)\D{0,12}?(\d+)", re.I)),
)
_TEMP = re.compile(r"(?<!\w)(?:temperature|temp|t)\s*(?:of\s*|is\s*|was\s*|:\s*)?(\d{2}(?:\.\d)?)\s*°?\s*c?(?!\w)", re.I)
_HBA1C = re.compile(r"(?<!\w)hba1c\D{0,10}?(\d+(?:\.\d+)?)\s*(%|mmol)?", re.I)
_HB = re.compile(r"(?<!\w)(?:ha?emoglobin|hb)\b\D{0,25}?(\d{2,3})(?:\s*(?:g/l)?\s*(?:to|->|→|down to)\s*(\d{2,3}))?", re.I)
_INR = re.compile(r"(?<!\w)inr\D{0,10}?(\d+(?:\.\d+)?)", re.I)
_BP = re.compile(r"(?<!\w)(?:blood pressure|bp)\D{0,10}?(\d{2,3})\s*/\s*(\d{2,3})", re.I)
_PULSE = re.compile(r"(?<!\w)(?:pulse|heart rate|hr)\D{0,10}?(\d{2,3})(?!\s*/)", re.I)
_ABI = re.compile(r"(?<!\w)(?:ankle[- ]brachial(?: pressure)? index|abpi|abi)\D{0,10}?(\d(?:\.\d+)?)", re.I)


def _labs(col: _Collector, findings: dict[str, Any]) -> None:
    doc = col.doc
    text = doc.text

    def threshold(fid: str, value: float, start: int, end: int) -> None:
        f = findings.get(fid)
        above = getattr(f, "abnormal_above", None) if f else None
        below = getattr(f, "abnormal_below", None) if f else None
        abnormal = (above is not None and value > above) or (below is not None and value < below)
        col.add(fid, start, end, choice=Choice.present if abnormal else Choice.absent,
                value=value, negatable=False, lateral=False)  # fmt: skip

    for fid, regex in _LABS:
        for m in regex.finditer(text):
            threshold(fid, float(m.group(1)), m.start(), m.end())
    for m in _TEMP.finditer(text):
        value = float(m.group(1))
        if 34 <= value <= 43:
            threshold("fever", value, m.start(), m.end())
    for m in _HBA1C.finditer(text):
        value = float(m.group(1))
        unit = (m.group(2) or "").lower()
        mmol = value if unit.startswith("mmol") or value > 20 else (value - 2.15) * 10.929
        threshold("hba1c", round(mmol, 1), m.start(), m.end())
        if mmol > 69:  # ~8.5 %: poorly controlled (expert estimate; see findings core)
            col.add("poorly_controlled_diabetes", m.start(), m.end(), negatable=False, lateral=False)
    for m in _HB.finditer(text):
        first = float(m.group(1))
        second = float(m.group(2)) if m.group(2) else None
        current = second if second is not None else first
        threshold("hemoglobin", current, m.start(), m.end())
        if second is not None and first - second >= 15:
            col.add("hemoglobin_drop", m.start(), m.end(), value=first - second, negatable=False, lateral=False)
    for m in _INR.finditer(text):
        value = float(m.group(1))
        threshold("supratherapeutic_inr", value, m.start(), m.end())
    for m in _BP.finditer(text):
        systolic = float(m.group(1))
        threshold("hypotension", systolic, m.start(), m.end())
    for m in _PULSE.finditer(text):
        threshold("tachycardia", float(m.group(1)), m.start(), m.end())
    for m in _ABI.finditer(text):
        threshold("low_abi", float(m.group(1)), m.start(), m.end())


def _demographics(col: _Collector) -> None:
    text = col.doc.text
    for regex in _AGE_PATTERNS:
        m = regex.search(text)
        if m:
            age = float(m.group(1))
            if 0 < age < 120:
                col.add("age", m.start(), m.end(), value=age, negatable=False, lateral=False)
                if regex.groups >= 2 and m.group(2):
                    sex = "sex_male" if m.group(2).upper() == "M" else "sex_female"
                    col.add(sex, m.start(), m.end(), negatable=False, lateral=False)
            break
    if not any(e.id in ("sex_male", "sex_female") for e in col.items):
        head = text[:200]
        male, female = _MALE.search(head), _FEMALE.search(head)
        if male and (not female or male.start() < female.start()):
            col.add("sex_male", male.start(), male.end(), negatable=False, lateral=False)
        elif female:
            col.add("sex_female", female.start(), female.end(), negatable=False, lateral=False)


def _duration(col: _Collector) -> None:
    text = col.doc.text
    for regex in _DURATION_PATTERNS:
        m = regex.search(text)
        if not m:
            continue
        groups = [g for g in m.groups() if g]
        if len(groups) == 1:
            word = groups[0].lower()
            days = {"yesterday": 1, "last night": 0.5, "this morning": 0.25, "today": 0.25}.get(word)
            if days is None:
                days = _UNIT_DAYS.get(word, 0)
        else:
            num, unit = groups[0].lower(), groups[1].lower()
            count = float(num) if num[0].isdigit() else _NUMBER_WORDS.get(num, 1)
            days = count * _UNIT_DAYS[unit]
        col.add("symptom_duration_days", m.start(), m.end(), value=round(days, 2),
                negatable=False, lateral=False)  # fmt: skip
        if days > 84:
            col.add("chronic_course", m.start(), m.end(), negatable=False, lateral=False)
        return


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
        if prev is None:
            out[key] = e
        elif prev.choice != Choice.present and e.choice == Choice.present:
            out[key] = e
        elif prev.choice == e.choice and prev.value is None and e.value is not None:
            out[key] = e
        elif (
            prev.choice == e.choice
            and e.value is not None
            and prev.value is not None
            and e.id.endswith("weakness")
            and e.value < prev.value
        ):
            out[key] = e
    return list(out.values())


def extract_clinical_evidence(text: str) -> list[Evidence]:
    """Read a free-text presentation into evidence items with spans."""
    if not isinstance(text, str):
        raise InputError("clinical text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise InputTooLargeError(
            f"clinical text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
            "send one presentation at a time (history, exam, labs and imaging summary)",
        )
    if not text.strip():
        return []
    from spineguide.knowledge.loader import get_kb

    kb = get_kb()
    normalized = text.translate(_DASHES)
    doc = _segment(normalized)
    vocab = _vocab()
    col = _Collector(doc)
    _demographics(col)
    _duration(col)
    _phrases(col, vocab)
    _regions(col, vocab)
    _muscles(col, vocab)
    _reflexes(col, vocab)
    _tension_tests(col, vocab)
    _labs(col, kb.findings)
    lateral_ids = {f.id for f in kb.findings.values() if f.lateralized}
    items = [e for e in col.items if e.id in kb.findings or e.id == "family_history_spa"]
    for e in items:
        if e.id not in lateral_ids:
            e.side = None
    _dominant_side(items, lateral_ids)
    return _dedupe(items)
