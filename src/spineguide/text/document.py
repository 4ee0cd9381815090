"""The document model shared by the text readers: sections, sentences, tokens with offsets.

`split_sections` finds report headings (FINDINGS, IMPRESSION, HISTORY, ... and inline headings
such as "MRI lumbar spine: ..." whose text continues on the same line); `split_sentences`
tokenises a section into sentences of lower-case words with character offsets (level tokens such
as "l4-5" stay one word; a hyphen between letters joins, "broad-based" -> "broad", "based").
"""

from __future__ import annotations

import re

from spineguide.text.levels import LEVEL_TOKEN_PATTERN

_ONE_TOKEN_ALTERNATIVES = (
    r"(?P<lvl>(?<![a-z0-9])" + LEVEL_TOKEN_PATTERN + r")"
    r"|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)?)"
    r"|(?P<nl>\n)"
    r"|(?P<p>[^\s\w]|_)"
)
ONE_TOKEN_PER_MATCH = re.compile(_ONE_TOKEN_ALTERNATIVES)
"""The tokeniser read one token per match (the reference TOKEN_RE must agree with)."""
TOKEN_RE = re.compile(
    # a run of plain words joined by single spaces, read in one match (split in C); the run
    # ends where the word alternative below would end its last word, and never before a digit
    # (so "at l4" leaves "l4" to the level alternative): same tokens as reading word by word.
    # A period right after a run or a word is read in the same match (group "dot"): the
    # next match would be that period alone.
    r"(?P<run>[a-z]++(?: [a-z]++)+(?![a-z0-9']))(?P<rundot>\.)?"
    # (the level alternative reads its first letter before looking behind it: fewer checks
    # at the positions where no level starts, same matches)
    r"|(?P<lvl>[tls](?<![a-z0-9][tls])" + LEVEL_TOKEN_PATTERN.removeprefix("[tls]") + r")"
    r"|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)?)(?P<worddot>\.)?"
    r"|(?P<nl>\n)"
    r"|(?P<p>[^\s\w]|_)"
)
HEADING_RE = re.compile(
    r"^[ \t]*(?:[-*•#][ \t]*)?([A-Za-z][A-Za-z /&()]{1,40}?)[ \t]*(?::|$)", re.MULTILINE
)
# the same heading read at one line start (split_sections tries each line start in turn,
# which finds the same matches as HEADING_RE.finditer without scanning every character)
_HEADING_AT_LINE_START = re.compile(HEADING_RE.pattern[1:], re.MULTILINE)

SECTION_NAMES: dict[str, str] = {}
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
        SECTION_NAMES[_n] = _section
