"""Clinicians' shorthand in MRI summaries: PID, NFN/NFS, CCS, LRS, facet OA, B/L, bilat, mod."""

from __future__ import annotations

import pytest

from spineguide.text.imaging import parse_imaging_report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PID L4/5.", {("disc_herniation", "L4-L5", "central", "unspecified")}),
        ("Mild B/L NFN at L5/S1.", {("foraminal_stenosis", "L5-S1", "bilateral", "mild")}),
        ("Mod bilat NFS L3/4.", {("foraminal_stenosis", "L3-L4", "bilateral", "moderate")}),
        ("Severe CCS at L3/4.", {("canal_stenosis", "L3-L4", "central", "severe")}),
        (
            "Bilateral LRS at L4/5.",
            {("lateral_recess_stenosis", "L4-L5", "bilateral", "unspecified")},
        ),
        ("Facet OA L3/4.", {("facet_arthropathy", "L3-L4", "bilateral", "unspecified")}),
        (
            "L4/5 R>L foraminal narrowing.",  # a comparison of the sides: both are narrowed
            {("foraminal_stenosis", "L4-L5", "bilateral", "unspecified")},
        ),
    ],
)
def test_shorthand_reads_as_the_finding(text: str, expected: set) -> None:
    """Each abbreviation gives the finding, level, side and grade a radiologist's words would."""
    found = {(f.finding, f.level, f.side, f.severity) for f in parse_imaging_report(text).findings}
    assert found == expected


def test_denied_shorthand_is_denied() -> None:
    """'No CCS or NFN' is a normal canal and foramina, not stenosis."""
    got = parse_imaging_report("L4/5: no CCS or NFN.")
    assert got.findings, "the denial is read, not skipped"
    assert all(f.negated for f in got.findings)


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Large L4/5 disc extrusion compressing the CE.", "cauda_equina_compression"),
        ("Severe canal stenosis with CE compression at L3/4.", "cauda_equina_compression"),
        ("L5/S1 PID, CES picture.", "cauda_equina_compression"),
        ("Pathological # L2.", "fracture"),
        ("Mets L1 and L3.", "bone_lesion"),
    ],
)
def test_red_flag_shorthand_is_read(text: str, finding: str) -> None:
    """Shorthand for cauda equina compression, a fracture or deposits is not lost."""
    found = {f.finding for f in parse_imaging_report(text).findings if not f.negated}
    assert finding in found


def test_ce_for_contrast_names_no_finding() -> None:
    """'CE' is also contrast-enhanced: with no compression word it names nothing."""
    assert parse_imaging_report("CE MRI lumbar spine: no abnormal enhancement.").findings == []


def test_cauda_equina_shorthand_in_a_note_triages_as_an_emergency() -> None:
    """An MRI summary in a note that says the CE is compressed is an emergency."""
    from spineguide.reasoning.assess import assess

    note = "44M, 4/7 bilateral sciatica. MRI today: large L4/5 disc extrusion compressing the CE."
    assert assess(note).triage.urgency.value == "emergency"
