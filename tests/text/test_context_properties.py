"""Property tests: the context engine never crashes and stays linear on large input."""

from __future__ import annotations

import re
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
    # best of three for each size: one pause of a shared machine (or a collection) during a
    # single run once made the large run look 46x the small one
    small = min(_time_qualify(16_000) for _ in range(3))  # ~128 kB
    large = min(_time_qualify(128_000) for _ in range(3))  # ~1 MB
    assert large < 60
    assert large < small * 8 * 4, (small, large)  # 8x the input, well under quadratic growth


def _reference_tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokeniser's rule written out: every token, less a hyphen or slash between two
    letters or digits (str.isalnum, any script)."""
    low = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-").lower()
    out = []
    for m in re.finditer(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", low):
        s, e = m.start(), m.end()
        joined = s > 0 and e < len(low) and low[s - 1].isalnum() and low[e].isalnum()
        if m.group() in ("-", "/") and joined:
            continue
        out.append((m.group(), s, e))
    return out


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ1 -/_.,'’–éß²٣\n\u00a0xL", max_size=30))
def test_tokens_follow_the_joining_rule(text: str) -> None:
    toks = tokenise(text, 7)
    got = list(
        zip(toks.words, [s - 7 for s in toks.starts], [e - 7 for e in toks.ends], strict=True)
    )
    assert got == _reference_tokens(text)


def test_tokens_of_a_clinical_phrase() -> None:
    toks = tokenise("L4/5 disc - x-ray: no cord/cauda compression / odd")
    assert toks.words == [
        "l4", "5", "disc", "-", "x", "ray", ":", "no", "cord", "cauda", "compression", "/", "odd",
    ]  # fmt: skip
