"""Root localisation from dermatomes, myotomes, reflexes, tension signs and imaging."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess


def top_root(text: str) -> tuple[str | None, str | None]:
    """First root and its side."""
    roots = assess(text).localization.roots
    return (roots[0].root, roots[0].side) if roots else (None, None)


@pytest.mark.parametrize(
    ("text", "root", "side"),
    [
        (
            "50F, right groin and upper inner thigh pain, weak right hip flexion 4/5, "
            "reduced sensation in the right groin, femoral stretch test positive on the right.",
            "L2",
            "right",
        ),
        (
            "Left anterior thigh pain to the knee, hip flexion 4/5 and quadriceps 4/5 on the left, "
            "positive left femoral stretch, reduced pinprick anterior thigh, SLR negative.",
            "L3",
            "left",
        ),
        (
            "Right pain down the inner shin to the medial ankle, numb medial leg, weak right "
            "tibialis anterior 4/5, reduced right knee jerk, ankle jerk normal.",
            "L4",
            "right",
        ),
        (
            "Left leg pain down the outer calf to the top of the foot, weak left big toe extension, "
            "numb first web space, straight leg raise positive at 35 degrees.",
            "L5",
            "left",
        ),
        (
            "Right buttock pain to the back of the calf and the sole, cannot tiptoe on the right, "
            "right ankle jerk absent, numb lateral foot.",
            "S1",
            "right",
        ),
    ],
)
def test_classic_root_patterns(text: str, root: str, side: str) -> None:
    assert top_root(text) == (root, side)


def test_imaging_moves_an_ambiguous_l3_l4_call_to_the_exiting_root() -> None:
    clinical = (
        "Right anterior thigh pain, reduced right knee jerk, femoral stretch positive on the right."
    )
    without = assess(clinical).localization.distribution
    with_mri = assess(
        clinical
        + " MRI: right foraminal disc extrusion at L3-L4 compressing the exiting right L3 root."
    ).localization.distribution
    assert with_mri["L3"] > without["L3"]
    assert max(with_mri, key=with_mri.get) == "L3"


def test_discordant_imaging_side_does_not_move_the_root() -> None:
    clinical = "Left leg pain down the outer calf, weak left big toe extension, positive left SLR."
    base = assess(clinical).localization.distribution["L5"]
    other_side = assess(
        clinical + " MRI: right paracentral L4-L5 protrusion compressing the right L5 root."
    )
    assert other_side.localization.distribution["L5"] == pytest.approx(base, abs=1e-6)


def test_no_root_without_radicular_evidence() -> None:
    a = assess("40M, central low back pain for 5 days, no leg pain, neurological exam normal.")
    assert a.localization.roots == []
    assert a.localization.note


def test_l3_versus_l4_reasoning_is_explained() -> None:
    a = assess("Left anterior thigh pain, knee jerk absent on the left, quadriceps 4/5.")
    text = a.localization.upper_lumbar_reasoning or ""
    assert "L3" in text and "L4" in text