SECTION_PHRASES = {
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
# An examination title used as a heading ("MRI lumbar spine:", "CT L spine:", "Lumbar MRI:")
EXAM_TITLE_RE = re.compile(
    r"(?:(?:mri|mr|ct|xr|radiographs?|plain films?|imaging)\b.*\b(?:spine|lumbar|lumbosacral)\b"
    r"|(?:lumbar|lumbosacral|l)\s?spine\b.*\b(?:mri|mr|ct|xr|radiographs?)\b"
    r"|(?:lumbar|lumbosacral)\s+(?:mri|mr|ct))"
)
EXTRACTED_SECTIONS = frozenset({"findings", "impression"})
SENTENCE_END = frozenset({".", "!", "?"})
MAX_SENTENCE_WORDS = 160
ABBREVIATIONS = frozenset({"approx", "vs", "e", "g", "i", "dr", "fig", "mr", "ca", "cf", "etc"})


def lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def split_sections(text: str) -> list[tuple[str, int, int, int]]:
    """Split into (name, heading_start, content_start, end) sections."""
    marks: list[tuple[str, int, int]] = []
    heading_at = _HEADING_AT_LINE_START.match
    line_starts = [0]
    nl = text.find("\n")
    while nl >= 0:
        line_starts.append(nl + 1)
        nl = text.find("\n", nl + 1)
    for line_start in line_starts:
        m = heading_at(text, line_start)
        if m is None:
            continue
        raw = m.group(1).strip().lower()
        parts = raw.split()
        raw = " ".join(parts)  # runs of white space -> one space
        name = SECTION_PHRASES.get(raw) or SECTION_NAMES.get(raw)
        if name is None and len(parts) <= 6 and EXAM_TITLE_RE.match(raw):
            name = "header"
        if name is None:
            first = parts[0] if parts else ""
            if raw.endswith(")") or first not in SECTION_NAMES or len(parts) > 3:
                continue
            name = SECTION_NAMES[first]
        line_end = text.find("\n", m.start())
        line_end = len(text) if line_end < 0 else line_end
        # a heading without a colon must be alone on its line and look like a heading
        if not m.group(0).rstrip().endswith(":") and (
            text[m.end() : line_end].strip() or not m.group(1).strip().isupper()
        ):
            continue
        if name == "header" and text[m.end() : line_end].strip():
            name = "findings"  # "MRI lumbar spine: small bulges ...": the title opens the findings
        marks.append((name, m.start(), m.end()))
    out: list[tuple[str, int, int, int]] = []
    if not marks or marks[0][1] > 0:
        out.append(("findings", 0, 0, marks[0][1] if marks else len(text)))
    for i, (name, start, content) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        out.append((name, start, content, end))
    return out


class Sentence:
    """One sentence: lower-case words, their character offsets and line/paragraph flags."""

    __slots__ = ("ends", "levels", "line_start", "new_line", "para_break", "starts", "words")

    def __init__(self) -> None:
        """Start an empty sentence."""
        self.words: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.levels: list[int] = []  # indices of level-looking words ("l4-5", "l5", "s1")
        self.line_start = False
        self.para_break = False
        self.new_line = False


ELISIONS = ("[...]", "[…]")
_STRAY_OPENERS = frozenset({".", ")", "-", "*", "•"})  # enumerator punctuation left at a start
_PLAIN_WORD_RE = re.compile(r"[a-z]+")


def _close(cur: Sentence, out: list[Sentence], stop: str = "", at: int = 0) -> Sentence:
    """End the sentence (with its stop mark at `at`, when given) and start the next one."""
    if stop:
        cur.words.append(stop)
        cur.starts.append(at)
        cur.ends.append(at + len(stop))
    out.append(cur)
    return Sentence()


def _new_line(cur: Sentence, out: list[Sentence], para: bool) -> Sentence:
    """Close the sentence (when it has words) and mark the next one as opening a line."""
    if cur.words:
        out.append(cur)
        cur = Sentence()
    cur.line_start = True
    cur.new_line = True
    if para:
        cur.para_break = True
    return cur


def split_sentences(text: str, low: str, start: int, end: int) -> list[Sentence]:
    """Tokenise text[start:end] and split it into sentences (line breaks mid-sentence join)."""
    out: list[Sentence] = []
    cur = Sentence()
    cur.line_start = True
    cur.new_line = True
    words, starts, ends = cur.words, cur.starts, cur.ends
    pending_para = False
    skip_until = -1
    n_low = len(low)
    for m in TOKEN_RE.finditer(low, start, end):
        kind = m.lastgroup
        s, e = m.span()
        if s < skip_until:
            continue
        if kind == "run" or kind == "rundot":
            if kind == "rundot":
                e -= 1  # the words; the period after them is read below
            if len(words) + e - s < MAX_SENTENCE_WORDS:
                # plain words only, and the sentence cannot reach its word limit inside the run
                parts = low[s:e].split(" ")
                words.extend(parts)
                for part in parts:  # one space between words (a plain loop: runs are short)
                    starts.append(s)
                    s += len(part)
                    ends.append(s)
                    s += 1
            else:  # the rare long run: word by word, for the word limit
                for part in _PLAIN_WORD_RE.finditer(low, s, e):
                    words.append(part.group())
                    starts.append(part.start())
                    ends.append(part.end())
                    if len(words) >= MAX_SENTENCE_WORDS:
                        cur = _close(cur, out)
                        words, starts, ends = cur.words, cur.starts, cur.ends
            if kind == "run":
                continue
            # the period: a sentence end (as in the punctuation branch below)
            if words and words[-1] not in ABBREVIATIONS:
                cur = _close(cur, out, ".", e)
                words, starts, ends = cur.words, cur.starts, cur.ends
            continue
        if kind == "word" or kind == "lvl":
            # the common case: a word or level token joins the sentence
            if kind == "lvl":
                cur.levels.append(len(words))
            words.append(m.group())
            starts.append(s)
            ends.append(e)
            if len(words) >= MAX_SENTENCE_WORDS:
                # no real sentence is this long; cutting keeps per-sentence work bounded
                cur = _close(cur, out)
                words, starts, ends = cur.words, cur.starts, cur.ends
            continue
        if kind == "worddot":  # a word and the period after it
            e -= 1
            words.append(low[s:e])
            starts.append(s)
            ends.append(e)
            if len(words) >= MAX_SENTENCE_WORDS:
                cur = _close(cur, out)
                words, starts, ends = cur.words, cur.starts, cur.ends
            if words and words[-1] not in ABBREVIATIONS:  # the period: a sentence end
                cur = _close(cur, out, ".", e)
                words, starts, ends = cur.words, cur.starts, cur.ends
            continue
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
                cur = _new_line(cur, out, pending_para)
                words, starts, ends = cur.words, cur.starts, cur.ends
            continue
        w = m.group()
        if kind == "p":
            if w == "[" and low.startswith(ELISIONS, s):
                # "[...]": text was left out here; nothing carries across the gap
                skip_until = s + (5 if low.startswith("[...]", s) else 3)
                cur = _new_line(cur, out, True)
                words, starts, ends = cur.words, cur.starts, cur.ends
                continue
            if w in "-/–—" and s > 0 and e < n_low and low[s - 1].isalnum() and low[e].isalnum():
                continue  # "broad-based", "mild-to-moderate", "and/or": a joiner, not a word
            if w in SENTENCE_END:
                if words and words[-1] in ABBREVIATIONS:
                    continue
                if words:
                    cur = _close(cur, out, w, s)
                    words, starts, ends = cur.words, cur.starts, cur.ends
                continue
            if not words and w in "-*•#)":
                continue  # bullet
        elif not words:  # a number opening a sentence
            # enumerator "1." / "2)" at the start of a sentence
            nxt = e
            if nxt < end and low[nxt] in ".)" and (nxt + 1 >= end or not low[nxt + 1].isdigit()):
                continue
        words.append(w)
        starts.append(s)
        ends.append(e)
        if len(words) >= MAX_SENTENCE_WORDS:
            cur = _close(cur, out)
            words, starts, ends = cur.words, cur.starts, cur.ends
    if words:
        out.append(cur)
    # drop stray enumerator punctuation left at sentence starts
    for sent in out:
        if not sent.words or sent.words[0] not in _STRAY_OPENERS:
            continue  # the common case: a sentence opening with a word
        dropped = 0
        while sent.words and sent.words[0] in _STRAY_OPENERS:
            del sent.words[0], sent.starts[0], sent.ends[0]
            dropped += 1
        if dropped and sent.levels:
            sent.levels = [i - dropped for i in sent.levels]
    return [s for s in out if s.words]
