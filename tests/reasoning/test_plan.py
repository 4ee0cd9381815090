"""Care plan: referral groups and display limits come from plan.yaml."""

from __future__ import annotations

from spineguide.reasoning.plan import build_plan


def test_stenosis_group_gets_the_stenosis_referral_criteria(kb) -> None:
    plan = build_plan("lumbar-spinal-stenosis", kb, {})
    expected = [c["text"] for c in kb.raw["plan"]["referral_criteria"]["stenosis"]]
    assert plan.referral_criteria == expected


def test_epidural_lipomatosis_is_treated_as_stenosis(kb) -> None:
    assert "epidural-lipomatosis" in kb.raw["plan"]["stenosis_group"]
    plan = build_plan("epidural-lipomatosis", kb, {})
    assert plan.referral_criteria == [
        c["text"] for c in kb.raw["plan"]["referral_criteria"]["stenosis"]
    ]


def test_radicular_diagnosis_gets_the_radicular_criteria(kb) -> None:
    plan = build_plan("disc-herniation", kb, {})
    assert any("cauda equina" in c.lower() for c in plan.referral_criteria)


def test_display_limits_come_from_the_data(kb) -> None:
    cfg = kb.raw["plan"]
    plan = build_plan("nonspecific-low-back-pain", kb, {})
    assert len(plan.dos) <= cfg["max_list_items"]
    assert len(plan.seek_help) <= cfg["max_seek_help_items"]
    for step in plan.steps:
        assert len(step.items) <= cfg["max_items_per_tier"]
        assert len(step.advice) <= cfg["max_advice_items"]
