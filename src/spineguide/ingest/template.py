"""Parse patient-education articles written in the seed template into sections and items.

The seed articles share one template (definition, types, causes, symptoms, diagnostic tests,
non-drug treatments, drugs, supplements, advanced therapies, surgery, prevention, when to see a
doctor, dos and don'ts, FAQs) but print it in several ways:

* dash bullets: a ``-`` line, then ``Title – description`` / ``Title: description`` or a title line
  followed by a description line, sometimes with a stray `` -`` bullet marker at the line end;
* numbered lists, indented (``  1. Title`` + indented description lines) or not (``1. Title`` +
  description lines);
* inline fields (``Class: … Dosage: … Time: …``) on one line or on separate lines;
* drug lines that carry the dose in the title (``Name 500 mg every 6 h – description``);
* short prose without any lists (items are the things its sentences name).

Every item keeps its provenance: file, canonical section key, heading, 1-based index within the
section, character span ``[start, end)`` into the original text and 1-based line number.
Citation residue glued to line ends ("… PubMed Central.") goes to ``citations``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from spineguide.errors import InputError, InputTooLargeError

MAX_ARTICLE_BYTES = 2_000_000  # documented limit: larger files are rejected, not truncated

# ---------------------------------------------------------------------------------------------
# Output models
# ---------------------------------------------------------------------------------------------


class ItemFields(BaseModel):
    """The facts an article states about one item (only what the article states is filled)."""

    description: str | None = None
    purpose: str | None = None
    mechanism: str | None = None
    dose: str | None = None
    timing: str | None = None
    max_daily: str | None = None
    side_effects: list[str] = Field(default_factory=list)
    drug_class: str | None = None
    function: str | None = None
    procedure: str | None = None
    benefits: str | None = None
    question: str | None = None
    answer: str | None = None

    def stated(self) -> dict[str, Any]:
        """Return the non-empty fields as a dict."""
        return {k: v for k, v in self.model_dump().items() if v}


class Item(BaseModel):
    """One article item with provenance."""

    file: str
    source: str | None = None
    section: str
    heading: str | None = None
    index: int
    title: str
    title_derived: bool = False  # True when no explicit title was printed (derived from text)
    name: str | None = None  # drug/supplement name when the printed title also carries a dose
    category: str | None = None  # diagnostic tests: physical, provocative, laboratory, …
    subcategory: str | None = None  # non-drug treatments: exercise, mind_body, …
    fields: ItemFields = Field(default_factory=ItemFields)
    citations: list[str] = Field(default_factory=list)
    start: int
    end: int
    line: int
    title_start: int | None = None  # span of the title words, when located
    title_end: int | None = None

    def full_text(self) -> str:
        """Title plus every stated text field, for word-overlap checks."""
        parts = [self.title]
        for value in self.fields.stated().values():
            parts.append(" ".join(value) if isinstance(value, list) else str(value))
        return " ".join(parts)


class Section(BaseModel):
    """All items of one canonical section key (merged across sub-headings)."""

    key: str
    headings: list[str] = Field(default_factory=list)
    line: int
    start: int
    intro: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # text after the last item (outro)
    items: list[Item] = Field(default_factory=list)


class Skipped(BaseModel):
    """Boilerplate that was recognised and left out (disclaimer, byline, logo…)."""

    kind: str
    text: str
    line: int
    start: int
    end: int


class IngestedArticle(BaseModel):
    """An article parsed into canonical sections and items."""

    file: str
    path: str | None = None
    source_id: str | None = None
    title: str | None = None
    layout: Literal["template", "prose"] = "template"
    chars: int
    sha256: str
    sections: list[Section] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def items(self) -> Iterator[Item]:
        """Iterate over all items in article order of sections."""
        for section in self.sections:
            yield from section.items

    def section(self, key: str) -> Section | None:
        """Return the section with this canonical key, if the article has it."""
        return next((s for s in self.sections if s.key == key), None)

    def counts(self) -> dict[str, int]:
        """Item count per section key."""
        return {s.key: len(s.items) for s in self.sections}


# ---------------------------------------------------------------------------------------------
# Vocabularies (template structure, not clinical facts)
# ---------------------------------------------------------------------------------------------

_LETTER = r"(?:[a-h]\.\s*)?"  # optional "A. " sub-heading prefix

TOP_HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pat, re.I))
    for key, pat in (
        ("anatomy", r"^anatomy\b"),
        ("functions", r"^(?:key )?functions\b"),
        ("types", r"^(?:types|classification)\b"),
        ("causes", r"^(?:causes|risk factors)\b"),
        ("symptoms", r"^(?:signs and )?symptoms\b"),
        ("diagnostic_tests", r"^(?:diagnostic tests|diagnosis|tests)$"),
        ("non_drug_treatments", r"^(?:\d+\s+)?non[- ](?:pharmacological|drug) treatments$"),
        (
            "drugs",
            r"^(?:mainstream |common )?(?:drug|pharmacological|medication) "
            r"(?:treatments|therapies)$|^medications$",
        ),
        ("supplements", r"^(?:dietary )?(?:molecular )?supplements$"),
        (
            "advanced_therapies",
            r"^advanced\b.*\b(?:therap|treatment|agent|intervention|regenerative)",
        ),
        ("surgery", r"^(?:surgical (?:procedures|options|treatments)|surgery)$"),
        ("prevention", r"^prevention\b"),
        ("when_to_see_doctor", r"^when (?:should you |to )?see a doctor"),
        (
            "dos",
            r"^what to do and what to avoid$|^do[’']?s\s*(?:&|and)\s*don[’']?ts$"
            r"|^dos and don[’']?ts$",
        ),
        ("faqs", r"^(?:frequently asked questions|faqs?)\b"),
    )
)

TEST_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (cat, re.compile(_LETTER + pat, re.I))
    for cat, pat in (
        ("physical", r"physical exam(?:ination)?(?: tests)?$"),
        ("provocative", r"(?:manual(?:/orthopedic)? )?(?:provocative|provocation) tests$"),
        ("laboratory", r"laboratory (?:&|and) pathological tests$|laboratory tests$"),
        ("electrodiagnostic", r"electrodiagnostic (?:tests|studies)$"),
        ("imaging", r"imaging tests$|imaging$"),
    )
)

NON_DRUG_SUBCATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (sub, re.compile(_LETTER + pat, re.I))
    for sub, pat in (
        ("physiotherapy_electrotherapy", r"physiotherapy\b.*electrotherapy"),
        ("exercise", r"exercise(?:-based)? therapies$"),
        ("mind_body", r"mind[- ]body\b"),
        ("educational_self_management", r"educational self-management$|education$"),
    )
)

_DO_HEAD = re.compile(r"^do:?$", re.I)
_DONT_HEAD = re.compile(r"^(?:avoid|don[’']?t|donts?|do not):?$", re.I)
_DO_INLINE = re.compile(r"^do:\s+(?P<rest>.+)$", re.I)
_DONT_INLINE = re.compile(r"^(?:avoid|don[’']?t|do not):\s+(?P<rest>.+)$", re.I)

BOILERPLATE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("disclaimer", re.compile(r"^disclaimer\b", re.I)),
    ("byline", re.compile(r"^(?:the article is written by|written by|reviewed by)\b", re.I)),
    ("last_updated", re.compile(r"^(?:last updated|updated on)\b", re.I)),
    ("logo", re.compile(r"^(?:logo|rxharun)$", re.I)),
)

# Citation residue printed at line ends by the pages the seeds were copied from.
CITATION_NAMES: tuple[str, ...] = (
    "The Medical Journal of Australia",
    "PM&R KnowledgeNow",
    "Lippincott Journals",
    "Juniper Publishers",
    "www.elsevier.com",
    "acpjournals.org",
    "PubMed Central",
    "BioMed Central",
    "Merck Manuals",
    "Merck Manual",
    "Oregon Clinic",
    "ScienceDirect",
    "Spine-health",
    "ResearchGate",
    "Orthobullets",
    "MedlinePlus",
    "Physiopedia",
    "Mayo Clinic",
    "Cleveland Clinic",
    "Healthline",
    "Radiopaedia",
    "StatPearls",
    "Wikipedia",
    "Frontiers",
    "UC Health",
    "Medscape",
    "Cochrane",
    "PubMed",
    "Nature",
    "WebMD",
    "Elsevier",
    "Springer",
    "NCBI",
    "MDPI",
    "ICER",
    "ACSN",
    "NICE",
    "PMC",
)
_CITATION_END = re.compile(
    r"(?:"
    + "|".join(re.escape(n) for n in sorted(CITATION_NAMES, key=len, reverse=True))
    + r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu))\.?$"
)

FIELD_KEYS: dict[str, str] = {
    "class": "drug_class",
    "drug class": "drug_class",
    "dosage": "dose",
    "dose": "dose",
    "time": "timing",
    "timing": "timing",
    "side effects": "side_effects",
    "side-effects": "side_effects",
    "function": "function",
    "mechanism": "mechanism",
    "procedure": "procedure",
    "benefits": "benefits",
    "benefit": "benefits",
    "purpose": "purpose",
    "max daily": "max_daily",
    "maximum daily": "max_daily",
}
_FIELD_RE = re.compile(
    r"(?<![A-Za-z])(?P<key>"
    + "|".join(re.escape(k) for k in sorted(FIELD_KEYS, key=len, reverse=True))
    + r")\s*:\s*",
    re.I,
)

NAMED_SECTIONS = frozenset(
    {
        "types",
        "causes",
        "symptoms",
        "diagnostic_tests",
        "non_drug_treatments",
        "drugs",
        "supplements",
        "advanced_therapies",
        "surgery",
        "treatments",
        "anatomy",
        "functions",
    }
)
DOSED_SECTIONS = frozenset({"drugs", "supplements", "advanced_therapies"})

_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "per",
        "the",
        "to",
        "vs",
        "via",
        "with",
        "without",
    ]
)
# Words after which a sentence-style item line stops being its title.
_TITLE_STOP = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "appears",
        "appear",
        "involves",
        "involve",
        "presents",
        "present",
        "occurs",
        "occur",
        "denotes",
        "arises",
        "arise",
        "refers",
        "refer",
        "results",
        "result",
        "reproducing",
        "producing",
        "provoking",
        "for",
        "to",
        "when",
        "evaluating",
        "assessing",
        "measuring",
        "intensifying",
        "including",
        "initial",
        "superior",
        "with",
        "that",
        "which",
        "in",
        "through",
        "suggesting",
        "indicating",
        "causes",
        "can",
        "may",
        "shows",
        "show",
        "removes",
        "means",
        "describes",
        "affects",
        "develops",
        "forms",
        "happens",
        "leads",
        "reflects",
        "represents",
        "consists",
        "contains",
        "includes",
    ]
)

_NUMBERED = re.compile(r"^(?:q)?(?P<num>\d{1,3})[.)]\s+(?P<rest>\S.*)$", re.I)
_BULLET = re.compile(r"^[-•*–]\s+(?P<rest>\S.*)$")
_MARKER_ONLY = frozenset({"-", "•", "*", "–", "—"})
_TRAILING_MARKER = re.compile(r"\s+[-•]\s*$")
_DASH_SPLIT = re.compile(r"\s[–—-]\s")
_COLON_TITLE = re.compile(r"^(?P<t>[^:]{2,80}?):\s+(?P<d>\S.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])")
_DOSE_UNIT = r"(?:%|mg|g|µg|mcg|mL|ml|IU|units?|cells|million)"
_DOSE_IN_TITLE = re.compile(
    r"^(?P<name>[^()]*?(?:\([^()]*\)[^()]*?)*?)\s+(?P<dose>(?:\d[\d.,]*|½)\s*(?:[–-]\s*\d[\d.,]*\s*)?"
    + _DOSE_UNIT
    + r"(?![A-Za-z]).*)$"
)
_PAREN_DOSE = re.compile(
    r"^(?P<name>[^()]+?)\s*\((?P<dose>[^()]*\d[^()]*" + _DOSE_UNIT + r"[^()]*)\)$"
)
_MAX_DAILY = re.compile(
    r"(?:max(?:imum)?\.?|up to|not exceed|titrat\w*(?: up)? to|increase\w*(?: \w+)? to|⇧ to)\s+"
    r"(?P<amount>\d[\d.,]*(?:\s*[–-]\s*\d[\d.,]*)?\s*(?:mg|g|mcg|µg)\s*/\s*day)",
    re.I,
)
_PURPOSE_CUE = re.compile(
    r"\b(?:(?:its|the|their) (?:purpose|goal|aim) (?:is|are)|aims? to|is intended to|"
    r"are intended to|is designed to|are designed to|the goal is)\b",
    re.I,
)
_MECHANISM_CUE = re.compile(r"^(?:by |the mechanism|mechanistically|through )", re.I)
_DRUG_CLASS_WORDS = re.compile(
    r"\b(?:nsaid|analgesic|opioid|snri|ssri|tricyclic|relaxant|agonist|bisphosphonate|"
    r"corticosteroid|steroid|anticonvulsant|gabapentinoid|cox-2|inhibitor|antidepressant)\b",
    re.I,
)


# ---------------------------------------------------------------------------------------------
# Small text helpers
# ---------------------------------------------------------------------------------------------


def strip_citations(text: str) -> tuple[str, list[str]]:
    """Remove citation residue from the end of a line; return (clean text, citations)."""
    found: list[str] = []
    out = text.rstrip()
    had_period = False
    for _ in range(6):  # residue is at most a few glued names
        m = _CITATION_END.search(out)
        if not m or m.start() == 0:
            break
        cite = m.group(0).rstrip(".")
        had_period = had_period or m.group(0).endswith(".")
        found.insert(0, cite)
        out = out[: m.start()].rstrip()
    if found and out and out[-1] not in ".!?:;)" and had_period:
        out += "."
    return out, found


def clean_title(text: str) -> str:
    """Trim a printed title: surrounding quotes/space and a trailing period or colon."""
    t = text.strip().strip("\\").strip()
    t = re.sub(r"[.:;,]+$", "", t).strip()
    return t


def title_like(text: str) -> bool:
    """True when a line looks like a short Title-Case heading of an item."""
    t = text.strip().strip("“”\"'")
    if not t or len(t) > 110 or _FIELD_RE.match(t):
        return False
    if t.endswith("?"):
        return False
    words = re.findall(r"[A-Za-z][\w’'‐-]*", t)
    if not words or len(t.split()) > 12:
        return False
    if t.endswith(".") and len(t.split()) > 6:
        return False
    if t.endswith(".") and any(w in _TITLE_STOP for w in re.findall(r"\b[a-z]+\b", t)):
        return False
    if re.search(r"[.;]\s+\S", t):  # more than one sentence
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    caps = sum(1 for w in content if w[0].isupper())
    return (caps / len(content) >= 0.6 and t[0].isupper()) or t[0] in "“\"'("


def derive_title(text: str) -> tuple[str, str | None]:
    """Split a sentence-style item into (title, remainder) at the first connecting word."""
    words = list(re.finditer(r"\S+", text))
    cut = None
    for i, w in enumerate(words[:14]):
        token = w.group(0).lower().strip(",;:")
        if i > 0 and token in _TITLE_STOP and w.group(0)[0].islower():
            cut = w.start()
            break
        # "Sudden, severe back pain" keeps its comma; a comma after several words ends it
        if i >= 4 and w.group(0).endswith(",") and token not in _SMALL_WORDS:
            cut = w.end()
            break
    if cut is None:
        # No connector: keep the leading run of capitalised words (or the first six words).
        run = []
        for w in words:
            tok = w.group(0)
            if tok[0].isupper() or tok[0] in '(“"' or (tok.lower() in _SMALL_WORDS and run):
                run.append(w)
            else:
                break
        while run and run[-1].group(0).lower() in _SMALL_WORDS:
            run.pop()
        if run and len(run) < len(words):
            cut = run[-1].end()
        elif len(words) > 8:
            cut = words[5].end()
    if cut is None:
        return clean_title(text), None
    title = text[:cut].strip().rstrip(",")
    # Drop a descriptive parenthesis ("(flexion, extension, …)") but keep abbreviations.
    title = re.sub(r"\s*\((?=[^)]*,)[^)]*\)\s*$", "", title)
    title = re.sub(r"\s*\([^)]*$", "", title).strip()  # unbalanced remainder
    if not title:
        return clean_title(text), None
    rest = text[len(title) :].strip(" ,;:-–") if text.startswith(title) else text[cut:]
    return clean_title(title) or clean_title(text), rest.strip() or None


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (simple punctuation rule, good enough for articles)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def split_list(text: str, seps: str = ",;") -> list[str]:
    """Split on separators outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        if ch in seps and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


