"""Intradural disc herniation versus intradural tumour: the wording that tells them apart.

Every sentence here is written for this file (no case-set text).
"""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess
from spineguide.text.pipeline import extract


def _present(text: str) -> set[str]:
    return {e.id for e in extract(text).evidence if e.choice == "present"}


def _ranked(text: str) -> list[str]:
    return [d.id for d in assess(text).differential]


@pytest.mark.parametrize(
    "text",
    [
        "MRI: intradural lesion at L4 extending into the L4-5 disc space.",
        "MRI shows an intradural rim-enhancing mass in continuity with the degenerate L3/4 disc.",
        "Intradural fragment at L5, contiguous with the parent disc.",
        "The extruded disc fragment has migrated through the dura into the thecal sac.",
    ],
)
def test_an_intradural_lesion_joined_to_a_disc_is_read(text: str) -> None:
    found = _present(text)
    assert "imaging_intradural_disc_contiguous" in found
    assert "imaging_intradural" in found


@pytest.mark.parametrize(
    "text",
    [
        "MRI: intradural extramedullary mass at the L2-3 disc level, enhancing avidly.",
        "Intradural schwannoma at L3 displacing the roots; discs are desiccated.",
        "No intradural lesion extending to the disc.",
    ],
)
def test_a_tumour_merely_at_a_disc_level_is_not_read_as_disc_continuity(text: str) -> None:
    assert "imaging_intradural_disc_contiguous" not in _present(text)


def test_disc_continuity_puts_intradural_herniation_above_tumour() -> None:
    text = (
        "50M with six weeks of back pain and left sciatica, much worse since yesterday; SLR "
        "positive on the left. MRI: enhancing intradural lesion behind L3 extending into the "
        "L3-4 disc space, displacing the roots of the cauda equina."
    )
    ranked = _ranked(text)
    assert "intradural-disc-herniation" in ranked[:3]
    if "intradural-tumour" in ranked:
        assert ranked.index("intradural-disc-herniation") < ranked.index("intradural-tumour")


def test_an_intradural_mass_without_disc_continuity_stays_a_tumour() -> None:
    text = (
        "58F with a year of slowly worsening back pain, worse at night, and pain down both legs. "
        "MRI: enhancing intradural extramedullary mass at L1-2, 2 cm."
    )
    assert _ranked(text)[0] == "intradural-tumour"
