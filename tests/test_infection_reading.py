"""Spinal infection: the clinical-note and imaging-report wording families the readers recognise.

Every sentence here is written for this file (no case-set text).
"""

from __future__ import annotations

import pytest

from spineguide.text.imaging import parse_imaging_report
from spineguide.text.pipeline import extract


def _present(text: str) -> set[str]:
    return {e.id for e in extract(text).evidence if e.choice == "present"}


def _absent(text: str) -> set[str]:
    return {e.id for e in extract(text).evidence if e.choice == "absent"}


def _imaging(text: str) -> dict[str, bool]:
    """finding id -> negated, for each finding the report reader gives."""
    return {f.finding: f.negated for f in parse_imaging_report(text).findings}


# --- clinical notes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Lower back pain for a week; temperature spikes to 39 in the evenings.",
        "Back pain and spiking temperatures overnight on the ward.",
        "Lumbar pain with hot and cold spells since the weekend.",
    ],
)
def test_fever_wording_without_the_word_fever(text: str) -> None:
    assert "fever" in _present(text)


def test_denied_high_temperature_is_fever_absent() -> None:
    assert "fever" in _absent("Back pain for two weeks. No high temperature.")


@pytest.mark.parametrize(
    "text",
    [
        "Back pain. Bloods show an elevated white cell count and CRP.",
        "Thoracolumbar pain; his inflammatory markers are markedly raised.",
    ],
)
def test_inflammatory_markers_stated_high_in_words(text: str) -> None:
    assert "crp" in _present(text)


def test_inflammatory_markers_stated_normal_are_absent() -> None:
    absent = _absent("Back pain after gardening. Inflammatory markers normal.")
    assert {"crp", "esr"} <= absent


def test_raised_white_count_in_words() -> None:
    assert "wbc" in _present("Severe back pain, neutrophilia on the blood film.")
    assert "wbc" in _present("Back pain. Marked leucocytosis.")


@pytest.mark.parametrize(
    "text",
    [
        "Low back pain. Treated for an MSSA bacteraemia a month ago.",
        "New back pain; admitted last week with Staph aureus bacteremia from a cannula.",
    ],
)
def test_bacteraemia_named_by_organism_is_a_positive_culture(text: str) -> None:
    assert "blood_culture_positive" in _present(text)


def test_current_endocarditis_is_a_bacteraemia() -> None:
    assert "blood_culture_positive" in _present(
        "Mid-back pain; she is on IV antibiotics for infective endocarditis."
    )
    old = _present("Back pain. Endocarditis treated in 2009.")
    assert "blood_culture_positive" not in old and "recent_infection" in old


@pytest.mark.parametrize(
    "text",
    [
        "Back pain since a spinal cord stimulator was implanted three weeks ago.",
        "Low back pain after insertion of an intrathecal baclofen pump last month.",
    ],
)
def test_implanted_spinal_devices_are_recent_procedures(text: str) -> None:
    assert "recent_spinal_procedure" in _present(text)


def test_bacteraemia_without_an_organism_stays_an_infection_source_only() -> None:
    found = _present("Back pain. History of a bacteraemia years ago.")
    assert "blood_culture_positive" not in found


@pytest.mark.parametrize(
    "text",
    [
        "Lumbar pain. Recently had a septic arthritis of the knee washed out.",
        "Back pain; he has an infected foot ulcer on antibiotics.",
        "Back pain two weeks after prostatitis.",
        "Flank and back pain; treated for two urinary infections this spring.",
        "Back pain since a kidney infection in March.",
    ],
)
def test_other_bacterial_sources(text: str) -> None:
    assert "recent_infection" in _present(text)


@pytest.mark.parametrize(
    "text",
    [
        "Back pain. Tender to percussion over L3.",
        "Back pain with pain on spinal percussion at the thoracolumbar junction.",
    ],
)
def test_percussion_tenderness_is_spinal_tenderness(text: str) -> None:
    assert "spinal_tenderness" in _present(text)


# --- imaging reports --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "At L2-3 there is loss of the endplate cortical lines with adjacent marrow oedema.",
        "Erosion of the L5 superior endplate with enhancing marrow.",
        "At L3-4 the disc shows high T2 signal in the disc with eroded endplates.",
        "The T11 and T12 endplates are eroded.",
    ],
)
def test_infection_described_by_signal_reads_as_discitis(text: str) -> None:
    found = _imaging(text)
    assert found.get("discitis") is False
    assert found.get("bone_lesion") is False  # the 22-id contract reading is kept


def test_endplate_erosion_denied_is_negated() -> None:
    assert _imaging("No endplate erosion or paravertebral collection.").get("discitis") is True


def test_destruction_by_a_deposit_is_not_discitis() -> None:
    found = _imaging("Lytic destruction of the L2 vertebral body reaching the superior endplate.")
    assert "discitis" not in found
    assert found.get("bone_lesion") is False


def test_degenerate_endplates_are_not_discitis() -> None:
    found = _imaging("Modic type 1 endplate change at L4-5 with a Schmorl node.")
    assert "discitis" not in found


@pytest.mark.parametrize(
    "text",
    [
        "Small paraspinal collection on the right at L3.",
        "Rim-enhancing collection in the left psoas muscle.",
        "Fluid collection in the right psoas.",
    ],
)
def test_collections_named_by_place_are_psoas_or_paraspinal_abscess(text: str) -> None:
    found = _imaging(text)
    assert found.get("psoas_abscess") is False
    assert "epidural_collection" not in found


def test_epidural_collection_with_fat_signal_is_lipomatosis() -> None:
    found = _imaging(
        "Posterior epidural collection from L4 to S1, bright on T1 and T2, which suppresses on "
        "STIR in keeping with fat, narrowing the thecal sac."
    )
    assert found.get("epidural_lipomatosis") is False
    assert "epidural_collection" not in found


def test_abscess_beside_epidural_fat_stays_a_collection() -> None:
    found = _imaging(
        "Rim-enhancing ventral epidural collection at L3-4 effacing the epidural fat on the "
        "fat-suppressed post-contrast images."
    )
    assert found.get("epidural_collection") is False
    assert "epidural_lipomatosis" not in found


def test_anti_tnf_treatment_is_immunosuppression() -> None:
    assert "immunosuppression" in _present("Back pain; on anti-TNF therapy for colitis.")


def test_injecting_into_the_groin_is_injecting_drug_use() -> None:
    assert "injecting_drug_use" in _present("Back pain. He injects into his groin most days.")
    assert "injecting_drug_use" not in _present("Back pain. She injects insulin into her abdomen.")


def test_pain_not_eased_by_lying_is_not_mechanical_relief() -> None:
    found = _present("Thoracic back pain, constant, not relieved by lying flat.")
    assert "pain_relieved_lying" not in found
    assert "pain_relieved_lying" in _present("Back pain, eased by lying flat.")