def parse_side_effects(text: str) -> list[str]:
    """Split a side-effect phrase into a list (commas, semicolons and a final 'and')."""
    parts: list[str] = []
    for piece in split_list(text.rstrip(". "), ",;"):
        piece = re.sub(r"^(?:and|or)\s+", "", piece.strip())
        if " and " in piece and len(piece.split()) <= 8 and "(" not in piece:
            left, right = piece.split(" and ", 1)
            if len(left.split()) <= 4 and len(right.split()) <= 5:
                parts += [left.strip(), right.strip()]
                continue
        if piece:
            parts.append(piece.rstrip("."))
    return parts


def parse_fields(text: str) -> tuple[str | None, dict[str, str]]:
    """Find inline ``Key: value`` fields; return (text before the first key, fields)."""
    matches = list(_FIELD_RE.finditer(text))
    # A key counts only at the start or after a sentence end ("… pressure. Benefit: …").
    matches = [m for m in matches if m.start() == 0 or re.search(r"[.;)]\s*$", text[: m.start()])]
    if not matches:
        return text.strip() or None, {}
    lead = text[: matches[0].start()].strip() or None
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end() : end].strip().rstrip(" -").strip()
        key = FIELD_KEYS[m.group("key").lower()]
        if value:
            fields[key] = (fields[key] + " " + value) if key in fields else value
    if lead and re.match(r"^(?:dosage|dose)\b", lead, re.I) and "dose" not in fields:
        fields["dose"] = lead
        lead = None
    return lead, fields


