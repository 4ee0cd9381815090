"""Property tests: the imaging extractor never crashes and finishes in bounded time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineguide.errors import InputTooLargeError
from spineguide.text.imaging import MAX_REPORT_CHARS, parse_imaging_report

VOCAB_WORDS = [
    "L3-4",
    "L4/L5",
    "L5-S1",
    "T12",
    "no",
    "not",
    "without",
    "possible",
    "mild",
    "to",
    "severe",
    "left",
    "right",
    "bilateral",
    "foraminal",
    "canal",
    "stenosis",
    "narrowing",
    "disc",
    "bulge",
    "protrusion",
    "extrusion",
    "nerve",
    "root",
    "compressing",
    "contacting",
    "the",
    "of",
    "and",
    "or",
    ",",
    ".",
    ":",
    ";",
    "(",
    ")",
    "\n",
    "-",
    "grade",
    "2",
    "%",
    "40",
    "fracture",
    "Modic",
    "type",
    "patent",
    "otherwise",
    "IMPRESSION:",
    "FINDINGS:",
    "through",
    "at each level",
]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    report = parse_imaging_report(text)
    for f in report.findings:
        assert 0 <= f.span[0] <= f.span[1] <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCAB_WORDS), max_size=200))
def test_vocabulary_soup_never_crashes(words: list[str]) -> None:
    text = " ".join(words)
    report = parse_imaging_report(text)
    for f in report.findings:
        assert f.severity == "none" or not f.negated
        assert text[f.span[0] : f.span[1]] == f.text


def test_one_megabyte_is_a_clear_size_error() -> None:
    with pytest.raises(InputTooLargeError) as exc:
        parse_imaging_report("L4-5 disc bulge. " * 70_000)
    assert "limit" in str(exc.value)


@pytest.mark.parametrize(
    "text",
    [
        "L3-4 " * 10_000,
        "-" * 150_000,
        "(" * 50_000 + ")" * 50_000,
        "No " * 30_000,
        "mild to " * 20_000,
        "L3-4, " * 20_000 + "disc bulge",
        "No disc herniation, " * 8_000,
        ". " * 90_000,
        "\n" * 150_000,
    ],
    ids=[
        "levels",
        "dashes",
        "parens",
        "no",
        "ranges",
        "level-list",
        "neg-list",
        "dots",
        "newlines",
    ],
)
def test_pathological_input_is_bounded(text: str) -> None:
    assert len(text) <= MAX_REPORT_CHARS
    start = time.perf_counter()
    parse_imaging_report(text)
    assert time.perf_counter() - start < 10.0
