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
