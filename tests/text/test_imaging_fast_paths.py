"""The imaging reader's fast paths give exactly what the plain readings give.

Each speed mechanism (word runs in the tokeniser, two-word phrase indexes, candidate lists
handed from one pipe to the next, headings tried at line starts, the per-word spelling set) is
checked against the straightforward reading it replaces, on generated input.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import spineguide.text.document as document
from spineguide.text.context import ContextEngine, CueMatch
from spineguide.text.document import HEADING_RE, lower_same_length, split_sentences
from spineguide.text.imaging import parse_imaging_report
from spineguide.text.levels import group_level_tokens
from spineguide.text.pipes.levels import level_tokens
from spineguide.text.pipes.mentions import find_mentions
from spineguide.text.pipes.modifiers import SentenceModifiers
from spineguide.text.pipes.vocab import ROMAN, Item, load_vocabulary, tag

VOCAB = load_vocabulary()
PHRASE_WORDS = sorted({w for phrase in VOCAB.joined for w in phrase})
OTHER_WORDS = ["the", "at", "and", "with", "of", "on", "l4-5", "l5-s1", "l3", "s1", "12", "3.5"]
OTHER_WORDS += ["type", "grade", "ii", "iii", ",", ".", ":", "(", ")", "is", "are", "mm", "%"]
SENTENCE_WORDS = st.lists(st.sampled_from(PHRASE_WORDS + OTHER_WORDS), min_size=0, max_size=40)

TEXT_PIECES = [
    "mild",
    "disc",
    "bulge",
    "at",
    "l4-5",
    "L5/S1",
    "l45",
    "t12",
    "3",
    "4.5",
    "mm",
    "bulge's",
    "broad-based",
    "and/or",
    "[...]",
    "[…]",
    "1.",
    "2)",
    "-",
    "*",
    "•",
    ",",
    ".",
    ";",
    ":",
    "vs.",
    "approx.",
    "e.g.",
    "bulge.",
    "é",
    "İ",
    "\n",
    "\n\n",
    "  ",
    "\t",
    "FINDINGS:",
    "Impression:",
    "L4-5:",
    "No",
    "stenosis",
]
TEXTS = st.lists(st.sampled_from(TEXT_PIECES), max_size=60).map(
    lambda parts: "".join(p + (" " if i % 3 else "") for i, p in enumerate(parts))
)


def reference_tag(words: list[str], levels: dict) -> list[tuple[int, int, object, str]]:
    """The longest vocabulary phrase at each position, trying every phrase of the first word."""
    out = []
    i, n = 0, len(words)
    while i < n:
        w = words[i]
        if i in levels:
            out.append((i, i + 1, {"lvl": True}, w))
            i += 1
            continue
        entries = VOCAB.index.get(w)
        if entries:
            for phrase, roles in entries:  # longest first
                if tuple(words[i : i + len(phrase)]) == phrase:
                    out.append((i, i + len(phrase), roles, " ".join(phrase)))
                    i += len(phrase)
                    break
            else:
                out.append((i, i + 1, None, w))
                i += 1
            continue
        if w[0].isdigit():
            out.append((i, i + 1, {"num": float(w)}, w))
        elif w in ROMAN and i > 0 and words[i - 1] in ("type", "grade"):
            out.append((i, i + 1, {"num": float(ROMAN[w])}, w))
        else:
            out.append((i, i + 1, None, w))
        i += 1
    return out


def as_tuples(items: list[Item]) -> list[tuple[int, int, object, str]]:
    return [(it.i0, it.i1, it.roles, it.word) for it in items]


@settings(max_examples=300, deadline=None)
@given(SENTENCE_WORDS)
def test_tag_takes_the_longest_phrase_like_the_plain_reading(words: list[str]) -> None:
    levels = level_tokens(words)
    assert as_tuples(tag(VOCAB, words, levels)) == reference_tag(words, levels)


def test_tag_reads_two_and_three_word_phrases() -> None:
    words = ["no", "significant", "spinal", "canal", "stenosis"]
    joined = [it.word for it in tag(VOCAB, words, {})]
    assert len(joined) < len(words)  # some phrase joined its words
    assert " ".join(joined) == " ".join(words)


CUE_WORDS = ["no", "not", "without", "free", "of", "evidence", "change", "possible", "history"]
CUE_WORDS += ["if", "but", "which", "are", "unremarkable", "canal", "stenosis", ",", ".", "or"]


def reference_match(engine: ContextEngine, words: list[str]) -> list[CueMatch]:
    """Cues by trying every cue of each word's index entry, longest first."""
    out, i = [], 0
    index = engine.rules._index
    while i < len(words):
        for phrase, category, direction, scope in index.get(words[i], ()):
            k = len(phrase)
            if tuple(words[i : i + k]) == phrase:
                out.append(CueMatch(i, i + k, category, direction, " ".join(phrase), scope))
                i += k
                break
        else:
            i += 1
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CUE_WORDS), max_size=30))
def test_cue_match_equals_the_plain_longest_first_reading(words: list[str]) -> None:
    engine = ContextEngine.for_language("en")
    assert engine.rules.match(words) == reference_match(engine, words)


