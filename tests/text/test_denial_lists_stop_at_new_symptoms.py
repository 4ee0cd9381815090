"""A denial carried over a comma list stops at an item that states an onset or a change.

"Denies fever, rigors, IVDU" denies every item, but "denies trauma, new saddle numbness" reports
the saddle numbness: reading it as denied would hide a red flag. Sentences written for this test.
"""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _choices(text: str) -> dict[str, str]:
    return {e.id: e.choice.value for e in extract(text).evidence}


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("62F back pain. Denies trauma, new saddle numbness, leg weakness.", "saddle_anesthesia"),
        ("Denies fever, worsening weakness in both legs.", "leg_weakness_reported"),
        ("No injury, sudden urinary retention this morning.", "urinary_retention"),
        ("Denies weight loss, progressive numbness of the left foot.", "leg_numbness"),
    ],
)
def test_an_item_stating_an_onset_or_change_is_not_denied(text: str, finding: str) -> None:
    assert _choices(text).get(finding) == "present"


def test_a_plain_denial_list_still_denies_every_item() -> None:
    got = _choices("Denies fever, night sweats, weight loss, IVDU.")
    for finding in ("fever", "night_sweats", "weight_loss", "injecting_drug_use"):
        assert got.get(finding) == "absent", finding


def test_recent_inside_a_denied_item_is_still_denied() -> None:
    got = _choices("No history of cancer, IV drug use, or recent infections. Afebrile.")
    assert got.get("recent_infection") == "absent"
    assert got.get("injecting_drug_use") == "absent"
