"""Spinal infection: how the differential weighs the infection evidence, and where it must not.

Every presentation here is written for this file (no case-set text).
"""

from __future__ import annotations

from ranking_helpers import diagnosis, factors
from ranking_helpers import ranked as ranking
from spineguide.reasoning.derive import load_thresholds


def test_the_extreme_marker_bands_are_knowledge_data_cut_offs() -> None:
    labs = {c.id: c for c in load_thresholds().labs}
    assert labs["crp_extreme"].value == 100 and labs["crp_extreme"].lab == "crp"
    assert labs["esr_extreme"].value == 100 and labs["esr_extreme"].lab == "esr"


def test_a_crp_over_100_counts_once_at_its_own_band() -> None:
    f = factors("38F, three months of low back pain. CRP 190, afebrile.", "spinal-infection")
    assert "crp_extreme" in f
    assert "crp_very_high" not in f and "crp" not in f  # one observation, strongest band


def test_a_crp_of_60_keeps_the_lower_band() -> None:
    f = factors("38F, three months of low back pain. CRP 60, afebrile.", "spinal-infection")
    assert "crp_very_high" in f and "crp_extreme" not in f


def test_very_high_markers_in_a_young_adult_rank_infection_above_spondyloarthritis() -> None:
    text = (
        "26M with five months of lumbar pain and stiffness, no fever. Treated twice for a "
        "urinary infection this year. CRP 210, ESR 110."
    )
    ranked = ranking(text)
    assert ranked.index("spinal-infection") < ranked.index("axial-spondyloarthritis")


def test_mildly_raised_crp_in_a_young_adult_still_suggests_spondyloarthritis() -> None:
    text = (
        "26M with five months of inflammatory low back pain and morning stiffness over an hour, "
        "better with exercise. CRP 14."
    )
    ranked = ranking(text)
    assert ranked.index("axial-spondyloarthritis") < ranked.index("spinal-infection")


def test_worsening_pain_after_a_spinal_injection_ranks_infection_first() -> None:
    text = (
        "66-year-old woman; since a transforaminal epidural injection two weeks ago her back pain "
        "has been getting worse and wakes her at night. Apyrexial. ESR 75."
    )
    assert ranking(text)[0] == "spinal-infection"


def test_the_same_pain_without_the_procedure_is_not_called_infection() -> None:
    text = (
        "66-year-old woman; her back pain has been getting worse for two weeks and wakes her at "
        "night. Apyrexial. ESR 75."
    )
    assert ranking(text)[0] != "spinal-infection"


def test_a_procedure_yesterday_takes_back_the_procedure_weight() -> None:
    text = (
        "Day 1 after a lumbar microdiscectomy under general anaesthesia, on enoxaparin; sudden "
        "severe back pain this afternoon and now both legs are weak."
    )
    f = factors(text, "spinal-infection")
    assert f.get("spinal_procedure_within_2_days") == 0.1
    ranked = ranking(text)
    assert ranked.index("spinal-epidural-hematoma") < ranked.index("spinal-infection")


def test_mri_signal_description_of_discitis_carries_the_diagnosis() -> None:
    text = (
        "55M, six weeks of worsening thoracolumbar pain and sweats. MRI: T12-L1 disc T2 "
        "hyperintensity with erosion of both endplates and enhancing marrow oedema."
    )
    d = diagnosis(text, "spinal-infection")
    assert ranking(text)[0] == "spinal-infection"
    assert d.probability > 0.9


def test_epidural_fat_on_mri_is_lipomatosis_not_abscess() -> None:
    text = (
        "58M on long-term prednisolone with bilateral leg heaviness on walking. MRI: dorsal "
        "epidural collection L3 to S1 that follows fat signal on every sequence, crowding the "
        "thecal sac."
    )
    ranked = ranking(text)
    assert ranked.index("epidural-lipomatosis") < ranked.index("spinal-infection")