ONE_TOKEN_PER_MATCH = document.ONE_TOKEN_PER_MATCH
assert "(?P<run>" not in ONE_TOKEN_PER_MATCH.pattern
assert "dot>" not in ONE_TOKEN_PER_MATCH.pattern


def sentences_of(text: str) -> list[tuple]:
    low = lower_same_length(text)
    return [
        (s.words, s.starts, s.ends, s.levels, s.line_start, s.new_line, s.para_break)
        for s in split_sentences(text, low, 0, len(text))
    ]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_word_runs_give_the_tokens_of_the_word_by_word_reading(text: str) -> None:
    fast = sentences_of(text)
    # the same tokeniser without the run alternative reads one token per match
    with_runs = document.TOKEN_RE
    document.TOKEN_RE = ONE_TOKEN_PER_MATCH
    try:
        slow = sentences_of(text)
    finally:
        document.TOKEN_RE = with_runs
    assert fast == slow
    low = lower_same_length(text)
    for words, starts, ends, *_ in fast:
        assert words == [low[s:e] for s, e in zip(starts, ends, strict=True)]


def test_a_period_read_with_its_word_ends_the_sentence_unless_an_abbreviation() -> None:
    text = "Mild bulge at L4-5. Stenosis. No change vs. prior, e.g. at L5-S1."
    first, second, third = split_sentences(text, lower_same_length(text), 0, len(text))
    assert first.words == ["mild", "bulge", "at", "l4-5", "."]
    assert second.words == ["stenosis", "."]
    period = text.index("Stenosis.") + len("Stenosis")
    assert (second.starts[-1], second.ends[-1]) == (period, period + 1)
    assert third.words[:4] == ["no", "change", "vs", "prior"]
    assert third.words[-2:] == ["l5-s1", "."]


def test_a_run_stops_before_a_level_and_an_apostrophe() -> None:
    (sent,) = split_sentences(
        *(lambda t: (t, t, 0, len(t)))("mild bulge at l4 and the disc's edge")
    )
    assert sent.words == ["mild", "bulge", "at", "l4", "and", "the", "disc's", "edge"]
    assert sent.levels == [3]


def test_a_very_long_run_is_cut_at_the_word_limit() -> None:
    text = " ".join(["disc"] * 400)
    sents = split_sentences(text, text, 0, len(text))
    assert [len(s.words) for s in sents] == [160, 160, 80]
    assert sents[1].starts[0] == 160 * 5


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_headings_at_line_starts_are_the_multiline_matches(text: str) -> None:
    expected = [m.span() for m in HEADING_RE.finditer(text)]
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    found = [m.span() for p in starts if (m := document._HEADING_AT_LINE_START.match(text, p))]
    assert found == expected


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_level_candidates_from_the_tokeniser_find_every_level(text: str) -> None:
    low = lower_same_length(text)
    for sent in split_sentences(text, low, 0, len(text)):
        assert level_tokens(sent.words, sent.levels) == level_tokens(sent.words)


