"""Derived findings on small hand-built evidence sets (cut-offs come from thresholds.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import get_kb
from spineguide.reasoning.derive import check_thresholds, derive_findings, load_thresholds
from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
from spineguide.text.models import ImagingFinding


def ev(*items: str | tuple[str, str] | tuple[str, str, str | None] | Evidence) -> EvidenceSet:
    """Evidence set from ids ("fever"), (id, side) pairs or (id, choice, side) triples."""
    out = []
    for it in items:
        if isinstance(it, Evidence):
            out.append(it)
        elif isinstance(it, str):
            out.append(Evidence(id=it))
        elif len(it) == 2:
            out.append(Evidence(id=it[0], side=it[1]))
        else:
            out.append(Evidence(id=it[0], choice=Choice(it[1]), side=it[2]))
    return EvidenceSet(items=out)


def present(es: EvidenceSet, **kw: object) -> set[str]:
    return derive_findings(es, **kw).present_ids()  # type: ignore[arg-type]


def test_thresholds_reference_known_findings_and_sources() -> None:
    assert check_thresholds(get_kb()) == []


def test_bad_thresholds_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "thresholds.yaml"
    bad.write_text("age: [{id: age_over_50, op: gt, value: 50}]\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"thresholds\.yaml"):
        load_thresholds.__wrapped__(bad)


def test_age_bands_follow_the_data_cut_offs() -> None:
    t = load_thresholds()
    over_50 = next(c for c in t.age if c.id == "age_over_50")
    just_over = present(ev(Evidence(id="age", value=over_50.value + 1)))
    at_cut = present(ev(Evidence(id="age", value=over_50.value)))
    assert "age_over_50" in just_over and "age_over_50" not in at_cut
    child = present(ev(Evidence(id="age", value=9)))
    assert "age_under_18" in child and "age_over_50" not in child


def test_duration_gives_acute_course_and_onset_within_day() -> None:
    hours = present(ev(Evidence(id="symptom_duration_days", value=0.1)))
    assert {"acute_course", "onset_within_day"} <= hours
    months = present(ev(Evidence(id="symptom_duration_days", value=120)))
    assert "acute_course" not in months and "onset_within_day" not in months


def test_very_high_markers() -> None:
    out = present(ev(Evidence(id="crp", value=150), Evidence(id="esr", value=20)))
    assert "crp_very_high" in out and "esr_very_high" not in out
    assert "inflammatory_markers_raised" in out


def test_symmetric_reflex_loss_alone_is_not_bilateral_sciatica() -> None:
    out = present(ev(("achilles_reflex_reduced", "bilateral"), ("slr_positive", "right")))
    assert "bilateral_reflex_loss" in out
    assert "bilateral_sciatica" not in out


def test_pain_below_both_knees_is_bilateral_sciatica() -> None:
    out = present(ev(("lateral_leg_pain", "left"), ("posterior_calf_pain", "right")))
    assert "bilateral_sciatica" in out


def test_stable_chronic_bilateral_pain_is_not_new_bilateral_sciatica() -> None:
    assert "bilateral_sciatica" not in present(ev("bilateral_leg_pain", "chronic_course"))
    assert "bilateral_sciatica" in present(
        ev("bilateral_leg_pain", "chronic_course", "sudden_onset")
    )


def test_weakness_without_a_named_muscle_is_a_new_deficit() -> None:
    out = present(ev(("leg_weakness_reported", "left")))
    assert {"leg_weakness_any", "new_deficit"} <= out
    assert "new_deficit" not in present(ev("leg_weakness_reported", "chronic_course"))


def test_progressive_pain_beside_a_stable_graded_weakness_is_not_progressive_weakness() -> None:
    assert "progressive_weakness" not in present(
        ev("plantarflexion_weakness", "progressive_symptoms")
    )
    assert "progressive_weakness" in present(ev("leg_weakness_reported", "progressive_symptoms"))


def test_rapid_weakness_over_days_but_not_over_months() -> None:
    days = Evidence(id="symptom_duration_days", value=4)
    months = Evidence(id="symptom_duration_days", value=60)
    assert "weakness_worsening_over_days" in present(ev("rapidly_progressive_weakness", days))
    assert "weakness_worsening_over_days" not in present(ev("rapidly_progressive_weakness", months))


def test_improving_course_cancels_worsening() -> None:
    assert "worsening_course" in present(ev("progressive_symptoms"))
    assert "worsening_course" not in present(ev("progressive_symptoms", "improving_course"))


def test_cancer_history_by_tumour_type() -> None:
    text = "Basal cell carcinoma excised from the cheek last year."
    skin = Evidence(id="history_of_cancer", span=(11, 20), text="carcinoma")
    out = present(EvidenceSet(items=[skin]), text=text)
    assert "known_cancer" in out and "cancer_history_relevant" not in out
    text = "Treated for carcinoma of the prostate in 2019."
    prostate = Evidence(id="history_of_cancer", span=(12, 21), text="carcinoma")
    out = present(EvidenceSet(items=[prostate]), text=text)
    assert {"cancer_history_relevant", "cancer_bone_tropic"} <= out
    unknown = present(ev("history_of_cancer"))
    assert "cancer_history_relevant" in unknown and "cancer_bone_tropic" not in unknown


def test_unexplained_new_back_pain_versus_a_spinal_explanation() -> None:
    assert "back_pain_without_spinal_cause" in present(ev("flank_pain", "low_back_pain"))
    radicular = present(ev("low_back_pain", ("lateral_leg_pain", "left"), ("slr_positive", "left")))
    assert "back_pain_without_spinal_cause" not in radicular
    assert "back_pain_without_spinal_cause" not in present(ev("low_back_pain", "chronic_course"))


def test_antithrombotic_with_sudden_severe_pain() -> None:
    assert "antithrombotic_acute_severe_pain" in present(ev("anticoagulant_use", "severe_pain"))
    assert "antithrombotic_acute_severe_pain" not in present(
        ev("anticoagulant_use", "low_back_pain")
    )


def img(finding: str, level: str | None = None, text: str = "", **kw: object) -> ImagingFinding:
    return ImagingFinding(finding=finding, level=level, text=text, **kw)  # type: ignore[arg-type]


def test_imaging_fracture_kinds() -> None:
    burst = [img("fracture", "L1", "L1 burst fracture with retropulsion")]
    assert {"img_fracture", "img_fracture_canal_compromise"} <= present(ev(), imaging=burst)
    canal = [img("fracture", "L2", "L2 fracture"), img("canal_stenosis", "L2", "canal narrowing")]
    assert "img_fracture_canal_compromise" in present(ev(), imaging=canal)
    old = [img("fracture", "L1", "old healed L1 wedge fracture")]
    out = present(ev(), imaging=old)
    assert "img_fracture_old" in out and "img_fracture" not in out
    lesion = [img("fracture", "T9", "T9 collapse"), img("bone_lesion", "T9", "lytic lesion")]
    assert "img_pathological_fracture" in present(ev(), imaging=lesion)


def test_negated_imaging_finding_is_not_evidence() -> None:
    neg = [img("epidural_collection", "L3-L4", "no epidural collection", negated=True)]
    assert "img_epidural_collection" not in present(ev(), imaging=neg)


def test_psoas_haematoma_is_not_a_spinal_haematoma() -> None:
    psoas = [img("hematoma", None, "haematoma in the right iliopsoas muscle")]
    out = present(ev(), imaging=psoas)
    assert "img_iliopsoas_hematoma" in out and "img_hematoma" not in out


def test_legacy_imaging_ids_still_map() -> None:
    out = derive_findings(ev(), {"img:epidural_collection"}).present_ids()
    assert {"img_epidural_collection", "imaging_significant"} <= out
