"""Property tests: arbitrary text never crashes the parser and parses quickly."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineguide.ingest.contradictions import dose_info
from spineguide.ingest.coverage import content_words, numbers
from spineguide.ingest.template import parse_article, strip_citations

TEMPLATE_BITS = st.sampled_from(
    [
        "Types",
        "Causes",
        "Symptoms",
        "Diagnostic Tests",
        "Physical Exam",
        "Imaging Tests",
        "Non-Pharmacological Treatments",
        "Pharmacological Treatments",
        "Surgical Procedures",
        "Prevention Strategies",
        "When to See a Doctor",
        "What to Do and What to Avoid",
        "Do:",
        "Avoid:",
        "Frequently Asked Questions",
        "-",
        "  1. Title",
        "Q1. Why?",
        "Dosage: 5 mg",
        "Side effects: a, b",
        "Name 10–20 mg daily – text",
        "Title: text. Benefit: x.",
        "Disclaimer: x",
        " -",
        "•",
        "NCBI.",
        "Spine-healthNCBI.",
        "(",
        ")",
        "–",
        "400–800 mg/day",
        "including a, b, or c",
        "can help",
        "⇧ to 900 mg",
        "α2δ",
        "\t",
        "\r\n",
        "",
    ]
)
LINES = st.lists(st.one_of(TEMPLATE_BITS, st.text(max_size=80)), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_template_like_text_never_crashes(lines: list[str]) -> None:
    text = "\n".join(lines)
    art = parse_article(text, "x.txt")
    for item in art.items():
        assert 0 <= item.start <= item.end <= len(text)
        assert item.index >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_crashes(text: str) -> None:
    parse_article(text, "x.txt")
    strip_citations(text)
    numbers(text)
    content_words(text)
    dose_info("s", text, text, text)


def test_pathological_lines_finish_quickly() -> None:
    # Long runs that could make a backtracking regex explode.
    nasty = [
        "a " * 5000 + "–",
        "(" * 3000 + "x",
        "Title " * 2000 + ": " + "x " * 2000,
        "1" * 10000 + " mg",
        "- " * 5000,
        "Pharmacological Treatments\n-\n" + "Drug " * 3000 + "10 mg – x",
        "Types\nCauses\n" + ("word, " * 4000) + "can help.",
        "NCBI" * 3000 + ".",
    ]
    for text in nasty:
        start = time.perf_counter()
        parse_article(text, "x.txt")
        strip_citations(text)
        dose_info("s", text, text, text)
        assert time.perf_counter() - start < 2.0, text[:40]
