"""Phrasing families of real reports the imaging reader must read the way a radiologist means
them: burst fractures, pseudo-bulges, space-occupying lesions, one lesion after several levels,
infection named without a level, circumferential bulges, undecided herniation types, septic
facets, calcified herniations, bent roots and lesions placed in vertebral bodies.

Every sentence here is written for the test (none comes from an evaluation set)."""

from __future__ import annotations

import pytest

from spineguide.text.imaging import parse_imaging_report

Tuple4 = tuple[str | None, str, str, str]


def _tuples(text: str) -> set[Tuple4]:
    return {(f.level, f.side, f.finding, f.severity) for f in parse_imaging_report(text).findings}


def _findings(text: str) -> set[str]:
    return {f.finding for f in parse_imaging_report(text).findings if not f.negated}


# ---- fractures: Genant height-loss grading is for compression (osteoporotic) deformity


def test_burst_fracture_height_loss_is_no_grade() -> None:
    """A burst fracture's height loss does not grade it; a stated word still does."""
    assert ("L2", "central", "fracture", "unspecified") in _tuples(
        "Burst fracture of L2 with 30% loss of anterior height and 4 mm retropulsion."
    )
    assert ("L2", "central", "fracture", "severe") in _tuples(
        "Severe burst fracture of L2 with 30% loss of height."
    )


def test_compression_fracture_height_loss_still_grades() -> None:
    """A wedge compression fracture with 30% height loss is Genant grade 2 (moderate)."""
    assert ("T12", "central", "fracture", "moderate") in _tuples(
        "Wedge compression fracture of T12 with 30% loss of anterior height."
    )


# ---- bulges


def test_pseudo_bulge_from_a_slip_is_not_a_disc_bulge() -> None:
    """An apparent bulge from the uncovered disc of a slip is not a disc finding."""
    found = _findings(
        "L4-5: Grade 1 anterolisthesis of L4 with pseudo-bulging of the disc and moderate "
        "canal stenosis."
    )
    assert "disc_bulge" not in found
    assert {"spondylolisthesis", "canal_stenosis"} <= found


def test_real_bulge_beside_a_slip_is_kept() -> None:
    """Without the pseudo- prefix the bulge is read."""
    assert "disc_bulge" in _findings("L4-5: Grade 1 anterolisthesis with a disc bulge.")


@pytest.mark.parametrize(
    "text",
    [
        "L3-4: Circumferential disc bulge extending into both foramina.",
        "L3-4: Diffuse disc bulging, more on the left, reaching the foramina bilaterally.",
    ],
)
def test_circumferential_bulge_is_midline(text: str) -> None:
    """A bulge of the whole disc margin is one midline finding."""
    assert ("L3-L4", "central", "disc_bulge", "unspecified") in _tuples(text)


def test_foraminal_bulge_keeps_its_side() -> None:
    """A bulge placed in the foramina is still bilateral; one side stays that side."""
    assert ("L3-L4", "bilateral", "disc_bulge", "mild") in _tuples(
        "L3-4: Mild foraminal bulging is present bilaterally."
    )
    assert ("L3-L4", "right", "disc_bulge", "unspecified") in _tuples(
        "L3-4: Right foraminal disc bulge."
    )


# ---- the canal


def test_space_occupying_lesion_is_not_stenosis() -> None:
    """'No space-occupying lesion in the canal' denies a mass, not canal narrowing."""
    report = parse_imaging_report("L2-3: No space-occupying lesion within the spinal canal.")
    assert not [f for f in report.findings if f.finding == "canal_stenosis"]
    positive = parse_imaging_report(
        "L2-3: A space-occupying lesion is seen within the spinal canal."
    )
    assert not [f for f in positive.findings if f.finding == "canal_stenosis"]
    assert [u for u in positive.uninterpreted if "space" in u.text.lower()]


def test_disc_occupying_the_canal_is_still_stenosis() -> None:
    """Disc material occupying the canal still narrows it."""
    assert "canal_stenosis" in _findings("L2-3: Extruded disc material occupying half the canal.")


# ---- levels: one lesion after a sentence of several levels


