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


# -- unit tests on small hand-built evidence sets -------------------------------------------------


def _localize(kb, items, imaging=()):
    from spineguide.reasoning.derive import derive_findings
    from spineguide.reasoning.evidence import EvidenceSet
    from spineguide.reasoning.localization import localize

    img = list(imaging)
    es = derive_findings(EvidenceSet(items=items), {f"img:{f.finding}" for f in img})
    return localize(es, img, kb)


def _ev(fid, side=None, absent=False):
    from spineguide.reasoning.evidence import Choice, Evidence

    return Evidence(id=fid, side=side, choice=Choice.absent if absent else Choice.present)


def _img(finding, **kw):
    from spineguide.text.models import ImagingFinding

    return ImagingFinding(finding=finding, **kw)


def test_imaging_named_root_localises_when_the_exam_is_silent(kb) -> None:
    loc = _localize(
        kb,
        [_ev("leg_pain", "left"), _ev("low_back_pain")],
        [_img("nerve_root_compression", level="L5-S1", side="left", root="S1")],
    )
    assert loc.roots and loc.roots[0].root == "S1" and loc.roots[0].side == "left"
    assert "imaging" in (loc.note or "")


def test_foraminal_lesion_localises_to_the_exiting_root_when_the_exam_is_silent(kb) -> None:
    loc = _localize(
        kb,
        [_ev("leg_pain", "right")],
        [_img("disc_protrusion", level="L4-L5", side="right", zone="foraminal")],
    )
    assert loc.roots[0].root == "L4"


def test_imaging_alone_without_leg_symptoms_does_not_localise(kb) -> None:
    loc = _localize(
        kb,
        [_ev("low_back_pain")],
        [_img("disc_extrusion", level="L4-L5", side="left", zone="paracentral")],
    )
    assert loc.roots == []


def test_signs_on_both_sides_give_a_bilateral_root(kb) -> None:
    loc = _localize(
        kb,
        [_ev("achilles_reflex_reduced", "left"), _ev("achilles_reflex_reduced", "right")],
    )
    assert loc.roots[0].root == "S1"
    assert loc.roots[0].side == "bilateral"


def test_one_sided_signs_stay_one_sided(kb) -> None:
    loc = _localize(
        kb, [_ev("achilles_reflex_reduced", "left"), _ev("plantarflexion_weakness", "left")]
    )
    assert (loc.roots[0].root, loc.roots[0].side) == ("S1", "left")


def test_exam_evidence_outweighs_a_discordant_image(kb) -> None:
    loc = _localize(
        kb,
        [_ev("great_toe_extension_weakness", "left"), _ev("lateral_leg_pain", "left")],
        [_img("disc_extrusion", level="L5-S1", side="left", zone="paracentral")],
    )
    assert loc.roots[0].root == "L5"


def test_anatomy_helper_gives_one_answer_per_level(kb) -> None:
    from spineguide.reasoning.anatomy import affected_roots, level_roots, roots_below

    assert level_roots("L4-L5", kb).exiting == "L4"
    assert level_roots("L4-L5", kb).traversing == "L5"
    assert roots_below("L4-L5", kb) == {"L5", "S1", "S2"}
    para = _img("disc_extrusion", level="L3-L4", zone="paracentral")
    far = _img("disc_extrusion", level="L3-L4", zone="extraforaminal")
    assert affected_roots(para, kb) == {"L4": "traversing"}
    assert affected_roots(far, kb) == {"L3": "exiting"}
    assert affected_roots(_img("foraminal_stenosis", level="L5-S1"), kb) == {"L5": "exiting"}