@settings(max_examples=200, deadline=None)
@given(SENTENCE_WORDS)
def test_candidate_lists_change_nothing_downstream(words: list[str]) -> None:
    levels = level_tokens(words)
    items = tag(VOCAB, words, levels)
    openers = [
        i
        for i, it in enumerate(items)
        if it.roles and {"find", "weakfind", "head"} & it.roles.keys()
    ]
    modifiers = [
        i for i, it in enumerate(items) if it.roles and {"sev", "mig", "zone"} & it.roles.keys()
    ]

    def summary(ms: list) -> list[tuple]:
        return [(m.finding, m.i0, m.i1, m.sides, m.sevs, m.zones, m.roots) for m in ms]

    roots: dict = {}
    assert summary(find_mentions(VOCAB, items, words, 0, roots, openers)) == summary(
        find_mentions(VOCAB, items, words, 0, roots)
    )
    full, listed = SentenceModifiers(items), SentenceModifiers(items, modifiers)
    assert (full.adverb_sev, full.migration, full.zones) == (
        listed.adverb_sev,
        listed.migration,
        listed.zones,
    )


def test_cached_level_runs_hand_out_fresh_lists() -> None:
    words = ["l3-4", "and", "l4-5"]
    first = group_level_tokens(words, level_tokens(words))
    second = group_level_tokens(words, level_tokens(words))
    assert first[0].discs == ["L3-L4", "L4-L5"] == second[0].discs
    assert first[0].discs is not second[0].discs
    first[0].discs.append("L5-S1")  # a caller changing its run leaves the next one alone
    assert group_level_tokens(words, level_tokens(words))[0].discs == ["L3-L4", "L4-L5"]


def test_known_words_pass_through_and_slips_are_still_corrected() -> None:
    words = ["mild", "disc", "bulge", "with", "moderate", "foraminal", "narrowing"]
    VOCAB.correct_words(words)  # learns that these words need nothing
    same, fixed = VOCAB.correct_words(words)
    assert same is words and not fixed
    corrected, fixed = VOCAB.correct_words(["moderate", "foramenal", "narrowing"])
    assert corrected[1] == "foraminal" and fixed == {1}
    again, _ = VOCAB.correct_words(["moderate", "foramenal", "narrowing"])
    assert again[1] == "foraminal"  # a slip is never remembered as a sound word


def test_report_read_twice_gives_the_same_findings() -> None:
    text = (
        "FINDINGS:\nL4-5: Broad-based disc bulge with mild bilateral foraminal narrowing.\n"
        "L5-S1: Right paracentral protrusion contacting the traversing right S1 root.\n"
        "IMPRESSION: No canal stenosis."
    )
    first = parse_imaging_report(text).model_dump()
    assert parse_imaging_report(text).model_dump() == first
    assert any(f["finding"] == "nerve_root_compression" for f in first["findings"])


def test_findings_built_from_a_dict_equal_the_trusted_constructor() -> None:
    from spineguide.text.imaging import _finding
    from spineguide.text.models import ImagingFinding, trusted_finding

    values = {
        "finding": "disc_protrusion",
        "level": "L5-S1",
        "side": "right",
        "zone": "paracentral",
        "severity": "moderate",
        "negated": False,
        "uncertain": True,
        "historical": False,
        "root": None,
        "root_inferred": False,
        "migration": "caudal",
        "modic_type": None,
        "grade": None,
        "direction": None,
        "size_mm": 6.0,
        "percent": None,
        "section": "impression",
        "span": (10, 42),
        "text": "right paracentral protrusion",
        "cue_spans": [(0, 5)],
        "confidence": 0.9,
        "canal_compromise": None,
    }
    assert set(values) == set(ImagingFinding.model_fields)  # every field, as the reader passes
    fast = _finding(dict(values))
    slow = trusted_finding(**values)
    assert fast.model_dump(mode="json") == slow.model_dump(mode="json")
    assert fast.model_fields_set == slow.model_fields_set
    assert fast == slow
    fast.side = "left"  # a finding stays an ordinary, changeable model
    assert fast.side == "left" and slow.side == "right"
    assert ImagingFinding.model_validate(fast.model_dump()).side == "left"


def test_trusted_section_and_empty_report_equal_the_validated_models() -> None:
    from spineguide.text.models import ImagingReport, ReportSection, empty_report, trusted_section

    assert trusted_section("impression", (10, 42), True) == ReportSection(
        name="impression", span=(10, 42), extracted=True
    )
    a, b = empty_report(), empty_report()
    assert a == ImagingReport()
    a.findings.append(None)  # type: ignore[arg-type]
    assert b.findings == []  # each report owns its lists
