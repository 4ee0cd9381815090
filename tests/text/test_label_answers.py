"""A short label answered as a whole: "Bladder or bowel upset: denied", "Bladder and bowel: normal".

The answer follows the label, not the mention's own word, so the reader once kept "bladder" as a
present bladder problem in these checklist lines. Sentences written for this test.
"""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _choice(text: str, finding: str) -> str | None:
    got = [e.choice.value for e in extract(text).evidence if e.id == finding]
    return got[0] if got else None


@pytest.mark.parametrize(
    "text",
    [
        "Bladder or bowel upset: denied.",
        "bladder or bowel upset denied",
        "Bowel or bladder problems - nil",
        "Bladder and bowel: normal",
        "Bladder: normal.",
        "Bowel and bladder - normal.",
    ],
)
def test_an_answered_label_denies_its_findings(text: str) -> None:
    assert _choice(text, "bladder_dysfunction") == "absent"


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Back pain radiating to the left leg with numbness denied", "leg_pain"),
        ("Bladder or bowel upset: new retention since yesterday", "urinary_retention"),
        ("Saddle numbness and retention: yes", "saddle_anesthesia"),
        ("leg pain, numbness denied.", "leg_pain"),
    ],
)
def test_other_words_or_a_yes_keep_the_finding(text: str, finding: str) -> None:
    assert _choice(text, finding) == "present"


@pytest.mark.parametrize(
    "text", ["Power: normal.", "Power - normal", "Strength: full", "LL power: 5/5"]
)
def test_a_power_label_answered_normal_denies_weakness(text: str) -> None:
    assert _choice(text, "ankle_dorsiflexion_weakness") == "absent"
    assert _choice(text, "knee_extension_weakness") == "absent"


def test_a_normal_power_with_an_exception_is_left_to_the_grades() -> None:
    text = "Power: normal except L EHL 4/5"
    assert _choice(text, "great_toe_extension_weakness") == "present"
    assert _choice(text, "knee_extension_weakness") is None  # not denied: unknown