def max_daily_from(*texts: str | None) -> str | None:
    """Return the stated daily ceiling phrase (e.g. '4 g/day') found in dose/timing text."""
    found = None
    for t in texts:
        if t:
            for m in _MAX_DAILY.finditer(t):
                found = m.group("amount").strip()
    return found


def split_purpose_mechanism(text: str) -> dict[str, str]:
    """Split a treatment paragraph into description, purpose and mechanism where signalled."""
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return {"description": text}
    desc, purpose, mech = [], [], []
    for s in sentences:
        if not purpose and _PURPOSE_CUE.search(s):
            purpose.append(s)
        elif purpose or _MECHANISM_CUE.match(s) or re.search(r"\bmechanism\b", s, re.I):
            mech.append(s)
        else:
            desc.append(s)
    if not purpose and not mech:
        return {"description": text}
    out: dict[str, str] = {}
    if desc:
        out["description"] = " ".join(desc)
    if purpose:
        out["purpose"] = " ".join(purpose)
    if mech:
        out["mechanism"] = " ".join(mech)
    return out


# ---------------------------------------------------------------------------------------------
# Line model and item builder
# ---------------------------------------------------------------------------------------------


@dataclass
class _Line:
    no: int
    start: int
    end: int
    raw: str
    text: str
    indent: int


