"""The unvalidated Evidence builder (reader and derived findings) behaves like the model."""

from __future__ import annotations

import pytest

from spineguide.reasoning.evidence import Choice, Evidence, trusted_evidence


@pytest.mark.parametrize("side", [None, "left", "Right", "both", "bilaterally"])
def test_fast_evidence_equals_validated_evidence(side: str | None) -> None:
    fast = trusted_evidence(
        "ankle_reflex_reduced", Choice.absent, side, 3, (4, 15), "ankle jerk", "text", [(0, 2)]
    )
    slow = Evidence(
        id="ankle_reflex_reduced",
        choice=Choice.absent,
        side=side,
        value=3,
        span=(4, 15),
        text="ankle jerk",
        source="text",
        cue_spans=[(0, 2)],
    )
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert isinstance(fast.value, float)


def test_fast_evidence_rejects_an_unknown_side() -> None:
    with pytest.raises(ValueError, match="side must be"):
        trusted_evidence("leg_pain", Choice.present, "upper", None, (0, 3), "leg", "text")


def test_derived_evidence_defaults_match_the_model() -> None:
    fast = trusted_evidence("radicular_pain", Choice.present, "left", source="derived")
    slow = Evidence(id="radicular_pain", choice=Choice.present, side="left", source="derived")
    assert fast == slow
    fast.cue_spans.append((1, 2))  # each item owns its list
    assert trusted_evidence("x", Choice.absent).cue_spans == []


def test_trusted_model_equals_the_validated_model() -> None:
    from spineguide.reasoning.fastmodel import trusted_model
    from spineguide.reasoning.questions import NextQuestion

    values = {
        "finding_id": "saddle_anesthesia",
        "question": "Any numbness between the legs?",
        "why": "A yes would fire the cauda equina rule",
        "changes": "urgency",
        "gain": 0.667,
    }
    fast = trusted_model(NextQuestion, **values)
    slow = NextQuestion(**values)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set


def test_trusted_model_refuses_missing_or_unknown_fields() -> None:
    from spineguide.reasoning.fastmodel import trusted_model
    from spineguide.reasoning.questions import NextQuestion

    with pytest.raises(TypeError, match="missing fields \\['gain'\\]"):
        trusted_model(
            NextQuestion, finding_id="fever", question="Fever?", why="x", changes="urgency"
        )
    with pytest.raises(TypeError, match="unknown fields \\['colour'\\]"):
        trusted_model(
            NextQuestion,
            finding_id="fever",
            question="Fever?",
            why="x",
            changes="urgency",
            gain=0.1,
            colour="red",
        )


def test_build_models_equals_validated_models() -> None:
    from spineguide.reasoning.differential import EvidenceContribution
    from spineguide.reasoning.fastmodel import build_models, field_names

    rows = [
        {"id": "slr_positive", "label": "Positive SLR", "likelihood_ratio": 3.2,
         "detail": "present (left)", "source": "deville-2000"},
        {"id": "age_over_50", "label": "Age over 50", "likelihood_ratio": 0.6,
         "detail": "reported absent", "source": None},
    ]  # fmt: skip
    fast = build_models(
        EvidenceContribution, [dict(r) for r in rows], field_names(EvidenceContribution)
    )
    slow = [EvidenceContribution(**r) for r in rows]
    assert fast == slow
    assert [f.model_dump_json() for f in fast] == [s.model_dump_json() for s in slow]
    fast[0].detail = "changed"  # each instance owns its values
    assert fast[1].detail == "reported absent"
