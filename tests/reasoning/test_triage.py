"""Triage: red-flag rules fire on the right evidence, combinations escalate, and doubt errs urgent."""

from __future__ import annotations

import pytest

from spineguide.reasoning.assess import assess


def urgency(text: str) -> str:
    """Urgency for a free-text presentation."""
    return assess(text).triage.urgency.value


def fired(text: str) -> set[str]:
    """Ids of the red-flag rules that fired."""
    return {r.id for r in assess(text).triage.red_flags}


@pytest.mark.parametrize(
    "text",
    [
        "48M, sciatica for a week, today cannot pass urine and has numbness around the back passage.",
        "Woman of 39 with back pain and new faecal incontinence since this morning.",
        "Back pain and bilateral sciatica; on exam reduced anal tone and a palpable bladder.",
    ],
)
def test_cauda_equina_features_are_emergencies(text: str) -> None:
    assert urgency(text) == "emergency"
    assert "cauda_equina" in fired(text)


def test_negated_sphincter_symptoms_do_not_fire_ces() -> None:
    text = (
        "35F, 2 weeks of left sciatica. Denies saddle numbness, bladder and bowel function normal."
    )
    assert "cauda_equina" not in fired(text)
    assert urgency(text) == "routine"


def test_infection_escalates_to_emergency_with_weakness() -> None:
    base = "40M who injects heroin, 4 days of severe low back pain, temperature 38.7, CRP 150."
    assert "spinal_infection" in fired(base)
    assert urgency(base) == "urgent"
    assert urgency(base + " Since this morning both legs are weak.") == "emergency"


def test_known_cancer_with_new_back_pain_is_urgent_and_with_weak_legs_emergency() -> None:
    text = "66-year-old man with prostate cancer treated 3 years ago, 5 weeks of constant back pain at night."
    assert urgency(text) == "urgent"
    assert "malignancy" in fired(text)
    worse = text + " Now both legs have become weak and he is unsteady walking."
    assert urgency(worse) == "emergency"
    assert "malignant_cord_compression" in fired(worse)


def test_anticoagulated_patient_with_back_pain_and_weak_legs_is_emergency() -> None:
    text = "80-year-old on rivaroxaban, sudden severe back pain 3 hours ago, now both legs weak."
    assert urgency(text) == "emergency"
    assert "epidural_hematoma" in fired(text)


def test_progressive_foot_drop_is_at_least_urgent() -> None:
    text = "45M, left sciatica for 2 weeks; dorsiflexion 4/5 last week, today 2/5, foot slapping."
    assert urgency(text) in ("urgent", "emergency")
    assert "progressive_motor_deficit" in fired(text)


def test_steroid_user_with_sudden_pain_after_minor_fall_is_urgent() -> None:
    text = "82F on long-term prednisolone for COPD, fell at home onto her bottom, sudden severe low back pain."
    assert urgency(text) == "urgent"
    assert "fracture" in fired(text)


def test_simple_acute_back_pain_is_self_care() -> None:
    text = (
        "29-year-old man with low back pain for 3 days after moving house. No leg pain, no numbness, "
        "no weakness, no fever, bladder normal. Neurological exam normal."
    )
    a = assess(text)
    assert a.triage.urgency.value == "self_care"
    assert not [r for r in a.triage.red_flags if r.urgency.value in ("urgent", "emergency")]


def test_each_fired_rule_shows_evidence_with_spans_and_sources() -> None:
    text = "52M, sciatica, new difficulty starting his urine stream and numbness between his legs."
    a = assess(text)
    rule = next(r for r in a.triage.red_flags if r.id == "cauda_equina")
    assert rule.sources and rule.action
    assert {e.id for e in rule.evidence} >= {"bladder_dysfunction", "saddle_anesthesia"}
    for e in rule.evidence:
        assert e.span is not None and text[e.span[0] : e.span[1]] == e.text


# --- Hand-built evidence: each rule family, and unknown is not absent -------------------------

from spineguide.knowledge.loader import get_kb  # noqa: E402
from spineguide.reasoning.derive import derive_findings  # noqa: E402
from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet  # noqa: E402
from spineguide.reasoning.triage import (  # noqa: E402
    decide_urgency,
    evaluate_rules,
    rule_urgency,
    screen_status,
)
from spineguide.text.models import ImagingFinding  # noqa: E402


