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