def test_one_lesion_after_several_levels_gets_no_level() -> None:
    """'A protrusion' after 'at L3-4 and L4-5' is at one of them: the report does not say which."""
    found = _tuples("Disc desiccation at L3-4 and L4-5. There is a small right protrusion.")
    assert (None, "right", "disc_protrusion", "mild") in found
    assert not [t for t in found if t[2] == "disc_protrusion" and t[0] is not None]


def test_plural_lesions_after_several_levels_take_them() -> None:
    """Plural protrusions after two levels are at both."""
    found = _tuples("Disc desiccation at L3-4 and L4-5. There are small central protrusions.")
    assert ("L3-L4", "central", "disc_protrusion", "mild") in found
    assert ("L4-L5", "central", "disc_protrusion", "mild") in found


def test_one_lesion_after_one_level_takes_it() -> None:
    """After a single level the lesion is at that level, and the level carries on."""
    found = _tuples(
        "Disc desiccation at L4-5 and L5-S1. At L4-5 there is desiccation. "
        "There is a small central protrusion."
    )
    assert ("L4-L5", "central", "disc_protrusion", "mild") in found


def test_level_survives_the_unplaced_lesion() -> None:
    """The levels written before stay for a later plural statement."""
    found = _tuples(
        "Mild desiccation at L3-4 and L4-5. A small bulge is seen. Both discs show fissures."
    )
    assert (None, "central", "disc_bulge", "mild") in found


# ---- infection


def test_osteomyelitis_reads_as_infection() -> None:
    """Osteomyelitis is infection (discitis), not a tumour-like bone lesion."""
    report = parse_imaging_report("Appearances are consistent with vertebral osteomyelitis.")
    found = {f.finding for f in report.findings}
    assert "discitis" in found
    assert "bone_lesion" not in found  # no level: a diagnosis, not a lesion the contract places


def test_infection_at_a_level_keeps_the_contract_bone_lesion() -> None:
    """Placed at a level, the infected disc and endplates are the contract's bone lesion."""
    found = _tuples("L2-3 spondylodiscitis with erosion of both endplates.")
    assert ("L2-L3", "central", "bone_lesion", "unspecified") in found
    assert ("L2-L3", "central", "discitis", "unspecified") in found


def test_denied_infection_without_level_stays_a_negative() -> None:
    """'No discitis' still denies the contract's bone lesion."""
    found = _tuples("No evidence of discitis.")
    assert (None, "central", "bone_lesion", "none") in found


def test_septic_facet_effusion_is_not_arthropathy() -> None:
    """Facet effusions in a report that calls the facet septic are the infection's."""
    text = (
        "L3-4: Right facet joint effusion with surrounding oedema. "
        "Impression: septic arthritis of the right L3-4 facet joint."
    )
    assert "facet_arthropathy" not in _findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "L3-4: Right facet joint effusion. No septic arthritis of the facet joints.",
        "L3-4: Right facet joint effusion.",
    ],
)
def test_facet_effusion_without_infection_is_arthropathy(text: str) -> None:
    """Without an affirmed infection a facet effusion stays degenerative arthropathy."""
    assert "facet_arthropathy" in _findings(text)


# ---- herniation type and side


@pytest.mark.parametrize(
    "text",
    [
        "L5-S1: Central protrusion/extrusion.",
        "L5-S1: Central disc protrusion versus extrusion.",
        "L5-S1: Disc protrusion-extrusion complex, central.",
    ],
)
def test_undecided_type_is_a_herniation(text: str) -> None:
    """Two types written as one lesion: a herniation whose type is not settled."""
    found = _tuples(text)
    assert ("L5-S1", "central", "disc_herniation", "unspecified") in found
    assert not {"disc_protrusion", "disc_extrusion"} & {t[2] for t in found}


def test_two_lesions_of_two_types_stay_apart() -> None:
    """'A left protrusion and a right extrusion' are two lesions."""
    found = _tuples("L5-S1: A left protrusion and a right extrusion.")
    assert ("L5-S1", "left", "disc_protrusion", "unspecified") in found
    assert ("L5-S1", "right", "disc_extrusion", "unspecified") in found


