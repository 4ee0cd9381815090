"""Work-up on small hand-built evidence sets: what to order now, later, or not at all."""

from __future__ import annotations

from spineguide.reasoning.derive import derive_findings
from spineguide.reasoning.differential import rank_differential
from spineguide.reasoning.evidence import Evidence, EvidenceSet
from spineguide.reasoning.localization import localize
from spineguide.reasoning.triage import decide_urgency, evaluate_rules
from spineguide.reasoning.workup import build_workup


def _workup(kb, present, values=None, imaging_given=False):
    values = values or {}
    items = [Evidence(id=i) for i in present] + [Evidence(id=k, value=v) for k, v in values.items()]
    es = derive_findings(EvidenceSet(items=items), set())
    fired = evaluate_rules(es, kb)
    loc = localize(es, [], kb)
    fired_conditions = {r.condition: r.urgency.value for r in fired if r.condition}
    dx = rank_differential(es, [], loc, "primary", fired_conditions, kb)
    triage = decide_urgency(fired, dx, es, kb)
    return build_workup(dx, triage, es, imaging_given, kb)


def _tests(bucket):
    return {i.test for i in bucket}


def test_acute_nonspecific_back_pain_gets_no_imaging(kb) -> None:
    w = _workup(kb, ["low_back_pain", "axial_pain_only"], {"symptom_duration_days": 7})
    assert not _tests(w.now) & {"mri", "ct", "xray"}
    assert "mri" in _tests(w.not_recommended) or "xray" in _tests(w.not_recommended)


def test_cauda_equina_symptoms_get_emergency_mri_now(kb) -> None:
    w = _workup(
        kb, ["low_back_pain", "radicular_pain_below_knee", "saddle_anesthesia", "urinary_retention"]
    )
    assert "mri" in _tests(w.now)
    mri = next(i for i in w.now if i.test == "mri")
    assert mri.sources and mri.why


def test_infection_picture_gets_blood_tests_and_contrast_mri(kb) -> None:
    w = _workup(kb, ["low_back_pain", "fever", "injecting_drug_use", "crp"])
    now = _tests(w.now)
    assert {"esr", "crp", "blood_cultures"} <= now
    assert "mri_gadolinium" in now


def test_acute_window_comes_from_the_data(kb) -> None:
    days = kb.raw["workup"]["settings"]["acute_days"]
    present = ["low_back_pain", "radicular_pain", "leg_pain"]
    early = _workup(kb, present, {"symptom_duration_days": days - 1})
    late = _workup(kb, present, {"symptom_duration_days": days + 30})
    assert "mri" not in _tests(early.now)
    assert "mri" in _tests(early.if_no_improvement)
    assert "mri" in _tests(late.now)