@dataclass
class _Builder:
    section: str
    heading: str | None
    category: str | None
    subcategory: str | None
    line: _Line
    start: int
    end: int
    title: str = ""
    title_derived: bool = False
    title_span: tuple[int, int] | None = None
    name: str | None = None
    desc: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    citations: list[str] = field(default_factory=list)
    awaiting: bool = False  # printed title only so far; the next line describes it
    style: str = "dash"  # dash | numbered | pair | paragraph | faq
    body_indent: int | None = None


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for no, chunk in enumerate(text.splitlines(keepends=True), start=1):
        content = chunk.rstrip("\r\n")
        stripped = content.strip()
        lead = len(content) - len(content.lstrip())
        start = pos + lead
        out.append(_Line(no, start, start + len(stripped), content, stripped, lead))
        pos += len(chunk)
    return out


def _match_heading(text: str, top: str | None) -> tuple[str, str, str | None] | None:
    """Classify a heading line: ('top', key, None) | ('category'|'subcategory'|'dos', …)."""
    t = text.strip().rstrip(":").strip()
    if not t or len(t) > 120 or len(t.split()) > 14 or t.endswith("."):
        return None
    t_norm = re.sub(r"\s+", " ", t)
    if top == "diagnostic_tests":
        for cat, pat in TEST_CATEGORIES:
            if pat.match(t_norm):
                return ("category", cat, None)
    if top == "non_drug_treatments":
        for sub, pat in NON_DRUG_SUBCATEGORIES:
            if pat.match(t_norm):
                return ("subcategory", sub, None)
    if top in ("dos", "donts"):
        if _DO_HEAD.match(text.strip()):
            return ("dos", "dos", None)
        if _DONT_HEAD.match(text.strip()):
            return ("dos", "donts", None)
    for key, pat in TOP_HEADINGS:
        if pat.match(t_norm):
            return ("top", key, None)
    return None