def _es(present: list[str], absent: list[str] = (), **values: float) -> EvidenceSet:  # type: ignore[assignment]
    items = [Evidence(id=i) for i in present]
    items += [Evidence(id=i, choice=Choice.absent) for i in absent]
    items += [Evidence(id=k, value=v) for k, v in values.items()]
    return EvidenceSet(items=items)


def _rules(es: EvidenceSet, imaging: list[ImagingFinding] | None = None) -> dict[str, str]:
    derived = derive_findings(es, imaging=imaging or [])
    return {r.id: r.urgency.value for r in evaluate_rules(derived, get_kb())}


@pytest.mark.parametrize(
    ("finding", "text"),
    [
        ("epidural_collection", "rim-enhancing epidural collection"),
        ("hematoma", "dorsal epidural haematoma"),
        ("cauda_equina_compression", "compression of the cauda equina"),
    ],
)
def test_imaging_confirmed_emergency_sets_urgency_alone(finding: str, text: str) -> None:
    image = [ImagingFinding(finding=finding, level="L3-L4", text=text)]  # type: ignore[arg-type]
    assert _rules(_es([]), image)["imaging_spinal_emergency"] == "emergency"


def test_imaging_deposits_without_deficit_are_urgent_and_escalate_with_fast_weakness() -> None:
    image = [ImagingFinding(finding="bone_lesion", level="L2", text="enhancing deposit")]
    assert _rules(_es(["low_back_pain"]), image)["imaging_urgent_lesion"] == "urgent"
    weak = _es(["low_back_pain", "rapidly_progressive_weakness"], symptom_duration_days=3)
    assert _rules(weak, image)["imaging_urgent_lesion"] == "emergency"


def test_anticoagulated_new_weakness_is_emergency_even_without_back_pain() -> None:
    got = _rules(_es(["anticoagulant_use", "leg_weakness_reported", "thigh_pain"]))
    assert got["epidural_hematoma"] == "emergency"


def test_anticoagulated_sudden_severe_back_pain_is_emergency() -> None:
    got = _rules(_es(["anticoagulant_use", "sudden_onset", "severe_pain", "thoracic_pain"]))
    assert got["anticoagulated_acute_spinal_pain"] == "emergency"


def test_antiplatelet_new_deficit_is_urgent() -> None:
    got = _rules(_es(["antiplatelet_use", "knee_extension_weakness", "sudden_onset"]))
    assert got["antiplatelet_acute_deficit_or_pain"] == "urgent"


def test_reported_weakness_is_urgent_and_bilateral_is_emergency() -> None:
    assert _rules(_es([("leg_weakness_reported")]))["reported_leg_weakness"] == "urgent"
    both = EvidenceSet(items=[Evidence(id="leg_weakness_reported", side="bilateral")])
    assert rule_urgency(derive_findings(both).present_ids(), get_kb()) == 3


def test_stable_single_muscle_weakness_stays_routine() -> None:
    es = _es(
        ["great_toe_extension_weakness", "radicular_pain_below_knee"], symptom_duration_days=20
    )
    assert rule_urgency(derive_findings(es).present_ids(), get_kb()) == 1


@pytest.mark.parametrize(
    "risk", ["injecting_drug_use", "dialysis", "immunosuppression", "recent_spinal_procedure"]
)
def test_strong_infection_risk_with_back_pain_is_urgent(risk: str) -> None:
    assert _rules(_es([risk, "low_back_pain"]))["spinal_infection"] == "urgent"


def test_markers_without_fever_are_used() -> None:
    es = _es(["low_back_pain", "constant_pain"], ["fever"], crp=160)
    assert _rules(es)["inflammatory_markers_back_pain"] == "urgent"


def test_diabetes_alone_with_back_pain_is_not_an_infection_flag() -> None:
    assert "spinal_infection_host_risk" not in _rules(_es(["diabetes", "low_back_pain"]))
    host = _rules(_es(["diabetes", "low_back_pain", "night_pain"]))
    assert host["spinal_infection_host_risk"] == "urgent"


def test_sepsis_signs_escalate_to_emergency() -> None:
    assert _rules(_es(["sepsis_signs", "low_back_pain"]))["sepsis_with_spinal_pain"] == "emergency"
    assert _rules(_es(["fever", "low_back_pain", "hypotension"]))["spinal_infection"] == "emergency"


