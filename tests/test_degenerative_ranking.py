"""Degenerative and structural causes: how posture, age and course move the ranking.

Every sentence here is written for this file (no case-set text).
"""

from __future__ import annotations

from ranking_helpers import factors
from ranking_helpers import ranked as ranking

STANDING_LEG_PAIN = (
    "67M with months of back and buttock ache brought on by standing at work and by walking, "
    "eased by lying down, with now and then a stabbing pain down the left leg."
)
SITTING_SCIATICA = (
    "34F with sciatica down the right leg since lifting a box last week, worse with prolonged "
    "sitting and on coughing."
)


def test_standing_provoked_leg_pain_counts_against_a_herniation() -> None:
    assert factors(STANDING_LEG_PAIN, "disc-herniation")["pain_worse_standing"] < 1


def test_standing_provoked_leg_pain_in_later_life_is_not_called_a_herniation_first() -> None:
    ranked = ranking(STANDING_LEG_PAIN)
    assert ranked[0] != "disc-herniation"
    assert ranked.index("nerve-root-compression") < ranked.index("disc-herniation")


def test_sitting_provoked_sciatica_after_lifting_stays_a_herniation() -> None:
    assert ranking(SITTING_SCIATICA)[0] == "disc-herniation"