class _Parser:
    def __init__(self, text: str, file: str, source_id: str | None) -> None:
        self.text = text
        self.file = file
        self.source_id = source_id
        self.lines = _lines(text)
        self.sections: dict[str, Section] = {}
        self.skipped: list[Skipped] = []
        self.warnings: list[str] = []
        self.title: str | None = None
        self.top: str | None = None  # current top-level section key
        self.key: str | None = None  # current section key items go to (dos/donts switch)
        self.heading: str | None = None
        self.category: str | None = None
        self.subcategory: str | None = None
        self.current: _Builder | None = None
        self.marker_pending = False
        self.section_has_markers = False

    # -- sections ---------------------------------------------------------------------------

    def _section(self, key: str, line: _Line, heading: str | None) -> Section:
        sec = self.sections.get(key)
        if sec is None:
            sec = Section(key=key, line=line.no, start=line.start)
            self.sections[key] = sec
        if heading and heading not in sec.headings:
            sec.headings.append(heading)
        return sec

    def _flush(self) -> None:
        b = self.current
        self.current = None
        if b is None:
            return
        sec = self.sections[b.section]
        desc = " ".join(d for d in b.desc if d).strip() or None
        fields: dict[str, Any] = dict(b.fields)
        if b.section == "faqs":
            fields = {"question": b.title, "answer": desc}
        else:
            if desc:
                if b.section == "non_drug_treatments" and "purpose" not in fields:
                    fields.update(split_purpose_mechanism(desc))
                elif "description" in fields:
                    fields["description"] = fields["description"] + " " + desc
                else:
                    fields["description"] = desc
            if b.section == "drugs":
                md = max_daily_from(fields.get("dose"), fields.get("timing"), b.title)
                if md:
                    fields["max_daily"] = md
            if isinstance(fields.get("side_effects"), str):
                fields["side_effects"] = parse_side_effects(fields["side_effects"])
        if not b.title:
            source_text = desc or ""
            b.title, _ = derive_title(source_text) if source_text else ("", None)
            b.title_derived = True
        if not b.title:
            return
        item = Item(
            file=self.file,
            source=self.source_id,
            section=b.section,
            heading=b.heading,
            index=len(sec.items) + 1,
            title=b.title,
            title_derived=b.title_derived,
            name=b.name,
            category=b.category,
            subcategory=b.subcategory,
            fields=ItemFields(**{k: v for k, v in fields.items() if v}),
            citations=b.citations,
            start=b.start,
            end=b.end,
            line=b.line.no,
            title_start=b.title_span[0] if b.title_span else None,
            title_end=b.title_span[1] if b.title_span else None,
        )
        sec.items.append(item)

    # -- item heads and bodies --------------------------------------------------------------

    def _start_item(self, line: _Line, content: str, offset: int, style: str) -> None:
        """Begin a new item from its first line (``content`` starts at text index ``offset``)."""
        self._flush()
        key = self.key or "definition"
        b = _Builder(
            section=key,
            heading=self.heading,
            category=self.category if key == "diagnostic_tests" else None,
            subcategory=self.subcategory if key == "non_drug_treatments" else None,
            line=line,
            start=line.start,
            end=line.end,
            style=style,
        )
        self.current = b
        body, cites = strip_citations(content)
        b.citations += cites
        body = body.strip().rstrip("\\").strip()

        def set_title(title: str, derived: bool = False) -> None:
            b.title = clean_title(title)
            b.title_derived = derived
            idx = self.text.find(b.title, offset, line.end + 1) if b.title else -1
            if idx >= 0:
                b.title_span = (idx, idx + len(b.title))

        if key == "faqs":
            set_title(body)
            if not body.endswith("?"):
                b.title_derived = True
            b.awaiting = True
            return
        if key == "definition":
            b.desc.append(body)
            b.title = " ".join(body.split()[:8]) + ("…" if len(body.split()) > 8 else "")
            b.title_derived = True
            return
        named = key in NAMED_SECTIONS
        # "Title – description" (en/em dash or spaced hyphen)
        m = _DASH_SPLIT.search(body)
        if m and len(body[: m.start()].split()) <= 14 and m.start() > 1:
            title, rest = body[: m.start()], body[m.end() :]
            m2 = _DASH_SPLIT.search(rest)
            if m2 and len(rest[: m2.start()].split()) <= 2 and not rest[: m2.start()].islower():
                title, rest = body[: m.end() + m2.start()], rest[m2.end() :]
            set_title(title)
            self._head_with_text(b, rest)
            return
        m = _COLON_TITLE.match(body)
        if (
            m
            and named
            and len(m.group("t").split()) <= 10
            and not _FIELD_RE.match(body)
            and key not in ("dos", "donts")
        ):
            set_title(m.group("t"))
            self._head_with_text(b, m.group("d"))
            return
        if _FIELD_RE.match(body):
            _lead, fields = parse_fields(body)
            b.fields.update(fields)
            b.awaiting = False
            return
        short_head = not body.endswith((".", "?", "!")) and len(body.split()) <= 12
        if named and short_head and style in ("numbered", "dash", "pair"):
            set_title(body)
            b.awaiting = True
            return
        if title_like(body) and (named or style in ("pair",) or len(body.split()) <= 6):
            set_title(body)
            if named or key in ("prevention",):
                b.awaiting = True
            return
        if named:
            title, rest = derive_title(body)
            set_title(title, derived=True)
            if rest:
                self._head_with_text(b, rest)
            return
        set_title(body)

    def _head_with_text(self, b: _Builder, rest: str) -> None:
        """Store the text that follows a title on the head line (fields or description)."""
        rest = rest.strip()
        if b.section in DOSED_SECTIONS and not b.name:
            self._split_dose_title(b)
        lead, fields = parse_fields(rest)
        b.fields.update(fields)
        if lead:
            if b.section == "drugs" and not b.fields.get("drug_class"):
                parts = split_list(lead, ";")
                if (
                    len(parts) > 1
                    and len(parts[0].split()) <= 5
                    and _DRUG_CLASS_WORDS.search(parts[0])
                ):
                    b.fields["drug_class"] = parts[0].rstrip(".")
                    lead = "; ".join(parts[1:])
            b.desc.append(lead)

    def _split_dose_title(self, b: _Builder) -> None:
        """'Ibuprofen 400-600 mg every 6 h' → name 'Ibuprofen', dose '400-600 mg every 6 h'."""
        title = b.title
        m = _PAREN_DOSE.match(title)
        if m is None:
            m = _DOSE_IN_TITLE.match(title)
        if m and m.group("name").strip():
            b.name = clean_title(m.group("name"))
            b.fields.setdefault("dose", m.group("dose").strip())

    def _body_line(self, line: _Line, content: str) -> None:
        """Add a non-head line to the current item (fields, description or continuation)."""
        b = self.current
        assert b is not None
        body, cites = strip_citations(content)
        body = body.strip().rstrip("\\").strip()
        b.citations += cites
        b.end = line.end
        if b.section == "faqs":
            b.desc.append(body)
            b.awaiting = False
            return
        lead, fields = parse_fields(body)
        for k, v in fields.items():
            b.fields[k] = (b.fields[k] + " " + v) if k in b.fields else v
        if lead:
            b.desc.append(lead)
        b.awaiting = False
        if b.body_indent is None:
            b.body_indent = line.indent

    # -- main loop --------------------------------------------------------------------------

    def _next_content(self, i: int) -> _Line | None:
        for ln in self.lines[i + 1 :]:
            if ln.text:
                return ln
        return None

    def _is_structural(self, ln: _Line | None) -> bool:
        if ln is None:
            return False
        t = ln.text
        return (
            t in _MARKER_ONLY
            or bool(_NUMBERED.match(t) or _BULLET.match(t))
            or _match_heading(t, self.top) is not None
            or bool(_DO_INLINE.match(t) or _DONT_INLINE.match(t))
        )

    def _last_in_section(self, i: int) -> bool:
        nxt = self._next_content(i)
        if nxt is None:
            return True
        if _match_heading(nxt.text, self.top) is not None:
            return True
        return any(kind == nxt.text or p.match(nxt.text) for kind, p in BOILERPLATE)

    def parse(self) -> None:
        first = self._next_content(-1)
        for i, line in enumerate(self.lines):
            t = line.text
            if not t:
                continue
            # Boilerplate (disclaimer, byline, last updated, logo)
            bp = next((k for k, p in BOILERPLATE if p.match(t)), None)
            if bp:
                self._flush()
                self.skipped.append(
                    Skipped(kind=bp, text=t[:80], line=line.no, start=line.start, end=line.end)
                )
                continue
            # Article title: a short first line without a full stop.
            if (
                line is first
                and self.top is None
                and title_like(t)
                and not t.endswith(".")
                and _match_heading(t, None) is None
            ):
                self.title = clean_title(t)
                self.skipped.append(
                    Skipped(kind="title", text=t[:80], line=line.no, start=line.start, end=line.end)
                )
                continue
            head = _match_heading(t, self.top)
            if head is not None:
                kind, key, _ = head
                self._flush()
                self.marker_pending = False
                if kind == "top":
                    self.top = self.key = key
                    self.heading = t.rstrip(":")
                    self.category = self.subcategory = None
                    self.section_has_markers = False
                    self._section(key, line, self.heading)
                elif kind == "category":
                    self.category = key
                    self.heading = t.rstrip(":")
                    self._section(self.key or "diagnostic_tests", line, self.heading)
                elif kind == "subcategory":
                    self.subcategory = key
                    self.heading = t.rstrip(":")
                    self._section(self.key or "non_drug_treatments", line, self.heading)
                else:  # Do / Avoid sub-heading
                    self.key = key
                    self.heading = t.rstrip(":")
                    self._section(key, line, self.heading)
                continue
            if self.top is None:
                # Overview paragraphs before the first heading → definition items.
                self.key = "definition"
                self._section("definition", line, None)
                self._start_item(line, t, line.start, "paragraph")
                self._flush()
                continue
            self._content_line(i, line)
        self._flush()

    def _content_line(self, i: int, line: _Line) -> None:
        t = line.text
        offset = line.start
        trailing = bool(_TRAILING_MARKER.search(t)) and t not in _MARKER_ONLY
        if trailing:
            t = _TRAILING_MARKER.sub("", t)
        if t in _MARKER_ONLY:
            self._flush()
            self.marker_pending = True
            self.section_has_markers = True
            return
        style = None
        # Dos / don'ts printed inline ("Do: …", "Avoid: …")
        if self.top in ("dos", "donts"):
            m = _DO_INLINE.match(t) or _DONT_INLINE.match(t)
            if m:
                self.key = "dos" if _DO_INLINE.match(t) else "donts"
                self._section(self.key, line, None)
                rest = m.group("rest")
                self._start_item(line, rest, offset + m.start("rest"), "dash")
                self.section_has_markers = True
                self.marker_pending = trailing
                return
        m = _NUMBERED.match(t)
        if m:
            style, content, c_off = "numbered", m.group("rest"), offset + m.start("rest")
        else:
            m = _BULLET.match(t)
            if m:
                style, content, c_off = "dash", m.group("rest"), offset + m.start("rest")
        if style is None and self.marker_pending:
            style, content, c_off = "dash", t, offset
        if style is not None:
            self.section_has_markers = True
            self.marker_pending = trailing
            self._start_item(line, content, c_off, style)
            return
        self.marker_pending = trailing
        cur = self.current
        key = self.key or "definition"
        if cur is None:
            nxt = self._next_content(i)
            if t.endswith(":") or t.startswith("(") or self._is_structural(nxt):
                self._section(key, line, None).intro.append(strip_citations(t)[0])
                return
            self._start_item(line, t, offset, "pair" if title_like(t) else "paragraph")
            return
        if key == "faqs":
            if t.endswith("?"):
                self._start_item(line, t, offset, "faq")
            else:
                self._body_line(line, t)
            return
        if cur.awaiting or _FIELD_RE.match(t):
            self._body_line(line, t)
            return
        if (
            cur.style == "numbered"
            and line.indent > cur.line.indent
            and (cur.body_indent is None or line.indent >= cur.body_indent)
        ):
            self._body_line(line, t)
            return
        if title_like(t):
            self._start_item(line, t, offset, "pair")
            return
        if self.section_has_markers and self._last_in_section(i):
            self._flush()
            self._section(key, line, None).notes.append(strip_citations(t)[0])
            return
        # An untitled paragraph between items: its own item, title derived from its words.
        self._start_item(line, t, offset, "paragraph")

    def article(self, path: str | None) -> IngestedArticle:
        return IngestedArticle(
            file=self.file,
            path=path,
            source_id=self.source_id,
            title=self.title,
            layout="template",
            chars=len(self.text),
            sha256=hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
            sections=list(self.sections.values()),
            skipped=self.skipped,
            warnings=self.warnings,
        )