def test_high_energy_trauma_with_spinal_pain_is_emergency() -> None:
    assert _rules(_es(["high_energy_trauma", "low_back_pain"]))["high_energy_injury"] == "emergency"


def test_older_new_flank_pain_without_spinal_cause_is_urgent() -> None:
    es = _es(["flank_pain", "low_back_pain", "smoker"], age=74, symptom_duration_days=3)
    assert _rules(es)["older_new_back_or_flank_pain"] == "urgent"
    young = _es(["flank_pain", "low_back_pain"], age=40, symptom_duration_days=3)
    assert "older_new_back_or_flank_pain" not in _rules(young)


def test_aneurysm_on_imaging_urgent_symptomatic_emergency() -> None:
    aaa = (
        [ImagingFinding(finding="aortic_aneurysm", text="6.1 cm infrarenal aneurysm")]
        if (
            "aortic_aneurysm" in ImagingFinding.model_fields["finding"].annotation.__args__  # type: ignore[union-attr]
        )
        else None
    )
    if aaa is None:
        pytest.skip("imaging reader does not produce aortic_aneurysm yet")
    chronic = _es(["low_back_pain", "chronic_course"])
    assert _rules(chronic, aaa)["aortic_aneurysm_imaging"] == "urgent"
    assert "aortic_aneurysm_symptomatic" not in _rules(chronic, aaa)
    new = _es(["low_back_pain"], symptom_duration_days=5)
    assert _rules(new, aaa)["aortic_aneurysm_symptomatic"] == "emergency"


def test_cancer_history_with_back_pain_is_urgent_but_not_for_basal_cell() -> None:
    assert _rules(_es(["history_of_cancer", "low_back_pain"]))["malignancy"] == "urgent"


def test_child_with_night_pain_is_urgent() -> None:
    got = _rules(_es(["low_back_pain", "night_pain"], age=11))
    assert got["child_back_pain_concerning"] == "urgent"


def test_screen_needs_cauda_equina_and_one_other_domain() -> None:
    assert not screen_status(derive_findings(_es(["low_back_pain"]))).complete
    only_ces = _es(["low_back_pain"], ["saddle_anesthesia"])
    assert not screen_status(derive_findings(only_ces)).complete
    full = _es(["low_back_pain", "neuro_exam_normal"], ["saddle_anesthesia"])
    assert screen_status(derive_findings(full)).complete


def test_unknown_is_not_absent_end_to_end() -> None:
    bare = assess("34-year-old man, two days of low back pain after digging the garden.")
    assert bare.triage.urgency.value == "routine"
    assert bare.triage.unanswered_red_flags
    screened = assess(
        "34-year-old man, two days of low back pain after digging the garden. No saddle numbness, "
        "bladder and bowels normal, no leg weakness or numbness, no fever."
    )
    assert screened.triage.urgency.value == "self_care"
    assert screened.triage.unanswered_red_flags == []


def test_uninterpreted_text_rules_out_self_care() -> None:
    kb = get_kb()
    es = derive_findings(_es(["low_back_pain", "neuro_exam_normal"], ["saddle_anesthesia"]))
    fired_rules = evaluate_rules(es, kb)
    from spineguide.reasoning.differential import rank_differential
    from spineguide.reasoning.localization import localize

    loc = localize(es, [], kb)
    dx = rank_differential(es, [], loc, "primary", {}, kb)
    assert decide_urgency(fired_rules, dx, es, kb).urgency.value == "self_care"
    held = decide_urgency(fired_rules, dx, es, kb, uninterpreted=True)
    assert held.urgency.value == "routine"


def test_every_escalation_finding_is_known() -> None:
    kb = get_kb()
    for rule in kb.raw["red_flags"]["rules"]:
        unknown = [f for f in rule.get("escalate_with", []) if f not in kb.findings]
        assert not unknown, f"{rule['id']}: unknown escalate_with ids {unknown}"


def test_sudden_back_pain_with_new_reported_weakness_is_emergency() -> None:
    got = _rules(_es(["sudden_onset", "low_back_pain", "leg_weakness_reported"]))
    assert got["sudden_pain_with_new_weakness"] == "emergency"
    graded = _rules(_es(["sudden_onset", "low_back_pain", "knee_extension_weakness"]))
    assert "sudden_pain_with_new_weakness" not in graded
