"""The note reader's unvalidated Evidence builder behaves like the validated model."""

from __future__ import annotations

import pytest

from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.clinical import _evidence


@pytest.mark.parametrize("side", [None, "left", "Right", "both", "bilaterally"])
def test_fast_evidence_equals_validated_evidence(side: str | None) -> None:
    fast = _evidence(
        "ankle_reflex_reduced", Choice.absent, side, 3, (4, 15), "ankle jerk", [(0, 2)]
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
        _evidence("leg_pain", Choice.present, "upper", None, (0, 3), "leg", [])