# ---------------------------------------------------------------------------------------------
# Prose articles (no headings or lists): items are the things the sentences name
# ---------------------------------------------------------------------------------------------

_PROSE_CLASS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("definition", re.compile(r"^\s*in (?:summary|conclusion)\b", re.I)),
    ("causes", re.compile(r"\b(?:stem from|stems from|caused by|causes of|sources)\b", re.I)),
    ("symptoms", re.compile(r"\b(?:report|symptoms (?:include|of))\b", re.I)),
    ("prevention", re.compile(r"\bprevent", re.I)),
    ("treatments", re.compile(r"\btreatment", re.I)),
)
_LIST_TRIGGER = re.compile(
    r"\b(?P<trig>including|includes?|such as|recommend|report|can cause|may cause)"
    r"\s+(?P<list>[^.]+)",
    re.I,
)
_SURGERY_SENTENCE = re.compile(r"\bsurgical (?:options|procedures|treatments)\b", re.I)
_SEEK_CARE = re.compile(
    r"\b(?:seek (?:medical |urgent )?(?:evaluation|attention|help|care|advice)|see a (?:doctor|specialist)"
    r"|medical evaluation)\b",
    re.I,
)
_NAMED_TECHNIQUE = re.compile(
    r"\bminimally invasive (?:techniques|surgery|procedures|approaches)\b", re.I
)
_LEADING_CLAUSE = re.compile(
    r"^(?:(?:in|for|when|initially|additionally|however|also|first|finally)\b[^,]{0,60},\s*)",
    re.I,
)
_SUBJECT = re.compile(
    r"^(?P<subj>[^.;:]{3,140}?)\s+(?:can|may|might|are|is|also|reduces|reduce|helps?|offers?|lowers?|improves?|"
    r"prevents?|protects?|keeps?)\b"
)
_GENERIC_SUBJECT = re.compile(
    r"^(?:treatment|preventative|preventive|patients|physicians|it|it’s|it's|this|these|they|"
    r"advances|pain|surgery|the|a combination|consulting|understanding|symptoms|more)\b",
    re.I,
)
_CLAUSE_CUT = re.compile(r",?\s+(?:aimed at|which|where|that|to|who)\s+|,\s+(?=(?:a|an)\s)")


