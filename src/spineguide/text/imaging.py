"""Imaging-report extractor: free-text lumbar MRI/CT reports -> PRODUCT.md imaging findings.

Pipeline (pure, no I/O after the vocabulary loads once): sections -> sentences -> words ->
vocabulary phrases -> level runs (levels.py) -> finding mentions -> context (context.py) ->
level/side/severity/root resolution -> per-section de-duplication -> the impression wins.

Conventions (documented, shared with the evaluation sets):
- Severity: ranges take the higher grade ("mild to moderate" -> moderate); small/minimal/slight
  -> mild; large/marked/high grade -> severe; negated -> none. Narrowing percentages (canal or
  foramen): <25 % mild, 25-50 % moderate, >50 % severe (expert estimate after the Lee 2010
  grading, source id lee-2010-foraminal); Lee grades 0-3 -> none/mild/moderate/severe.
  Fracture height loss (Genant semiquantitative): <=25 % mild, 25-40 % moderate, >40 % severe.
  Spondylolisthesis Meyerding grade 1 -> mild, 2 -> moderate, 3-5 -> severe; slip % -> grade.
- Nerve roots: contact/abutment -> mild (Pfirrmann 2004 grade 1 "contact"); "compressing" takes
  the sentence's severity adverb ("severely narrowing ... and compressing"); displacement,
  impingement and mass effect stay unspecified unless a severity word is attached.
  Unnamed roots follow the traversing/exiting rule: paracentral/subarticular/central ->
  traversing (lower vertebra of the level), foraminal/extraforaminal -> exiting (upper), with
  root_inferred true; with no zone at all the traversing root is assumed.
- Sides: a disc finding with no side is central; foraminal, lateral-recess, facet, ligamentum
  flavum and nerve-root findings with no side are bilateral.
- Levels: a level heading ("L4-5:") governs its block; a sentence without a level takes the
  previous sentence's level within the paragraph (not for fracture, bone lesion,
  spondylolisthesis, collections or haematoma, which are often whole-spine statements);
  "multilevel" gives level null; "at each level" gives L1-L2..L5-S1.
- Negative statements that point elsewhere ("foramina otherwise patent", "remaining levels")
  produce no tuple.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from spineguide.errors import InputError, InputTooLargeError
from spineguide.text.context import ContextEngine
from spineguide.text.levels import (
    LEVEL_TOKEN_PATTERN,
    LUMBAR_DISC_LEVELS,
    LevelGroup,
    LevelToken,
    group_level_tokens,
    parse_level_token,
)
from spineguide.text.models import SEVERITY_ORDER, ImagingFinding, ImagingReport, ReportSection

MAX_REPORT_CHARS = 200_000
"""Largest report accepted (characters). Real reports are 0.5-10 kB; bigger input is an error."""

VOCABULARY_PATH = Path(__file__).parent / "vocabulary" / "imaging.yaml"

_TOKEN_RE = re.compile(
    r"(?P<lvl>(?<![a-z0-9])" + LEVEL_TOKEN_PATTERN + r")"
    r"|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)?)"
    r"|(?P<nl>\n)"
    r"|(?P<p>[^\s\w]|_)"
)
_HEADING_RE = re.compile(
    r"^[ \t]*(?:[-*•#][ \t]*)?([A-Za-z][A-Za-z /&()]{1,40}?)[ \t]*(?::|$)", re.MULTILINE
)
_SECTION_NAMES: dict[str, str] = {}
for _names, _section in (
    ("findings finding report body results result addendum", "findings"),
    (
        "impression impressions conclusion conclusions summary opinion assessment diagnosis "
        "diagnoses interpretation",
        "impression",
    ),
    ("history indication indications reason", "history"),
    ("technique protocol sequences procedure", "technique"),
    ("comparison comparisons", "comparison"),
):
    for _n in _names.split():
        _SECTION_NAMES[_n] = _section
_SECTION_PHRASES = {
    "clinical history": "history",
    "clinical information": "history",
    "clinical indication": "history",
    "clinical details": "history",
    "clinical data": "history",
    "reason for exam": "history",
    "reason for examination": "history",
    "reason for study": "history",
    "prior studies": "comparison",
    "mri lumbar spine": "header",
    "exam": "header",
    "examination": "header",
}
_EXTRACTED_SECTIONS = frozenset({"findings", "impression"})
_SENTENCE_END = frozenset({".", "!", "?"})
_MAX_SENTENCE_WORDS = 160
_ABBREVIATIONS = frozenset({"approx", "vs", "e", "g", "i", "dr", "fig", "mr", "ca", "cf", "etc"})
_CONJ = frozenset({"and", "or", "nor", ",", "&"})
_BOUNDARY = frozenset({".", ";", ":", "!", "?", "(", ")", "[", "]"})
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "one": 1, "two": 2, "three": 3, "four": 4}
_PREPOSITIONS = frozenset(
    {
        "of",
        "on",
        "upon",
        "in",
        "within",
        "into",
        "involving",
        "at",
        "along",
        "the",
        "a",
        "an",
        "both",
        "to",
    }
)
_DISC_FINDINGS = frozenset(
    {"disc_bulge", "disc_protrusion", "disc_extrusion", "disc_sequestration", "disc_herniation"}
)
_NEGATIVE_SIDE_DEFAULT = "central"


class _Vocab:
    """The compiled vocabulary: phrase index, finding properties and context rules."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.findings: dict[str, dict[str, Any]] = {}
        index: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}

        def add(phrase: str, role: str, value: Any) -> None:
            if not isinstance(phrase, str):
                raise ValueError(f"vocabulary phrase {phrase!r} is not a string (quote it in YAML)")
            words = tuple(phrase.replace("-", " ").replace("/", " ").lower().split())
            if not words:
                return
            roles = index.setdefault(words[0], {}).setdefault(words, {})
            if role in ("anchor", "head"):
                roles.setdefault(role, set()).add(value)
            else:
                roles.setdefault(role, value)

        for fid, spec in data["findings"].items():
            props = {
                "kind": spec.get("kind", "disc"),
                "graded": bool(spec.get("graded", True)),
                "default_side": spec.get("default_side", "central"),
                "negated_side": spec.get("negated_side", "central"),
                "inherit": bool(spec.get("inherit", True)),
                "skip_if": frozenset(spec.get("skip_if_sentence_has", ())),
                "fixed_side": spec.get("fixed_side"),
            }
            self.findings[fid] = props
            for term in spec.get("terms") or ():
                add(term, "find", fid)
        for name, phrases in data["anchors"].items():
            for p in phrases:
                add(p, "anchor", name)
        for name, phrases in data["heads"].items():
            for p in phrases:
                add(p, "head", name)
        # (anchor, head set) -> (finding, polarity, default severity)
        self.compounds: dict[tuple[str, str], tuple[str, str, str | None]] = {}
        for c in data["compounds"]:
            for head in c["heads"]:
                self.compounds[(c["anchor"], head)] = (
                    c["finding"],
                    c.get("polarity", "positive"),
                    c.get("default_severity"),
                )
        self.exclusions: dict[str, frozenset[str]] = {
            e["anchor_phrase"]: frozenset(e["head_phrases"]) for e in data["anchor_head_exclusions"]
        }
        sev = data["severity"]
        for grade in ("mild", "moderate", "severe"):
            for p in sev[grade]:
                add(p, "sev", grade)
        for p in sev["quantity_severe"]:
            add(p, "qty", "severe")
        for p in sev["quantity_moderate"]:
            add(p, "qty", "moderate")
        for side, phrases in data["sides"].items():
            for p in phrases:
                add(p, "side", side)
        for zone, phrases in data["zones"].items():
            for p in phrases:
                add(p, "zone", zone)
        for pos, phrases in data["root_position"].items():
            for p in phrases:
                add(p, "rootpos", pos)
        for mig, phrases in data["migration"].items():
            for p in phrases:
                add(p, "mig", mig)
        for p in data["migration_verbs"]:
            add(p, "migverb", True)
        for d, phrases in data["listhesis_direction"].items():
            for p in phrases:
                add(p, "ldir", d)
        for p in data["filler"]:
            add(p, "filler", True)
        for p in data["copulas"]:
            add(p, "copula", True)
        for p in data["away_words"]:
            add(p, "away", True)
        lw = data["level_words"]
        for p in lw["all_levels"]:
            add(p, "alllv", True)
        for p in lw["multilevel"]:
            add(p, "multilv", True)
        for p in lw["lumbosacral"]:
            add(p, "fixlv", "L5-S1")
        for p in lw["thoracolumbar"]:
            add(p, "fixlv", "T12-L1")
        self.index: dict[str, list[tuple[tuple[str, ...], dict[str, Any]]]] = {
            first: sorted(((w, r) for w, r in entries.items()), key=lambda e: -len(e[0]))
            for first, entries in index.items()
        }
        # freeze the anchor/head sets
        for entries in self.index.values():
            for _w, r in entries:
                for key in ("anchor", "head"):
                    if key in r:
                        r[key] = frozenset(r[key])
        self.context = ContextEngine.for_language("en").rules  # the one shared context engine
        self.raw = data


