"""Property tests: the context engine never crashes and stays linear on large input."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from spineguide.text.context import ContextEngine, tokenise

WORDS = [
    "no",
    "not",
    "without",
    "free",
    "of",
    "possible",
    "history",
    "mother",
    "if",
    "but",
    "which",
    "no change",
    "are unremarkable",
    "canal",
    "stenosis",
    "pain",
    "weakness",
    ",",
    "or",
    "and",
    ".",
    ";",
    "(",
    ")",
    "?",
    "don't",
    "–",
    "/",
]

ENGINE = ContextEngine.for_language("en")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=80),
    st.lists(st.tuples(st.integers(-5, 400), st.integers(-5, 400)), max_size=6),
)
def test_qualify_never_crashes_and_spans_point_at_cues(
    words: list[str], spans: list[tuple[int, int]]
) -> None:
    text = " ".join(words)
    for q in ENGINE.qualify_all(text, spans):
        for a, b in q.cue_spans:
            assert 0 <= a < b <= len(text)
        assert not (q.negated and not q.spans_for("negated"))


def _time_qualify(n_words: int) -> float:
    text = ("no canal , recess or foraminal stenosis ; possible mild pain but " * n_words)[
        : n_words * 8
    ]
    toks = tokenise(text)
    targets = list(range(0, len(toks.words), 3))
    start = time.perf_counter()
    ENGINE.qualify_tokens(toks.words, targets, toks.starts, toks.ends)
    spans = [(toks.starts[i], toks.ends[i]) for i in targets[:2000]]
    ENGINE.qualify_all(text, spans)
    return time.perf_counter() - start


def test_one_megabyte_is_linear() -> None:
    small = _time_qualify(16_000)  # ~128 kB
    large = _time_qualify(128_000)  # ~1 MB
    assert large < 60
    assert large < small * 8 * 4, (small, large)  # 8x the input, well under quadratic growth