def _list_items(text: str) -> list[tuple[str, str | None]]:
    """Split a named list into (name, clause about it) pairs."""
    out: list[tuple[str, str | None]] = []
    parts = split_list(text, ";") if ";" in text else [text]
    for part in parts:
        part = re.sub(r"^(?:and|or)\s+", "", part.strip())
        m = _CLAUSE_CUT.search(part)
        clause = None
        if m:
            clause = part[m.end() :].strip() or None
            part = part[: m.start()]
        for piece in split_list(part, ",") if len(parts) == 1 else [part]:
            piece = re.sub(r"^(?:and|or|the|a|an)\s+", "", piece.strip(), flags=re.I)
            if not piece or re.match(r"^(?:especially|particularly|including)\b", piece, re.I):
                continue
            out.append((piece.strip(" ,."), clause if len(parts) > 1 else None))
    return out


def _parse_prose(text: str, file: str, source_id: str | None) -> IngestedArticle:
    lines = _lines(text)
    sections: dict[str, Section] = {}
    skipped: list[Skipped] = []
    seen: dict[str, set[str]] = {}
    title = None
    content_lines = [ln for ln in lines if ln.text]
    if (
        content_lines
        and title_like(content_lines[0].text)
        and not content_lines[0].text.endswith(".")
    ):
        title = clean_title(content_lines[0].text)
        first = content_lines.pop(0)
        skipped.append(
            Skipped(
                kind="title", text=first.text[:80], line=first.no, start=first.start, end=first.end
            )
        )

    def add(key: str, name: str, start: int, end: int, line: int, desc: str | None) -> None:
        norm = re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()
        if not norm or len(name.split()) > 12:
            return
        if norm in seen.setdefault(key, set()):
            return
        seen[key].add(norm)
        sec = sections.setdefault(key, Section(key=key, line=line, start=start))
        idx = text.find(name, start, end)
        sec.items.append(
            Item(
                file=file,
                source=source_id,
                section=key,
                index=len(sec.items) + 1,
                title=name[0].upper() + name[1:] if key != "definition" else name,
                title_derived=key == "definition",
                fields=ItemFields(description=desc) if desc else ItemFields(),
                start=start,
                end=end,
                line=line,
                title_start=idx if idx >= 0 else None,
                title_end=idx + len(name) if idx >= 0 else None,
            )
        )

    for n, ln in enumerate(content_lines):
        para = ln.text
        # Remove the page title repeated inside paragraphs (navigation residue).
        spans: list[tuple[int, int]] = []
        if title:
            for m in re.finditer(re.escape(title), ln.raw):
                s = ln.start - ln.indent + m.start()
                skipped.append(
                    Skipped(
                        kind="repeated_title",
                        text=title[:80],
                        line=ln.no,
                        start=s,
                        end=s + len(title),
                    )
                )
                spans.append((m.start(), m.end()))
        if title:
            para = para.replace(title, " ").strip()
        key = "definition" if n == 0 else None
        if key is None:
            for k, pat in _PROSE_CLASS:
                if pat.search(para):
                    key = k
                    break
        if key is None or not para:
            continue
        if key == "definition":
            p_start = ln.start + (len(ln.text) - len(ln.text.lstrip()))
            if title and ln.text.startswith(title):
                p_start = ln.start + len(title) + 1
            words = " ".join(para.split()[:8]) + "…"
            add("definition", words, p_start, ln.end, ln.no, " ".join(para.split()))
            continue
        # Sentence spans inside the original line.
        raw = ln.raw
        base = ln.start - ln.indent
        for m in re.finditer(r"[^.!?]+(?:[.!?]+|$)", raw):
            sent = m.group(0)
            if title:
                sent = sent.replace(title, " ")
            s_text = sent.strip()
            if not s_text or len(s_text) < 3:
                continue
            lead_ws = len(m.group(0)) - len(m.group(0).lstrip())
            s_start = base + m.start() + lead_ws
            s_end = base + m.end()
            body = _LEADING_CLAUSE.sub("", s_text).rstrip(".")
            sect = "surgery" if _SURGERY_SENTENCE.search(body) else key
            if _SEEK_CARE.search(body):
                words = " ".join(body.split()[:8])
                add("when_to_see_doctor", words, s_start, s_end, ln.no, body)
            technique = _NAMED_TECHNIQUE.search(body)
            if technique and key in ("treatments", "surgery"):
                add("treatments", technique.group(0), s_start, s_end, ln.no, body)
            listed = False
            for lm in _LIST_TRIGGER.finditer(body):
                trig = lm.group("trig").lower()
                target = "symptoms" if trig in ("can cause", "may cause") else sect
                if trig == "report" and sect != "symptoms":
                    continue
                if trig == "recommend" and sect not in ("treatments", "surgery"):
                    continue
                for name, clause in _list_items(lm.group("list")):
                    listed = True
                    add(target, name, s_start, s_end, ln.no, clause)
            if key in ("symptoms", "treatments", "prevention") and not listed:
                sm = _SUBJECT.match(body)
                if sm and len(sm.group("subj").split()) <= 12:
                    subj = sm.group("subj").strip().rstrip(",")
                    if not _GENERIC_SUBJECT.match(subj):
                        names = _list_items(subj)
                        pred = body[sm.end("subj") :].strip() or None
                        for name, _ in names:
                            add(key, name, s_start, s_end, ln.no, pred if len(names) == 1 else None)
    order = [
        "definition", "causes", "symptoms", "treatments", "surgery", "prevention",
        "when_to_see_doctor",
    ]  # fmt: skip
    ordered = [sections[k] for k in order if k in sections]
    return IngestedArticle(
        file=file,
        source_id=source_id,
        title=title,
        layout="prose",
        chars=len(text),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        sections=ordered,
        skipped=skipped,
    )


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _heading_count(text: str) -> int:
    n = 0
    for line in text.splitlines():
        t = line.strip().rstrip(":")
        if t and len(t.split()) <= 14 and any(p.match(t) for _, p in TOP_HEADINGS):
            n += 1
    return n


