"""Property tests: the clinical-text extractor never crashes and finishes in bounded time."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineguide.errors import InputError, InputTooLargeError
from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.clinical import MAX_TEXT_CHARS, extract_clinical_evidence

# Words and fragments from real notes, so generated text exercises the patterns, not just noise.
VOCAB = [
    "no", "not", "denies", "without", "or", "and", "nor", "but", "mother", "has", "previous",
    "resolved", "now", "left", "right", "L", "R", "bilateral", "both", "legs", "leg", "pain",
    "numbness", "saddle", "anaesthesia", "tingling", "weak", "weakness", "4/5", "2/5", "5/5",
    "3/52", "2/7", "6/12", "knee", "jerk", "KJ", "AJ", "absent", "brisk", "reduced", "reflexes",
    "SLR", "+ve", "-ve", "positive", "negative", "at", "40°", "degrees", "FNST", "slump",
    "quads", "EHL", "ankle", "DF", "dorsiflexion", "hip", "flexion", "thigh", "calf", "foot",
    "big", "toe", "dorsum", "bladder", "bowel", "retention", "incontinence", "urine", "passed",
    "fever", "T", "38.6", "CRP", "112", "WCC", "15.2", "ESR", "HbA1c", "78", "calcium", "2.9",
    "PTH", "Hb", "INR", "BP", "90/60", "HR", "120", "psoriasis", "IVDU", "apixaban", "warfarin",
    "cancer", "ca", "breast", "metastatic", "weight", "loss", "night", "sweats", "54F", "67M",
    "year-old", "woman", "man", "weeks", "of", "for", "history", "PMH:", "(", ")", ",", ";", ":",
    ".", "-", "/", "\n", "&", "S&B", "x",
]  # fmt: skip

extract_clinical_evidence("54F, warm-up: loads the knowledge base and compiles the vocabulary.")

SETTINGS = settings(
    max_examples=150,
    deadline=1000,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check(items: list[Evidence], text: str) -> None:
    assert isinstance(items, list)
    for e in items:
        assert isinstance(e, Evidence)
        assert e.choice in (Choice.present, Choice.absent, Choice.unknown)
        assert e.side in (None, "left", "right", "bilateral")
        if e.span is not None:
            start, end = e.span
            assert 0 <= start <= end <= len(text)


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    _check(extract_clinical_evidence(text), text)


@SETTINGS
@given(st.lists(st.sampled_from(VOCAB), max_size=120).map(" ".join))
def test_vocabulary_soup_never_crashes(text: str) -> None:
    _check(extract_clinical_evidence(text), text)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.sampled_from(VOCAB), st.text(alphabet=",.;:()-/+°&'\"!?[]{}*_ \n\t", max_size=20)
        ),
        max_size=200,
    ).map("".join)
)
def test_pathological_punctuation_never_crashes(text: str) -> None:
    _check(extract_clinical_evidence(text), text)


@pytest.mark.parametrize("text", ["", " ", "\n\n\t", "\u200b", "."])
def test_empty_and_blank_input(text: str) -> None:
    items = extract_clinical_evidence(text)
    assert isinstance(items, list)
    if not text.strip():
        assert items == []


def test_non_string_input_is_a_clear_error() -> None:
    with pytest.raises(InputError):
        extract_clinical_evidence(None)  # type: ignore[arg-type]


def test_one_megabyte_input_is_a_clear_size_error() -> None:
    text = "back pain " * 100_000  # ~1 MB
    with pytest.raises(InputTooLargeError) as exc:
        extract_clinical_evidence(text)
    assert str(MAX_TEXT_CHARS) in str(exc.value)


def test_input_at_the_limit_is_accepted() -> None:
    text = ("x" * (MAX_TEXT_CHARS - 1)) + "."
    assert len(text) == MAX_TEXT_CHARS
    _check(extract_clinical_evidence(text), text)


# Repetition that punishes nested quantifiers: each input is at (or near) the size limit.
ADVERSARIAL = [
    "a " * 49_000,
    "," * 99_000,
    "no " * 33_000,
    "pain " * 19_000,
    "left " * 19_000,
    "4/5 " * 24_000,
    "((((" * 24_000,
    "- " * 49_000,
    "weak " * 19_000 + "quads",
    "no fever, " * 9_900,
    "SLR +ve at 40° R, " * 5_000,
    "numb " * 19_000 + "x",
    "CRP " * 24_000,
    "worse " * 16_000 + "on standing",
    "lifted a " * 11_000,
    ("1" * 99_000),
    ("x" * 99_000),
    "L5/S1 " * 16_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=[f"adv{i}" for i in range(len(ADVERSARIAL))])
def test_pathological_repetition_is_bounded(text: str) -> None:
    assert len(text) <= MAX_TEXT_CHARS
    t0 = time.perf_counter()
    items = extract_clinical_evidence(text)
    elapsed = time.perf_counter() - t0
    _check(items, text)
    assert elapsed < 5.0, f"{elapsed:.2f}s: catastrophic backtracking?"


@SETTINGS
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=30).map(" ".join), st.integers(1, 200))
def test_repeated_fragments_are_bounded(fragment: str, times: int) -> None:
    text = ((fragment + " ") * times)[:MAX_TEXT_CHARS]
    t0 = time.perf_counter()
    _check(extract_clinical_evidence(text), text)
    assert time.perf_counter() - t0 < 5.0


# ---- the one extractor interface (pipeline.extract): medicines, imaging sentences, gaps ----

NOTE_WORDS = [
    *VOCAB, "Eliquis", "apixaban", "stopped", "clopidogrel", "prednisolone", "MRI:", "CT",
    "showed", "X-ray:", "collapse", "abscess", "collection", "sciatia", "numbess", "lactate",
    "4.8", "dialysis", "fell", "ladder", "storey", "window", "despite", "oxycodone", "spreading",
]  # fmt: skip


def _check_extraction(text: str) -> None:
    from spineguide.text.pipeline import extract

    x = extract(text)
    _check(x.evidence, text)
    for m in x.medications:
        assert 0 <= m.span[0] < m.span[1] <= len(text)
        assert text[m.span[0] : m.span[1]] == m.name
    for u in x.uninterpreted:
        assert text[u.span[0] : u.span[1]] == u.text and u.reason
    for f in x.imaging:
        if f.span is not None:
            assert 0 <= f.span[0] <= f.span[1] <= len(text)


@SETTINGS
@given(st.lists(st.sampled_from(NOTE_WORDS), max_size=150).map(" ".join))
def test_pipeline_vocabulary_soup_never_crashes(text: str) -> None:
    _check_extraction(text)


@SETTINGS
@given(st.text(max_size=1500))
def test_pipeline_arbitrary_unicode_never_crashes(text: str) -> None:
    _check_extraction(text)


def test_pipeline_one_megabyte_is_a_clear_size_error_and_fast() -> None:
    from spineguide.text.pipeline import extract

    text = "On apixaban. MRI: L4/5 disc. Left leg weak. " * 23_000  # ~1 MB
    t0 = time.perf_counter()
    with pytest.raises(InputTooLargeError):
        extract(text)
    assert time.perf_counter() - t0 < 1.0


def test_pipeline_time_grows_linearly_with_length() -> None:
    """Four times the text takes about four times as long, not sixteen (no quadratic step)."""
    from spineguide.text.pipeline import extract

    unit = (
        "72F on apixaban, stopped warfarin. Pain, numbness and weakness of the left leg, "
        "getting steadily worse. MRI: L4/5 extrusion compressing the L5 root. No fever, "
        "rigors or weight loss. HR 104, BP 100/60. Fell off a ladder. "
    )
    small = unit * (MAX_TEXT_CHARS // (4 * len(unit)))
    large = unit * (MAX_TEXT_CHARS // len(unit))
    extract(small)  # warm-up

    def timed(text: str) -> float:
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            extract(text)
            best = min(best, time.perf_counter() - t0)
        return best

    t_small, t_large = timed(small), timed(large)
    assert t_large < 8 * t_small + 0.5, f"{t_small:.2f}s -> {t_large:.2f}s for 4x the text"
