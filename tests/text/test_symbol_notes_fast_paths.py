"""Notes with symbols outside ASCII ("°", "↓", "→") take the same fast paths as ASCII notes.

The literal offsets, clause-level literal tests, first-character tests and the medicine gate were
once kept for pure ASCII text, so a note writing "reflexes ↓" or "38.5°C" was read the slow way.
They hold for any text whose letters and digits are all ASCII; these tests check that reading
such a note with and without the fast paths gives the same evidence and medicines.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineguide.text import clinical, medications
from spineguide.text.pipeline import extract
from spineguide.text.prefilter import folds_like_ascii

NOTES = [
    "58M, 3/52 L leg pain to the dorsum of foot. EHL 4/5 L, ankle jerk ↓ L, SLR 40° L. "
    "No saddle anaesthesia, bladder and bowels normal. On apixaban for AF.",
    "ED: 44F, sudden back pain → both legs weak, urinary retention, T 38.6°C, CRP 180. "
    "Stopped prednisolone last month; takes blood thinners.",
    "Physio: 67M, walking tolerance ↓ to 100 m, eases on sitting; pulses palpable. "
    "Reflexes ↑ knees, ↓ ankles bilat. Denies weight loss. Co-codamol PRN.",
]


def _reading(text: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    out = extract(text)
    evidence = [(e.id, e.choice, e.side, e.value, e.span) for e in out.evidence]
    meds = [(m.name, m.span, m.negated, m.historical) for m in out.medications]
    return evidence, meds


def _slow_reading(text: str, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(clinical, "folds_like_ascii", lambda _text: False)
        m.setattr(medications, "folds_like_ascii", lambda _text: False)
        return _reading(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reflexes ↓ L, 38.5°C", True),
        ("plain ascii note", True),
        ("naïve patient", False),  # a letter outside ASCII
        ("Kelvin \u212a", False),  # folds to an ASCII k under case-insensitive matching
        ("digit \u0663", False),  # an Arabic-Indic three is a digit that is not 0-9
    ],
)
def test_which_texts_fold_like_ascii(text: str, expected: bool) -> None:
    assert folds_like_ascii(text) is expected


@pytest.mark.parametrize("text", NOTES)
def test_symbol_notes_read_the_same_with_and_without_the_fast_paths(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert folds_like_ascii(text) and not text.isascii()
    fast = _reading(text)
    assert fast[0] and fast[1]  # the notes do carry findings and medicines
    assert fast == _slow_reading(text, monkeypatch)


_PIECES = st.sampled_from(
    [
        "ankle jerk ↓", "SLR 30°", "pain → calf", "power 4/5", "no saddle numbness", "L5",
        "on warfarin", "stopped naproxen", "CRP 120", "fever 38.9°C", "bilat", "↑ reflexes",
        "urinary retention", "numb L foot", "walks 200 m", ", ", ". ", "; ", "\n",
    ]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, min_size=1, max_size=14))
def test_random_symbol_notes_read_the_same_either_way(pieces: list[str]) -> None:
    text = " ".join(pieces)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _reading(text) == _slow_reading(text, monkeypatch)


_SETTING_PIECES = st.sampled_from(
    [
        "seen in ED", "attended A&E", "admitted under orthopaedics", "brought in by ambulance",
        "referred to the spinal clinic", "not seen in ED", "MRI shows", "x-ray: normal",
        "CT of the lumbar spine showed", "on the ward", "POD 2", "pain", "L4/5", "°", "↓", ". ",
        ", ", "\n", "presented to our hospital", "will be referred to the spine team",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(_SETTING_PIECES, min_size=1, max_size=12))
def test_first_character_tests_leave_setting_and_imaging_matches_unchanged(
    pieces: list[str],
) -> None:
    from spineguide.text import pipeline

    text = " ".join(pieces)
    plain = (
        pipeline._EMERGENCY_SETTING,
        pipeline._HOSPITAL_SETTING,
        pipeline._SPINE_CLINIC,
        pipeline._IMAGING_SENTENCE,
    )
    fast = (*pipeline._fast_setting(), pipeline._fast_imaging_sentence())
    for slow_rx, fast_rx in zip(plain, fast, strict=True):
        assert fast_rx is not slow_rx  # each pattern has a first-character test
        assert [m.span() for m in fast_rx.finditer(text)] == [
            m.span() for m in slow_rx.finditer(text)
        ]


_LAB_PIECES = st.sampled_from(
    [
        "CRP 152", "ESR 88 mm/hr", "WCC 14.2", "Hb 98 -> 81", "INR 4.2", "BP 84/50", "HR 118",
        "T 38.9", "temp 37.2°C", "HbA1c 9.1%", "adj Ca 2.81", "eGFR 45", "ALP 310", "ABI 0.6",
        "58M", "a 72-year-old woman", "aged 45", "I'm 63", "pulse 96", ", ", ". ", "\n",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(_LAB_PIECES, min_size=1, max_size=12))
def test_first_character_tests_leave_lab_and_age_scans_unchanged(pieces: list[str]) -> None:
    text = " ".join(pieces)
    for regex in (*clinical._LAB_SCANS, *clinical._AGE_PATTERNS):
        fast = clinical._first_char_scan(regex)
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
            (m.span(), m.groups()) for m in regex.finditer(text)
        ]