def parse_article(text: str, file: str = "<text>", source_id: str | None = None) -> IngestedArticle:
    """Parse article text into canonical sections and items with provenance."""
    if _heading_count(text) >= 2:
        parser = _Parser(text, file, source_id)
        parser.parse()
        return parser.article(None)
    return _parse_prose(text, file, source_id)


def read_article(path: Path) -> str:
    """Read one article file as UTF-8 text, rejecting missing, binary, empty or huge files."""
    if not path.exists():
        raise InputError(f"article file not found: {path}", "check the path and try again")
    if path.is_dir():
        raise InputError(f"{path} is a directory", "pass article files, or a directory of .txt")
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise InputTooLargeError(
            f"{path.name} is {size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,} bytes",
            "split the article or pass only the article text",
        )
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path.name} looks like a binary file", "pass a UTF-8 text article")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name} is not valid UTF-8 (byte {exc.start})",
            "re-save the article as UTF-8 text",
        ) from None
    if not text.strip():
        raise InputError(f"{path.name} is empty", "pass an article with text in it")
    return text


def source_id_for(file_name: str, kb: Any | None) -> str | None:
    """Find the registry source whose ``file`` matches this file name (else None)."""
    if kb is None:
        return None
    for src in getattr(kb, "sources", {}).values():
        if src.file and Path(src.file).name == Path(file_name).name:
            return src.id
    return None


def ingest_file(path: Path | str, kb: Any | None = None) -> IngestedArticle:
    """Read and parse one article file; the source id comes from the KB registry if given."""
    p = Path(path)
    text = read_article(p)
    art = parse_article(text, p.name, source_id_for(p.name, kb))
    art.path = str(p)
    return art


def expand_paths(paths: list[Path | str]) -> list[Path]:
    """Expand directories to their .txt files (sorted); raise InputError when nothing is left."""
    out: list[Path] = []
    if not paths:
        raise InputError("no article given", "pass one or more .txt files or a directory")
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(x for x in p.glob("*.txt") if x.is_file())
            if not found:
                raise InputError(f"no .txt articles in {p}", "put the articles in .txt files")
            out += found
        elif not p.exists():
            raise InputError(f"article file not found: {p}", "check the path and try again")
        else:
            out.append(p)
    return out


def ingest_paths(paths: list[Path | str], kb: Any | None = None) -> list[IngestedArticle]:
    """Ingest files and directories of .txt articles, in order."""
    return [ingest_file(p, kb) for p in expand_paths(paths)]
