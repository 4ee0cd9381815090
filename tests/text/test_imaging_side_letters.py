"""A clinician's side letters in an MRI summary ("L4/5 L paracentral extrusion")."""

from __future__ import annotations

import pytest

from spineguide.text.imaging import parse_imaging_report
from spineguide.text.pipeline import extract


def _found(text: str) -> set[tuple[str, str | None, str, str | None]]:
    return {(f.finding, f.level, f.side, f.root) for f in parse_imaging_report(text).findings}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "L4/5 L paracentral extrusion compressing the traversing L5 root.",
            {
                ("disc_extrusion", "L4-L5", "left", None),
                ("nerve_root_compression", "L4-L5", "left", "L5"),
            },
        ),
        (
            "L3-4: Rt foraminal protrusion abutting the exiting Rt L3 root.",
            {
                ("disc_protrusion", "L3-L4", "right", None),
                ("nerve_root_compression", "L3-L4", "right", "L3"),
            },
        ),
        (
            "L5-S1: R foraminal protrusion compressing exiting R L5.",
            {
                ("disc_protrusion", "L5-S1", "right", None),
                ("nerve_root_compression", "L5-S1", "right", "L5"),
            },
        ),
        (
            "L4/5 Lt subarticular disc protrusion.",
            {("disc_protrusion", "L4-L5", "left", None)},
        ),
    ],
)
def test_a_side_letter_before_a_place_or_a_root_is_that_side(text: str, expected: set) -> None:
    """The letter is read as the side it stands for, and the disc level is kept."""
    assert _found(text) == expected


def test_a_whole_disc_level_is_not_cut_short_by_a_side_letter() -> None:
    """'L4/5 L disc…' is the L4-5 level on the left side, not a level written as 'L4/5-L'."""
    found = {(f.finding, f.level) for f in parse_imaging_report("L4/5 L disc extrusion.").findings}
    assert found == {("disc_extrusion", "L4-L5")}


def test_letters_elsewhere_are_not_sides() -> None:
    """A letter with no place or root after it, or a level letter, names no side."""
    got = parse_imaging_report("Canal stenosis at L4-5, L > R. Mild facet arthropathy L3 to L5.")
    sides = {f.side for f in got.findings if f.finding == "canal_stenosis"}
    assert sides == {"central"}  # the canal is a midline structure


def test_an_mri_summary_in_a_note_keeps_its_side() -> None:
    """The note reader's imaging sentences go through the same reader."""
    note = (
        "48F, L sciatica 5/52, EHL 4/5 L. MRI L-spine (private, 2/12 ago): L4/5 L paracentral "
        "extrusion compressing the traversing L5 root."
    )
    imaging = {(f.finding, f.level, f.side) for f in extract(note).imaging}
    assert ("disc_extrusion", "L4-L5", "left") in imaging
    assert ("nerve_root_compression", "L4-L5", "left") in imaging
