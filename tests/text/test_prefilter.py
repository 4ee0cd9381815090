"""Literal prefilters: sound (never skip a text a pattern can match) and selective."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineguide.text import clinical
from spineguide.text.prefilter import LiteralIndex, pattern_terms, query_for


def _passes(pattern: str, text: str) -> bool:
    idx = LiteralIndex([pattern])
    return 0 in idx.candidates(text.lower())


@pytest.mark.parametrize(
    ("pattern", "must_contain_one_of"),
    [
        ("foot drop", {"foot drop"}),
        ("(?:blood pressure|bp) (?:of )?[4-8]\\d/\\d+", {"blood pressure ", "bp "}),
        ("(?:3[89]|4[0-2])(?:\\.\\d)? ?c", {"38", "39", "40", "41", "42"}),
        ("(?:can ?not|unable to) pass urine", {" pass urine"}),
    ],
)
def test_query_names_the_literals_every_match_needs(
    pattern: str, must_contain_one_of: set[str]
) -> None:
    query = query_for(pattern)
    assert query is not None
    assert must_contain_one_of <= query.literals()


def test_optional_parts_are_not_required() -> None:
    # "(?:severe )?" may be absent, so only "sciatica" can be required
    query = query_for("(?:severe )?sciatica")
    assert query is not None and query.literals() == {"sciatica"}
    assert _passes("(?:severe )?sciatica", "Sciatica down the left leg")


def test_pattern_without_any_required_literal_is_always_a_candidate() -> None:
    assert query_for("\\d+/\\d+") is None
    assert _passes("\\d+/\\d+", "nothing to see")


def test_index_skips_only_texts_lacking_the_literals() -> None:
    patterns = ["saddle (?:numbness|anaesthesia)", "urinary retention", "foot drop"]
    idx = LiteralIndex(patterns)
    assert idx.candidates("new saddle numbness since this morning") == {0}
    assert idx.candidates("urinary retention and foot drop") == {1, 2}
    assert idx.candidates("mechanical back pain only") == set()


def test_fallback_literals_used_where_parsing_finds_none() -> None:
    # hand-written literals (the vocabulary's `prefilter:`) stand in when parsing finds none
    idx = LiteralIndex(["\\w+\\d"], fallback=[("mg",)])
    assert idx.candidates("paracetamol 500mg qds") == {0}
    assert idx.candidates("no regular medicines") == set()


def test_terms_are_cached_and_identical(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(tmp_path))
    patterns = ["left (?:leg|thigh) pain", "foot drop"]
    first = pattern_terms(patterns)
    assert list(tmp_path.glob("prefilter-*.json"))
    assert pattern_terms(patterns) == first
    # a torn cache file is rebuilt, not trusted
    for f in tmp_path.glob("prefilter-*.json"):
        f.write_text("[[", encoding="utf-8")
    assert pattern_terms(patterns) == first


_WORDS = st.sampled_from(
    [
        "crp",
        "152",
        "wcc",
        "14.2",
        "ankle",
        "jerk",
        "absent",
        "slr",
        "positive",
        "quads",
        "3/5",
        "no",
        "saddle",
        "numbness",
        "bladder",
        "retention",
        "urine",
        "pass",
        "unable",
        "to",
        "weak",
        "foot",
        "drop",
        "left",
        "right",
        "bp",
        "blood",
        "pressure",
        "38.5",
        "c",
        "fever",
        "febrile",
        "back",
        "pain",
        "sciatica",
        "night",
        "wakes",
        "cancer",
        "breast",
        "history",
        "of",
        "fall",
        "from",
        "ladder",
        "4/5",
        "power",
        "knee",
        "hip",
        "since",
        "weeks",
        "ago",
        ",",
        ".",
        ";",
        ":",
        "-",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=25))
def test_note_vocabulary_prefilter_never_hides_a_match(words: list[str]) -> None:
    vocab = clinical._vocab()
    text = " ".join(words)
    candidates = vocab.candidates(text.lower())
    for family, patterns in _families(vocab).items():
        for i, regex in enumerate(patterns):
            if i not in candidates[family]:
                assert regex.search(text) is None, (family, i)


def _families(vocab: clinical._Vocab) -> dict[str, list[re.Pattern[str]]]:
    """Every indexed scan of the note reader, family by family, in index order."""
    return {
        "phrases": [p.regex for p in vocab.phrases],
        "regions": [r.regex for r in vocab.regions],
        "muscles": [rx for _, rx in vocab.muscles],
        "tension": [rx for _, rx in vocab.tension],
        "reflexes": [rx for _, rx in vocab.reflex_names],
        "labs": list(clinical._LAB_SCANS),
        "lexicon": [rx for rx, _ in vocab.lexicon],
        "family_spa": [clinical._FAMILY_SPA],
        "durations": list(clinical._DURATION_SCANS),
        "ages": list(clinical._AGE_PATTERNS),
        "symptoms": [vocab.pain, vocab.sens, vocab.tingle, vocab.weakword],
        "reflex_words": [vocab.reflex_reduced, vocab.reflex_normal],
        "numeric": [n.regex for n in vocab.numeric],
        "power_normal": [clinical._POWER_NORMAL],
    }


def test_note_vocabulary_prefilter_on_realistic_notes() -> None:
    notes = [
        "58M on apixaban, fell from a ladder yesterday; now cannot pass urine, BP 85/50, T 38.6C.",
        "Known breast cancer. Night pain that wakes her, weight down 6 kg. Saddle numbness denied.",
        "Bilateral leg weakness, both legs giving way, perianal sensation reduced, anal tone lax.",
    ]
    vocab = clinical._vocab()
    for text in notes:
        candidates = vocab.candidates(text.lower())
        for family, patterns in _families(vocab).items():
            matched = {i for i, rx in enumerate(patterns) if rx.search(text)}
            assert matched <= candidates[family], family
        assert len(candidates["phrases"]) < len(vocab.phrases) // 3  # selective, not "scan all"


def test_literal_finder_gives_every_start_including_overlaps(monkeypatch) -> None:
    from spineguide.text import prefilter

    text = "no nonsense: not now, nono"
    expected = sorted({i for i in range(len(text)) if text.startswith(("no", "non"), i)})
    assert prefilter.LiteralFinder(["no", "non"]).starts(text) == expected
    monkeypatch.setattr(prefilter, "_automaton", lambda literals: None)  # library missing
    assert prefilter.LiteralFinder(["no", "non"]).starts(text) == expected
    idx = prefilter.LiteralIndex(["saddle numbness", "foot drop"])
    assert idx.candidates("new foot drop") == {1}


def _live_patterns(vocab: clinical._Vocab, text: str) -> dict[int, list[int]]:
    """Phrase number → the numbers of its patterns that the literal pass leaves live."""
    live: dict[int, list[int]] = {}
    for k in vocab.candidates(text.lower())["phrase_patterns"]:
        i, j = vocab.alt_owner[k]
        live.setdefault(i, []).append(j)
    return live


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=25))
def test_phrase_scan_with_only_its_live_patterns_matches_the_full_pattern(words: list[str]) -> None:
    """Dropping the patterns that cannot match leaves every match of the alternation unchanged."""
    vocab = clinical._vocab()
    text = " ".join(words)
    live = _live_patterns(vocab, text)
    for i, phrase in enumerate(vocab.phrases):
        full = [m.span() for m in phrase.regex.finditer(text)]
        alts = live.get(i)
        if not alts:
            assert full == [], phrase.finding
            continue
        reduced = clinical._patterns_regex(tuple(phrase.alts[j] for j in sorted(alts)))
        assert [m.span() for m in reduced.finditer(text)] == full, phrase.finding


def test_live_patterns_on_realistic_notes_give_the_same_matches() -> None:
    notes = [
        "Fell from a ladder about 3 metres onto his back; unable to pass urine since.",
        "Had an L4/5 transforaminal epidural 10 days ago, now fever and worse pain.",
        "Numb around the back passage, bladder not emptying properly, bowels not opened.",
    ]
    vocab = clinical._vocab()
    matched_somewhere = 0
    for text in notes:
        live = _live_patterns(vocab, text)
        for i, phrase in enumerate(vocab.phrases):
            full = [m.span() for m in phrase.regex.finditer(text)]
            if full:
                matched_somewhere += 1
                assert i in live, phrase.finding
                sel = tuple(phrase.alts[j] for j in sorted(live[i]))
                assert [m.span() for m in clinical._patterns_regex(sel).finditer(text)] == full
    assert matched_somewhere >= 3


def _clause_bounds(text: str) -> list[tuple[int, int]]:
    """Every stretch between two clause marks (the stretches the note reader reads one by one)."""
    cuts = [0, *(m.end() for m in re.finditer(r"[,;:.()]|\sbut\s", text)), len(text)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=25))
def test_literal_positions_never_hide_a_match_inside_a_stretch(words: list[str]) -> None:
    """A pattern said not to match inside a stretch has no match inside it, as a slice or in place."""
    vocab = clinical._vocab()
    text = " ".join(words)
    hits = vocab.index.hits(text.lower())
    assert hits.candidates == vocab.index.candidates(text.lower())
    for family, patterns in _families(vocab).items():
        base = vocab.bases[family]
        for i, regex in enumerate(patterns):
            for a, b in _clause_bounds(text):
                if not hits.may_match_within(base + i, a, b):
                    assert regex.search(text[a:b]) is None, (family, i, text[a:b])
                    assert regex.search(text, a, b) is None, (family, i, text[a:b])


def test_literal_positions_on_a_realistic_note() -> None:
    text = (
        "Back pain for 3 weeks, numbness of the left foot. Power 5/5 throughout; "
        "ankle jerk absent on the right, SLR positive at 40 degrees on the left."
    )
    vocab = clinical._vocab()
    hits = vocab.index.hits(text.lower())
    pain = vocab.bases["symptoms"]  # the pain words
    first = text.index(",")
    assert hits.may_match_within(pain, 0, first)  # "Back pain for 3 weeks"
    assert not hits.may_match_within(pain, first, text.index("."))  # "numbness of the left foot"
    for family, patterns in _families(vocab).items():
        for i, regex in enumerate(patterns):
            for a, b in _clause_bounds(text):
                if regex.search(text, a, b):
                    assert hits.may_match_within(vocab.bases[family] + i, a, b), (family, i)


def test_literal_positions_without_the_automaton(monkeypatch) -> None:
    from spineguide.text import prefilter

    patterns = ["saddle (?:numbness|anaesthesia)", "foot drop", "\\d{2}"]
    text = "new foot drop. saddle numbness; foot drop again"
    with_automaton = prefilter.LiteralIndex(patterns).hits(text)
    monkeypatch.setattr(prefilter, "_automaton", lambda literals: None)  # library missing
    without = prefilter.LiteralIndex(patterns).hits(text)
    assert with_automaton.candidates == without.candidates == {0, 1, 2}
    for i in range(len(patterns)):
        assert with_automaton.starts(i) == without.starts(i)
    assert with_automaton.starts(1) == [4, 32]
    assert with_automaton.starts(2) is None  # no literal: may match anywhere
    assert not with_automaton.may_match_within(0, 0, 14)
    assert with_automaton.may_match_within(0, 14, 31)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("foot drop", {"f"}),
        ("(?:left|right) leg", {"l", "r"}),
        ("(?:bilateral )?leg weakness", {"b", "l"}),
        ("[3-5]/5", {"3", "4", "5"}),
        ("(?<!vertebral )collapse", {"c"}),
    ],
)
def test_first_characters_of_a_match(pattern: str, expected: set[str]) -> None:
    from spineguide.text.prefilter import first_chars

    assert first_chars(pattern) == expected


def test_a_digit_class_opens_with_0_to_9_only_for_ascii_text() -> None:
    from spineguide.text.prefilter import first_chars

    digits = set("0123456789")
    assert first_chars(r"\d+ pack[- ]years?", ascii_text=True) == digits
    assert first_chars(r"(?:\d{2,3} ?mph|high speed)", ascii_text=True) == digits | {"h"}
    # any Unicode digit may open it in other text, and a negated set never gives a test
    assert first_chars(r"\d+ pack[- ]years?") is None
    assert first_chars(r"[^\d]x", ascii_text=True) is None


def test_digit_led_phrases_match_as_before_with_the_first_character_test() -> None:
    vocab = clinical._vocab()
    text = "Smoker, 30 pack years. Fever for 5/7, 3 days of fevers, 38.9 C; hit at 40 mph"
    led = [p for p in vocab.phrases if any(a.startswith(("(?:\\d", "(?:(?:\\d")) for a in p.alts)]
    assert led  # the vocabulary has digit-led wordings
    for phrase in vocab.phrases:
        fast = clinical._first_char_regex(phrase.alts)
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in phrase.regex.finditer(text)
        ], phrase.finding


@pytest.mark.parametrize("pattern", ["\\w+ pain", "(?:very )?", "x?", ".{2}", "[^a]b"])
def test_no_first_characters_when_a_match_may_start_anywhere_or_be_empty(pattern: str) -> None:
    from spineguide.text.prefilter import first_chars

    assert first_chars(pattern) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=25))
def test_first_character_test_leaves_every_phrase_match_unchanged(words: list[str]) -> None:
    vocab = clinical._vocab()
    text = " ".join(words)
    text = text[:1].upper() + text[1:]  # case folding too
    for phrase in vocab.phrases:
        fast = clinical._first_char_regex(phrase.alts)
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in phrase.regex.finditer(text)
        ], phrase.finding
        assert fast.groups == phrase.regex.groups  # a value group keeps its number


def test_first_character_test_on_realistic_notes() -> None:
    notes = [
        "Fell from a ladder about 3 metres onto his back; unable to pass urine since.",
        "SADDLE NUMBNESS for 2 days, Temp 38.9, CRP 180. Bilateral sciatica worse on standing.",
        "Numb around the back passage, bladder not emptying properly, bowels not opened.",
    ]
    vocab = clinical._vocab()
    matched = 0
    for text in notes:
        for phrase in vocab.phrases:
            full = [m.span() for m in phrase.regex.finditer(text)]
            matched += bool(full)
            assert [
                m.span() for m in clinical._first_char_regex(phrase.alts).finditer(text)
            ] == full
    assert matched >= 5


def test_a_rare_symbol_is_a_literal_but_a_single_letter_is_not() -> None:
    from spineguide.text.prefilter import pattern_terms

    arrow, degree, letter = pattern_terms([r"(?:reduced|↓)", r"\d+ ?°", r"(?:L|R) ?\d"])
    assert arrow == [frozenset({"reduced"}), frozenset({"↓"})]
    assert degree == [frozenset({"°"})]
    assert letter == []  # "l" or "r" alone would be no test: the pattern is always scanned


def test_a_note_without_the_arrow_skips_the_arrow_pattern_and_one_with_it_does_not() -> None:
    index = LiteralIndex([r"(?<!\w)(?:ankle jerks?|aj) ↓", r"(?<!\w)brisk"])
    assert index.candidates("ankle jerk reduced on the left") == set()
    assert index.candidates("left ankle jerk ↓, knee brisk") == {0, 1}
