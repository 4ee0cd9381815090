"""A time that belongs to a treatment is not how long the symptoms have lasted."""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _duration(text: str) -> float | None:
    got = [e.value for e in extract(text).evidence if e.id == "symptom_duration_days"]
    return got[0] if got else None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Back pain for 3 days, worse despite six weeks of physiotherapy", 3.0),
        ("Had six weeks of physio last year; now 2 weeks of right leg pain", 14.0),
        ("Low back pain for 2 weeks, has just finished a 10 day course of antibiotics", 14.0),
        ("Two weeks of bed rest did not help, pain for a month", 30.4),
        ("4 weeks of back pain, no treatment so far", 28.0),
    ],
)
def test_symptom_duration_skips_treatment_times(text: str, days: float) -> None:
    assert _duration(text) == pytest.approx(days)


def test_plain_durations_still_read() -> None:
    assert _duration("3 weeks of back pain after lifting") == 21.0
    assert _duration("Sciatica for ten days") == 10.0