@lru_cache(maxsize=1)
def load_vocabulary(path: str | None = None) -> _Vocab:
    """Load and compile the imaging vocabulary once per process."""
    p = Path(path) if path else VOCABULARY_PATH
    return _Vocab(yaml.safe_load(p.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------
# tokens, sections, sentences


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _sections(text: str) -> list[tuple[str, int, int, int]]:
    """Split into (name, heading_start, content_start, end) sections."""
    marks: list[tuple[str, int, int]] = []
    for m in _HEADING_RE.finditer(text):
        raw = m.group(1).strip().lower()
        raw = re.sub(r"\s+", " ", raw)
        name = _SECTION_PHRASES.get(raw) or _SECTION_NAMES.get(raw)
        if name is None:
            first = raw.split(" ")[0] if raw else ""
            if raw.endswith(")") or first not in _SECTION_NAMES or len(raw.split()) > 3:
                continue
            name = _SECTION_NAMES[first]
        line_end = text.find("\n", m.start())
        line_end = len(text) if line_end < 0 else line_end
        # a heading without a colon must be alone on its line and look like a heading
        if not m.group(0).rstrip().endswith(":") and (
            text[m.end() : line_end].strip() or not m.group(1).strip().isupper()
        ):
            continue
        marks.append((name, m.start(), m.end()))
    out: list[tuple[str, int, int, int]] = []
    if not marks or marks[0][1] > 0:
        out.append(("findings", 0, 0, marks[0][1] if marks else len(text)))
    for i, (name, start, content) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        out.append((name, start, content, end))
    return out


class _Sentence:
    __slots__ = ("ends", "line_start", "new_line", "para_break", "starts", "words")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.line_start = False
        self.para_break = False
        self.new_line = False


def _sentences(text: str, low: str, start: int, end: int) -> list[_Sentence]:
    """Tokenise text[start:end] and split it into sentences (line breaks mid-sentence join)."""
    out: list[_Sentence] = []
    cur = _Sentence()
    cur.line_start = True
    cur.new_line = True
    pending_para = False
    for m in _TOKEN_RE.finditer(low, start, end):
        kind = m.lastgroup
        s, e = m.start(), m.end()
        if kind == "nl":
            # blank line -> paragraph break; a line break is a sentence break unless the next
            # line continues the sentence (starts with a lower-case word after a non-stop char)
            nxt = s + 1
            while nxt < end and text[nxt] in " \t\r":
                nxt += 1
            blank = nxt < end and text[nxt] == "\n"
            prev = s - 1
            while prev >= start and text[prev] in " \t\r":
                prev -= 1
            continues = (
                not blank
                and nxt < end
                and text[nxt].islower()
                and prev >= start
                and text[prev] not in ".:;!?"
            )
            if blank:
                pending_para = True
            if not continues:
                if cur.words:
                    out.append(cur)
                    cur = _Sentence()
                cur.line_start = True
                cur.new_line = True
                if pending_para:
                    cur.para_break = True
            continue
        w = m.group()
        if kind == "p":
            if w in "-/–—" and s > 0 and e < len(low) and low[s - 1].isalnum() and low[e].isalnum():
                continue  # "broad-based", "mild-to-moderate", "and/or": a joiner, not a word
            if w in _SENTENCE_END:
                prevw = cur.words[-1] if cur.words else ""
                if prevw in _ABBREVIATIONS:
                    continue
                if cur.words:
                    cur.words.append(w)
                    cur.starts.append(s)
                    cur.ends.append(e)
                    out.append(cur)
                    cur = _Sentence()
                continue
            if not cur.words and w in "-*•#)":
                continue  # bullet
        if not cur.words and kind == "num":
            # enumerator "1." / "2)" at the start of a sentence
            nxt = e
            if nxt < end and low[nxt] in ".)" and (nxt + 1 >= end or not low[nxt + 1].isdigit()):
                continue
        cur.words.append(w)
        cur.starts.append(s)
        cur.ends.append(e)
        if len(cur.words) >= _MAX_SENTENCE_WORDS:
            # no real sentence is this long; cutting keeps per-sentence work bounded (linear time)
            out.append(cur)
            cur = _Sentence()
    if cur.words:
        out.append(cur)
    # drop stray enumerator punctuation left at sentence starts
    for sent in out:
        while sent.words and sent.words[0] in (".", ")", "-", "*", "•"):
            del sent.words[0], sent.starts[0], sent.ends[0]
    return [s for s in out if s.words]


# --------------------------------------------------------------------------------------------
# per-sentence analysis


class _Item:
    __slots__ = ("i0", "i1", "roles", "word")

    def __init__(self, i0: int, i1: int, roles: dict[str, Any] | None, word: str) -> None:
        self.i0 = i0
        self.i1 = i1
        self.roles = roles
        self.word = word


class _Mention:
    __slots__ = (
        "anchor_phrase",
        "default_sev",
        "finding",
        "head_word",
        "i0",
        "i1",
        "item_index",
        "nums",
        "polarity",
        "rootpos",
        "roots",
        "sevs",
        "sides",
        "target",
        "zones",
    )

    def __init__(self, finding: str, i0: int, i1: int, target: int) -> None:
        self.finding = finding
        self.i0 = i0
        self.i1 = i1
        self.target = target
        self.sevs: list[str] = []
        self.sides: list[str] = []
        self.zones: list[str] = []
        self.roots: list[str] = []
        self.rootpos: str | None = None
        self.polarity = "positive"
        self.default_sev: str | None = None
        self.head_word = ""
        self.item_index = 0
        self.nums: list[tuple[float, str]] = []
        self.anchor_phrase = ""


def _tag(vocab: _Vocab, words: list[str], level_tokens: dict[int, LevelToken]) -> list[_Item]:
    items: list[_Item] = []
    index = vocab.index
    n = len(words)
    i = 0
    while i < n:
        w = words[i]
        if i in level_tokens:
            items.append(_Item(i, i + 1, {"lvl": True}, w))
            i += 1
            continue
        entries = index.get(w)
        if entries:
            for phrase, roles in entries:
                k = len(phrase)
                if k == 1 or tuple(words[i : i + k]) == phrase:
                    items.append(_Item(i, i + k, roles, " ".join(phrase)))
                    i += k
                    break
            else:
                items.append(_Item(i, i + 1, None, w))
                i += 1
            continue
        if w[0].isdigit():
            items.append(_Item(i, i + 1, {"num": float(w)}, w))
        elif w in _ROMAN and i > 0 and words[i - 1] in ("type", "grade"):
            items.append(_Item(i, i + 1, {"num": float(_ROMAN[w])}, w))
        else:
            items.append(_Item(i, i + 1, None, w))
        i += 1
    return items


def _walkable(item: _Item) -> bool:
    r = item.roles
    if r is None:
        return False
    return not ("find" in r or "head" in r) and (
        "sev" in r
        or "side" in r
        or "zone" in r
        or "filler" in r
        or "anchor" in r
        or "num" in r
        or "lvl" in r
        or "rootpos" in r
        or "copula" in r
        or "qty" in r
        or "ldir" in r
        or "mig" in r
    )


class _Group:
    __slots__ = ("anchors", "lvls", "nums", "qty", "rootpos", "sevs", "sides", "zones")

    def __init__(self) -> None:
        self.anchors: list[int] = []
        self.sevs: list[str] = []
        self.sides: list[str] = []
        self.zones: list[str] = []
        self.lvls: list[int] = []
        self.rootpos: str | None = None
        self.nums: list[tuple[float, str]] = []
        self.qty: str | None = None


def _absorb(group: _Group, items: list[_Item], j: int, words: list[str]) -> None:
    r = items[j].roles or {}
    if "sev" in r:
        group.sevs.append(r["sev"])
    if "side" in r:
        group.sides.append(r["side"])
    if "zone" in r:
        group.zones.append(r["zone"])
    if "lvl" in r:
        group.lvls.append(items[j].i0)
    if "rootpos" in r and group.rootpos is None:
        group.rootpos = r["rootpos"]
    if "qty" in r:
        group.qty = r["qty"]
    if "num" in r:
        unit = words[items[j].i1] if items[j].i1 < len(words) else ""
        group.nums.append((r["num"], unit))


def _walk_back(
    items: list[_Item], k: int, words: list[str], anchor_ok: frozenset[str] | None
) -> list[_Group]:
    """Collect modifier groups left of item k; anchors in `anchor_ok` become group anchors."""
    groups = [_Group()]
    j = k - 1
    steps = 0
    while j >= 0 and steps < 14:
        steps += 1
        it = items[j]
        r = it.roles
        if r is None:
            w = it.word
            if w in _CONJ:
                if (
                    j - 1 >= 0
                    and _walkable(items[j - 1])
                    and items[j - 1].roles
                    and (
                        "sev" in items[j - 1].roles
                        or "side" in items[j - 1].roles
                        or "anchor" in items[j - 1].roles
                        or "zone" in items[j - 1].roles
                        or "lvl" in items[j - 1].roles
                    )
                ):
                    if (
                        "sev" in items[j - 1].roles
                        and "side" not in items[j - 1].roles
                        and not (groups[-1].anchors or groups[-1].sides)
                    ):
                        # "mild and moderate" without sides: one range, not two groups
                        j -= 1
                        continue
                    groups.append(_Group())
                    j -= 1
                    continue
                break
            if w in ("to", "-", "/", "%") or w == "mm" or w == "cm":
                j -= 1
                continue
            break
        if "find" in r or "head" in r:
            break
        if "anchor" in r and anchor_ok is not None:
            if r["anchor"] & anchor_ok:
                groups[-1].anchors.append(j)
                _absorb(groups[-1], items, j, words)
                j -= 1
                continue
            if "filler" not in r and "zone" not in r:
                break
        if not _walkable(it):
            break
        _absorb(groups[-1], items, j, words)
        j -= 1
    groups.reverse()
    return [
        g
        for g in groups
        if g.anchors or g.sevs or g.sides or g.zones or g.lvls or g.nums or g.rootpos or g.qty
    ] or [_Group()]


def _walk_forward(
    items: list[_Item], k: int, words: list[str], anchor_ok: frozenset[str]
) -> list[_Group]:
    """Collect anchor groups right of head item k ("narrowing of the left foramen")."""
    groups = [_Group()]
    j = k + 1
    n = len(items)
    steps = 0
    while j < n and steps < 12:
        steps += 1
        it = items[j]
        r = it.roles
        if r is None:
            w = it.word
            if w in _PREPOSITIONS or w in ("%",):
                j += 1
                continue
            if w in _CONJ and groups[-1].anchors:
                groups.append(_Group())
                j += 1
                continue
            break
        if "find" in r or "head" in r:
            break
        if "anchor" in r:
            if r["anchor"] & anchor_ok:
                groups[-1].anchors.append(j)
                _absorb(groups[-1], items, j, words)
                j += 1
                continue
            if "filler" not in r and "zone" not in r:
                j += 1  # an unrelated anatomy word ("the thecal sac and the L5 root")
                continue
        if not _walkable(it):
            break
        _absorb(groups[-1], items, j, words)
        j += 1
    return [g for g in groups if g.anchors or g.lvls]


def _post_window(items: list[_Item], k: int, stop: int) -> list[int]:
    """Item indices after item k up to the next mention, a boundary, 'with' or 'and'."""
    out = []
    j = k + 1
    while j < stop and j < k + 20:
        it = items[j]
        if it.word in _BOUNDARY or it.word in ("with", "and", "but", "which", "while", "without"):
            break
        out.append(j)
        j += 1
    return out


def _max_sev(sevs: list[str]) -> str | None:
    best = None
    for s in sevs:
        if best is None or SEVERITY_ORDER[s] > SEVERITY_ORDER[best]:
            best = s
    return best


def _percent_severity(p: float) -> str:
    # canal/foraminal narrowing: <25 % mild, 25-50 % moderate, >50 % severe (lee-2010-foraminal;
    # cut-offs are an expert estimate mapping area loss onto the Lee grades)
    if p < 25:
        return "mild"
    if p <= 50:
        return "moderate"
    return "severe"


def _genant_severity(p: float) -> str:
    # Genant semiquantitative grading of vertebral height loss: grade 1 20-25 %, grade 2 25-40 %,
    # grade 3 >40 %
    if p <= 25:
        return "mild"
    if p <= 40:
        return "moderate"
    return "severe"


def _grade_severity(grade: int) -> str:
    return "mild" if grade <= 1 else "moderate" if grade == 2 else "severe"


def _meyerding(percent: float) -> int:
    if percent <= 25:
        return 1
    if percent <= 50:
        return 2
    if percent <= 75:
        return 3
    if percent <= 100:
        return 4
    return 5


class _State:
    __slots__ = ("carry", "heading", "heading_line_content", "heading_strong")

    def __init__(self) -> None:
        self.heading: LevelGroup | None = None
        self.heading_strong = False
        self.heading_line_content = False
        self.carry: LevelGroup | None = None


def _analyse_sentence(
    vocab: _Vocab,
    sent: _Sentence,
    text: str,
    section: str,
    state: _State,
    out: list[ImagingFinding],
) -> None:
    words = sent.words
    # paragraph / line state
    if sent.para_break:
        state.heading = None
        state.carry = None
    elif sent.new_line and state.heading is not None and state.heading_line_content:
        state.heading_strong = False
    level_tokens: dict[int, LevelToken] = {}
    for i, w in enumerate(words):
        if len(w) > 1 and w[0] in "tls" and w[1].isdigit():
            tok = parse_level_token(w)
            if tok is not None:
                level_tokens[i] = tok
    groups = group_level_tokens(words, level_tokens) if level_tokens else []
    items = _tag(vocab, words, level_tokens)
    # extra level groups from phrases ("at each level", "multilevel", "lumbosacral junction")
    for it in items:
        r = it.roles
        if not r:
            continue
        if "alllv" in r:
            groups.append(LevelGroup(it.i0, it.i1, list(LUMBAR_DISC_LEVELS), [], "all"))
        elif "multilv" in r:
            groups.append(LevelGroup(it.i0, it.i1, [], [], "multi"))
        elif "fixlv" in r:
            groups.append(LevelGroup(it.i0, it.i1, [r["fixlv"]], [], "level"))
    groups.sort(key=lambda g: g.start)
    level_groups = [g for g in groups if g.role != "root"]
    root_groups = {g.start: g for g in groups if g.role == "root"}

    # level heading: "L4-5:" / "L2-L3 through L4-L5:" / "L4-5 -" at the start of a line
    content_from = 0
    if sent.line_start and level_groups and level_groups[0].start == 0:
        g0 = level_groups[0]
        k = g0.end
        if k < len(words) and words[k] == "level":
            k += 1
        if k < len(words) and words[k] in (":", "-", "–", "—"):
            state.heading = g0
            state.heading_strong = True
            state.heading_line_content = k + 1 < len(words)
            state.carry = g0
            content_from = k + 1
            level_groups = level_groups[1:]
    elif sent.line_start and len(words) > 1:
        # a non-level subheading ("Alignment:", "Conus:") ends the level block
        for k in range(1, min(5, len(words))):
            if words[k] == ":":
                head_items = [it for it in items if it.i1 <= k]
                if not any(
                    it.roles and ("anchor" in it.roles or "find" in it.roles or "head" in it.roles)
                    for it in head_items
                ):
                    state.heading = None
                    state.carry = None
                break
            if not words[k].isalpha():
                break

    # ---- mentions
    mentions: list[_Mention] = []
    item_of_word: dict[int, int] = {}
    for idx, it in enumerate(items):
        item_of_word[it.i0] = idx
    compounds = vocab.compounds
    for idx, it in enumerate(items):
        if it.i0 < content_from:
            continue
        r = it.roles
        if not r:
            continue
        if "find" in r:
            fid = r["find"]
            props = vocab.findings[fid]
            if props["skip_if"] and any(
                any(m.roles and m.roles.get("find") in props["skip_if"] for m in items)
                for _ in (0,)
            ):
                continue
            groups_b = _walk_back(items, idx, words, None)
            for g in _split_side_groups(groups_b):
                m = _Mention(fid, min(it.i0, _gstart(g, items, it.i0)), it.i1, it.i0)
                _fill(m, g)
                m.item_index = idx
                m.head_word = it.word
                mentions.append(m)
            continue
        if "head" in r:
            heads: frozenset[str] = r["head"]
            anchor_ok = frozenset(a for (a, h) in compounds if h in heads)
            groups_b = _walk_back(items, idx, words, anchor_ok)
            anchored = [g for g in groups_b if g.anchors]
            made = False
            if anchored:
                # groups without an anchor share the anchor of the group to their right
                last_anchor: list[int] = []
                for g in reversed(groups_b):
                    if g.anchors:
                        last_anchor = g.anchors
                    elif last_anchor:
                        g.anchors = list(last_anchor)
                carry_sev: list[str] = []
                for g in groups_b:
                    if g.sevs:
                        carry_sev = g.sevs
                    elif carry_sev:
                        g.sevs = list(carry_sev)
                made = _make_compound(vocab, items, words, idx, heads, groups_b, mentions, None)
            if not made:
                pre = _walk_back(items, idx, words, None)
                fwd = _walk_forward(items, idx, words, anchor_ok)
                if fwd:
                    made = _make_compound(
                        vocab, items, words, idx, heads, fwd, mentions, pre[-1], root_groups
                    )
            if not made and "calcify" in heads:
                # "calcified right paracentral herniation": the herniation is the anchor
                for j in range(idx + 1, min(len(items), idx + 5)):
                    rj = items[j].roles
                    if rj and rj.get("find") in _DISC_FINDINGS:
                        m = _Mention("disc_calcification", it.i0, items[j].i1, it.i0)
                        m.sides.append("central")
                        m.head_word = it.word
                        m.item_index = idx
                        mentions.append(m)
                        made = True
                        break
                    if rj is None or not _walkable(items[j]):
                        break
            if (
                not made
                and it.word in ("stenosis", "stenoses", "stenotic")
                and "narrowing" in heads
            ):
                pre = _walk_back(items, idx, words, None)
                m = _Mention("canal_stenosis", it.i0, it.i1, it.i0)
                _fill(m, pre[-1])
                m.head_word = it.word
                m.item_index = idx
                if m.sides and not m.zones:
                    m.finding = "canal_stenosis"
                mentions.append(m)
    if not mentions:
        _update_carry(state, level_groups)
        return

    # ---- context
    targets = [m.target for m in mentions]
    flags = vocab.context.resolve(words, targets)

    # ---- sentence-level helpers
    adverb_sev: list[tuple[int, str]] = []
    migration: list[tuple[int, str]] = []
    sentence_zones: list[tuple[int, str]] = []
    n_items = len(items)
    for idx, it in enumerate(items):
        r = it.roles
        if not r:
            continue
        if "sev" in r and idx + 1 < n_items and it.word.endswith("ly"):
            nr = items[idx + 1].roles
            if nr and "head" in nr:
                adverb_sev.append((it.i0, r["sev"]))
        if "mig" in r:
            lo, hi = max(0, idx - 3), min(n_items, idx + 4)
            if any(
                items[j].roles and "migverb" in items[j].roles for j in range(lo, hi) if j != idx
            ):
                migration.append((it.i0, r["mig"]))
        if "zone" in r:
            sentence_zones.append((it.i0, r["zone"]))
    clause_of: list[tuple[int, int]] | None = None

    mention_starts = sorted({m.item_index for m in mentions})
    for k, m in enumerate(mentions):
        props = vocab.findings[m.finding]
        f = flags[k]
        negated = "negated" in f or m.polarity == "negative"
        uncertain = ("uncertain" in f or "hypothetical" in f) and not negated
        if negated:
            if clause_of is None:
                clause_of = _clauses(words)
            clause = clause_of[m.target]
            if any(
                items[item_of_word[j]].roles and "away" in items[item_of_word[j]].roles
                for j in range(0, max(clause[1], m.target))
                if j in item_of_word and (j >= clause[0] or j < m.target)
            ):
                continue
        # post window: side/severity after the finding ("on the right", "which is severe")
        nxt = [s for s in mention_starts if s > m.item_index]
        stop = nxt[0] if nxt else len(items)
        post = _post_window(items, m.item_index, stop)
        sides = list(m.sides)
        sevs = list(m.sevs)
        nums = list(m.nums)
        for j in post:
            r = items[j].roles or {}
            if (
                "side" in r
                and not sides
                and (
                    items[j].word in ("bilaterally",)
                    or items[j].word.endswith("sided")
                    or (j > 0 and items[j - 1].word in ("on", "to", "the", "of", "in", "at"))
                )
            ):
                sides.append(r["side"])
            if (
                "sev" in r
                and not sevs
                and (items[j].word.endswith("ly") or (items[j - 1].roles or {}).get("copula"))
            ):
                sevs.append(r["sev"])
            if "num" in r:
                unit = words[items[j].i1] if items[j].i1 < len(words) else ""
                nums.append((r["num"], unit))
        # severity
        severity = "unspecified"
        grade: int | None = None
        percent: float | None = None
        size_mm: float | None = None
        for val, unit in nums:
            if unit == "%" or unit == "percent":
                percent = val
            elif unit == "mm":
                size_mm = max(size_mm or 0.0, val)
            elif unit == "cm":
                size_mm = max(size_mm or 0.0, val * 10)
        fid = m.finding
        if fid == "spondylolisthesis" or fid in (
            "canal_stenosis",
            "foraminal_stenosis",
            "lateral_recess_stenosis",
        ):
            grade = _find_grade(items, words, m)
        if fid == "fracture" and percent is None:
            percent = _find_percent(items, words)
        if negated:
            severity = "none"
        elif props["graded"]:
            s = _max_sev(sevs)
            if fid == "spondylolisthesis":
                if grade is None and percent is not None:
                    grade = _meyerding(percent)
                if grade is not None:
                    s = _grade_severity(grade)
            elif fid in ("canal_stenosis", "foraminal_stenosis", "lateral_recess_stenosis"):
                if s is None and grade is not None:
                    s = ("none", "mild", "moderate", "severe")[min(grade, 3)]
                    if s == "none":
                        negated = True
                if s is None and percent is not None:
                    s = _percent_severity(percent)
            elif fid == "fracture" and percent is not None and s is None:
                s = _genant_severity(percent)
            if s is None and m.default_sev:
                s = m.default_sev
            if s is None and adverb_sev:
                if fid == "nerve_root_compression" and m.head_word.startswith("compress"):
                    s = _max_sev([v for _, v in adverb_sev])
                elif fid in _DISC_FINDINGS:
                    later = [v for pos, v in adverb_sev if pos > m.i0]
                    s = _max_sev(later)
            severity = s or "unspecified"
        # zone and side
        zone = m.zones[0] if m.zones else None
        if zone == "subarticular" and fid not in _DISC_FINDINGS:
            zone = "subarticular"
        side = _resolve_side(sides, zone if fid in _DISC_FINDINGS else None)
        if props["fixed_side"]:
            side = props["fixed_side"]
        if side is None and fid == "nerve_root_compression" and not negated:
            side = _nearest_disc_side(mentions, m, vocab)
        if side is None:
            side = props["negated_side"] if negated else props["default_side"]
        # levels
        levels = _levels_for(m, props, level_groups, state)
        # roots
        roots: list[tuple[str | None, bool]] = [(None, False)]
        if fid == "nerve_root_compression" and not negated:
            if m.roots:
                roots = [(r, False) for r in m.roots]
            else:
                pos = m.rootpos or _zone_rootpos(m, mentions, sentence_zones)
                roots = [("?" + (pos or "traversing"), True)]
        migration_dir = None
        if fid in _DISC_FINDINGS and migration:
            migration_dir = migration[0][1]
        modic_type = _modic_type(items, words, m) if fid == "modic_change" else None
        direction = _listhesis_direction(items, m) if fid == "spondylolisthesis" else None
        cstart = sent.starts[m.i0]
        cend = sent.ends[m.i1 - 1]
        for level in levels:
            for root, inferred in roots:
                if root is not None and root.startswith("?"):
                    root = _infer_root(level, root[1:])
                    if root is None:
                        inferred = False
                out.append(
                    ImagingFinding.model_construct(  # values come from the vocabulary: no re-check
                        finding=fid,  # type: ignore[arg-type]
                        level=level,
                        side=side,  # type: ignore[arg-type]
                        zone=zone,  # type: ignore[arg-type]
                        severity=severity,  # type: ignore[arg-type]
                        negated=negated,
                        uncertain=uncertain,
                        root=root,
                        root_inferred=inferred and root is not None,
                        migration=migration_dir,  # type: ignore[arg-type]
                        modic_type=modic_type,
                        grade=grade if fid == "spondylolisthesis" else None,
                        direction=direction,  # type: ignore[arg-type]
                        size_mm=size_mm,
                        percent=percent,
                        section=section,
                        span=(cstart, cend),
                        text=text[cstart:cend],
                    )
                )
    _update_carry(state, level_groups)


def _update_carry(state: _State, level_groups: list[LevelGroup]) -> None:
    concrete = [g for g in level_groups if g.role != "multi"]
    discs = [g for g in concrete if g.discs]
    if discs:
        state.carry = discs[-1]
    elif concrete:
        state.carry = concrete[-1]


def _gstart(g: _Group, items: list[_Item], default: int) -> int:
    starts = [items[a].i0 for a in g.anchors]
    return min(starts) if starts else default


def _fill(m: _Mention, g: _Group) -> None:
    m.sevs.extend(g.sevs)
    m.sides.extend(g.sides)
    m.zones.extend(g.zones)
    m.nums.extend(g.nums)
    if g.rootpos and not m.rootpos:
        m.rootpos = g.rootpos
    if g.qty and not m.sevs:
        m.sevs.append(g.qty)


def _split_side_groups(groups: list[_Group]) -> list[_Group]:
    """Coordinated sides ("severe right and moderate left") become one group per side."""
    with_side = [g for g in groups if g.sides]
    if len(with_side) < 2:
        merged = _Group()
        for g in groups:
            merged.sevs.extend(g.sevs)
            merged.sides.extend(g.sides)
            merged.zones.extend(g.zones)
            merged.nums.extend(g.nums)
            merged.lvls.extend(g.lvls)
            merged.anchors.extend(g.anchors)
            merged.rootpos = merged.rootpos or g.rootpos
            merged.qty = merged.qty or g.qty
        return [merged]
    out: list[_Group] = []
    pending: list[_Group] = []
    for g in groups:
        pending.append(g)
        if g.sides:
            merged = _Group()
            for p in pending:
                merged.sevs.extend(p.sevs)
                merged.sides.extend(p.sides)
                merged.zones.extend(p.zones)
                merged.nums.extend(p.nums)
            out.append(merged)
            pending = []
    if pending and out:
        for p in pending:
            out[-1].sevs.extend(p.sevs)
            out[-1].zones.extend(p.zones)
    # shared severity: "severe right and left" -> both severe
    shared = [s for g in out for s in g.sevs]
    for g in out:
        if not g.sevs and shared:
            g.sevs = [shared[0]]
    return out


def _make_compound(
    vocab: _Vocab,
    items: list[_Item],
    words: list[str],
    idx: int,
    heads: frozenset[str],
    groups: list[_Group],
    mentions: list[_Mention],
    pre: _Group | None,
    root_groups: dict[int, LevelGroup] | None = None,
) -> bool:
    made = False
    head = items[idx]
    seen: set[tuple[str, int, int]] = set()
    for g in groups:
        anchors = list(g.anchors)
        # "compressing the exiting L3": a root named without the word "root"
        if (
            not anchors
            and g.lvls
            and root_groups is not None
            and any(i in root_groups for i in g.lvls)
            and heads & {"effect", "contact"}
        ):
            anchors = [-1]
        for a in anchors:
            if a >= 0:
                anchor_item = items[a]
                names = anchor_item.roles["anchor"]  # type: ignore[index]
                excluded = vocab.exclusions.get(anchor_item.word)
                if excluded and head.word in excluded:
                    continue
            else:
                anchor_item = None
                names = frozenset({"root"})
            for name in sorted(names):
                for h in sorted(heads):
                    spec = vocab.compounds.get((name, h))
                    if spec is None:
                        continue
                    finding, polarity, default_sev = spec
                    key = (finding, a, id(g))
                    if key in seen:
                        continue
                    seen.add(key)
                    a_i0 = anchor_item.i0 if anchor_item else head.i0
                    a_i1 = anchor_item.i1 if anchor_item else head.i1
                    i0 = min(a_i0, head.i0)
                    i1 = max(a_i1, head.i1)
                    m = _Mention(finding, i0, i1, head.i0)
                    m.polarity = polarity
                    m.default_sev = default_sev
                    m.head_word = head.word
                    m.item_index = idx
                    _fill(m, g)
                    if pre is not None:
                        if not m.sevs:
                            m.sevs.extend(pre.sevs)
                        if not m.sevs and pre.qty:
                            m.sevs.append(pre.qty)
                        m.nums.extend(pre.nums)
                        if not m.sides:
                            m.sides.extend(pre.sides)
                    if finding == "nerve_root_compression":
                        m.roots = _roots_of(g, root_groups or {}, items, words)
                    mentions.append(m)
                    made = True
                    break
    return made


def _roots_of(
    g: _Group, root_groups: dict[int, LevelGroup], items: list[_Item], words: list[str]
) -> list[str]:
    roots: list[str] = []
    for i in g.lvls:
        rg = root_groups.get(i)
        if rg is not None:
            for b in rg.bodies:
                if b not in roots and b[0] in "LS":
                    roots.append(b)
        else:
            # second member of a root run ("L5 and S1 nerve roots")
            for rg2 in root_groups.values():
                if rg2.start <= i < rg2.end:
                    for b in rg2.bodies:
                        if b not in roots and b[0] in "LS":
                            roots.append(b)
    return roots


def _resolve_side(sides: list[str], zone: str | None) -> str | None:
    if sides:
        uniq = set(sides)
        if "bilateral" in uniq or ("left" in uniq and "right" in uniq):
            return "bilateral"
        return sides[0]
    if zone == "central":
        return "central"
    return None


def _nearest_disc_side(mentions: list[_Mention], m: _Mention, vocab: _Vocab) -> str | None:
    best = None
    for other in mentions:
        if other is m or other.finding not in _DISC_FINDINGS:
            continue
        s = _resolve_side(other.sides, None)
        if s and s != "central" and (best is None or abs(other.i0 - m.i0) < best[0]):
            best = (abs(other.i0 - m.i0), s)
    return best[1] if best else None


def _zone_rootpos(
    m: _Mention, mentions: list[_Mention], sentence_zones: list[tuple[int, str]]
) -> str | None:
    zones = list(m.zones)
    if not zones:
        for other in mentions:
            if other.finding in _DISC_FINDINGS and other.zones:
                zones = other.zones
                break
    if not zones:
        zones = [z for _, z in sentence_zones]
    for z in zones:
        if z in ("foraminal", "extraforaminal"):
            return "exiting"
        if z in ("paracentral", "subarticular", "central"):
            return "traversing"
    return None


def _infer_root(level: str | None, pos: str) -> str | None:
    if not level or "-" not in level:
        return None
    upper, lower = level.split("-")
    root = lower if pos == "traversing" else upper
    return root if root in ("L1", "L2", "L3", "L4", "L5", "S1") else None


def _levels_for(
    m: _Mention, props: dict[str, Any], groups: list[LevelGroup], state: _State
) -> list[str | None]:
    kind = props["kind"]
    # "the fragment migrates to the level of the L5 pedicles": a landmark, not the level
    if (
        kind in ("disc", "listhesis")
        and groups
        and all(g.role == "body" for g in groups)
        and (state.heading is not None or (state.carry is not None and props["inherit"]))
    ):
        groups = []
    if groups:
        best: tuple[float, LevelGroup] | None = None
        for g in groups:
            if g.end <= m.i0:
                dist = m.i0 - g.end
            elif g.start >= m.i1:
                dist = g.start - m.i1 + 0.5
            else:
                dist = 0
            if kind == "body" and g.discs and g.role != "body" and len(g.bodies) > 1:
                dist += 20  # a disc level is a weak home for a fracture or lesion
            if kind in ("disc", "listhesis") and g.role == "body" and any(h.discs for h in groups):
                dist += 50  # "posterior to the L4 body, originating from the L3-4 disc"
            if best is None or dist < best[0]:
                best = (dist, g)
        assert best is not None
        return best[1].levels_for(kind)
    if state.heading is not None and (state.heading_strong or props["inherit"]):
        return state.heading.levels_for(kind)
    if state.carry is not None and props["inherit"]:
        return state.carry.levels_for(kind)
    return [None]


def _clauses(words: list[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = [(0, 0)] * len(words)
    start = 0
    for i, w in enumerate(words):
        if w in (",", ";", ":") or i == len(words) - 1:
            end = i + 1
            for j in range(start, end):
                out[j] = (start, end)
            start = end
    return out


def _find_grade(items: list[_Item], words: list[str], m: _Mention) -> int | None:
    lo, hi = max(0, m.i0 - 4), min(len(words), m.i1 + 4)
    for i in range(lo, hi - 1):
        if words[i] == "grade":
            w = words[i + 1]
            if w.isdigit():
                return int(w)
            if w in _ROMAN:
                return _ROMAN[w]
    return None


def _find_percent(items: list[_Item], words: list[str]) -> float | None:
    for i, w in enumerate(words[:-1]):
        if w[0].isdigit() and words[i + 1] in ("%", "percent"):
            window = words[max(0, i - 5) : i + 6]
            if any(x in ("height", "loss", "collapse", "compression", "wedging") for x in window):
                try:
                    return float(w)
                except ValueError:
                    return None
    return None


def _modic_type(items: list[_Item], words: list[str], m: _Mention) -> int | None:
    lo, hi = max(0, m.i0 - 4), min(len(words), m.i1 + 4)
    for i in range(lo, hi - 1):
        w = words[i]
        if w in ("type", "modic"):
            nxt = words[i + 1]
            if nxt.isdigit() and nxt in ("1", "2", "3"):
                return int(nxt)
            if nxt in ("i", "ii", "iii"):
                return _ROMAN[nxt]
    for i in range(lo, hi):
        if words[i] == "fatty":
            return 2
    return None


def _listhesis_direction(items: list[_Item], m: _Mention) -> str | None:
    for it in items:
        if it.i0 >= m.i0 and it.i1 <= m.i1 and it.roles and "ldir" in it.roles:
            return it.roles["ldir"]
    for it in items:
        if it.roles and "ldir" in it.roles and abs(it.i0 - m.i0) <= 3:
            return it.roles["ldir"]
    return None


# --------------------------------------------------------------------------------------------
# report level


def _merge(findings: list[ImagingFinding]) -> list[ImagingFinding]:
    """One finding per (section, level, side, finding, root); the impression wins."""
    by_key: dict[tuple[Any, ...], ImagingFinding] = {}
    order: list[tuple[Any, ...]] = []
    for f in findings:
        key = (f.section, f.level, f.side, f.finding, f.root)
        old = by_key.get(key)
        if old is None:
            by_key[key] = f
            order.append(key)
            continue
        by_key[key] = _prefer(old, f)
    merged = [by_key[k] for k in order]
    impression = {
        (f.level, f.side, f.finding, f.root): f for f in merged if f.section == "impression"
    }
    impression_keys = set(impression)
    for f in merged:
        imp = impression.get((f.level, f.side, f.finding, f.root))
        if (
            imp is not None
            and f.section != "impression"
            and imp.severity == "unspecified"
            and f.severity not in ("unspecified", "none")
            and not imp.negated
        ):
            # the impression repeats the finding without a grade: no conflict, keep the grade
            imp.severity = f.severity
    out = [
        f
        for f in merged
        if f.section == "impression" or (f.level, f.side, f.finding, f.root) not in impression_keys
    ]
    # a nerve root named in one mention and inferred in another is the same finding
    named = {(f.section, f.level, f.side, f.root) for f in out if f.root and not f.root_inferred}
    out = [
        f for f in out if not (f.root_inferred and (f.section, f.level, f.side, f.root) in named)
    ]
    out.sort(key=lambda f: f.span[0])
    return out


def _prefer(a: ImagingFinding, b: ImagingFinding) -> ImagingFinding:
    if a.negated != b.negated:
        return b if a.negated else a  # a positive statement outweighs a negative one
    ra = SEVERITY_ORDER.get(a.severity, -1)
    rb = SEVERITY_ORDER.get(b.severity, -1)
    if rb > ra:
        return b
    if a.uncertain and not b.uncertain:
        return b
    return a


def parse_imaging_report(text: str) -> ImagingReport:
    """Extract imaging findings (level, side, severity, negation, uncertainty) from a report."""
    if not isinstance(text, str):
        raise InputError("imaging report text must be a string")
    if len(text) > MAX_REPORT_CHARS:
        raise InputTooLargeError(
            f"imaging report is {len(text):,} characters; the limit is {MAX_REPORT_CHARS:,}",
            "split the input into one report per call",
        )
    report = ImagingReport()
    if not text.strip():
        return report
    vocab = load_vocabulary()
    low = _lower(text)
    findings: list[ImagingFinding] = []
    for name, hstart, cstart, end in _sections(text):
        extracted = name in _EXTRACTED_SECTIONS
        report.sections.append(ReportSection(name=name, span=(hstart, end), extracted=extracted))
        if not extracted:
            continue
        state = _State()
        for sent in _sentences(text, low, cstart, end):
            _analyse_sentence(vocab, sent, text, name, state, findings)
    report.findings = _merge(findings)
    return report