def test_zone_written_after_the_lesion_gives_its_side() -> None:
    """'An extrusion, central, compressing the left root': the extrusion is central."""
    found = _tuples("L4-5: Disc extrusion, posteriorly central, compressing the left L5 root.")
    assert ("L4-L5", "central", "disc_extrusion", "unspecified") in found
    assert ("L4-L5", "left", "nerve_root_compression", "unspecified") in found


# ---- calcification


@pytest.mark.parametrize(
    "text",
    [
        "L3-4: Right foraminal disc herniation, partly calcified.",
        "L3-4: Calcified right foraminal herniation.",
    ],
)
def test_calcified_herniation_is_both(text: str) -> None:
    """The herniation and its calcification, on the herniation's side."""
    found = _tuples(text)
    assert ("L3-L4", "right", "disc_herniation", "unspecified") in found
    assert ("L3-L4", "right", "disc_calcification", "unspecified") in found


def test_calcified_disc_protrusion_keeps_the_protrusion() -> None:
    """'Calcified disc protrusion' no longer hides the protrusion."""
    assert {"disc_protrusion", "disc_calcification"} <= _findings(
        "L3-4: Calcified disc protrusion."
    )


def test_uncalcified_herniation_is_not_calcified() -> None:
    """A herniation 'not calcified' gives no calcification."""
    assert "disc_calcification" not in _findings("L3-4: Left disc protrusion, not calcified.")


# ---- nerve roots bent by a lesion


@pytest.mark.parametrize(
    "text",
    [
        "L4-5: Left foraminal extrusion. The exiting left L4 root is kinked over it.",
        "L4-5: Left foraminal extrusion; the left L4 nerve root is stretched and draped over it.",
        "L4-5: Left foraminal extrusion with distortion of the left L4 root.",
    ],
)
def test_bent_root_is_compressed(text: str) -> None:
    """A root kinked, stretched, draped or distorted by a lesion is a root compression."""
    found = _tuples(text)
    assert ("L4-L5", "left", "nerve_root_compression", "unspecified") in found


# ---- lesions placed in vertebral bodies


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("There is a 15 mm lesion in the L3 vertebral body.", {"L3"}),
        ("Enhancing lesions involving the L1 and L4 vertebral bodies.", {"L1", "L4"}),
        ("Several lesions measuring up to 2 cm involving multiple vertebral bodies.", {None}),
    ],
)
def test_lesion_in_a_vertebral_body_is_a_bone_lesion(text: str, levels: set[str | None]) -> None:
    """A lesion placed in a vertebral body (past a size aside) is a bone lesion there."""
    found = {t[0] for t in _tuples(text) if t[2] == "bone_lesion" and t[3] != "none"}
    assert found == levels


def test_lesion_elsewhere_is_not_a_bone_lesion() -> None:
    """A lesion of another organ stays uninterpreted."""
    report = parse_imaging_report("A 2 cm lesion is seen in the right kidney.")
    assert not [f for f in report.findings if f.finding == "bone_lesion"]
    assert report.uninterpreted


def test_no_lesion_in_the_vertebral_bodies_is_a_negative() -> None:
    """'No focal lesion in the vertebral bodies' denies a bone lesion."""
    assert (None, "central", "bone_lesion", "none") in _tuples(
        "No focal lesion in the vertebral bodies."
    )


def test_the_left_one_is_one_of_the_roots() -> None:
    """'Both roots are seen, the left one being kinked': the left root is compressed."""
    found = _tuples(
        "L5-S1: Left foraminal herniation. Both L5 roots are seen, the left one being thinned "
        "and kinked by the herniation."
    )
    assert ("L5-S1", "left", "nerve_root_compression", "unspecified") in found
    assert not [t for t in found if t[2] == "nerve_root_compression" and t[1] == "right"]


def test_the_left_one_not_displaced_is_no_compression() -> None:
    """A denied effect on 'the left one' stays a negative."""
    found = _tuples("L5-S1: Both S1 roots are seen, the left one is not displaced.")
    assert not [t for t in found if t[2] == "nerve_root_compression" and t[3] != "none"]
