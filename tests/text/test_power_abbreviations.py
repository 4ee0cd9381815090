"""Power written with the ankle abbreviations (DF, PF, "DF/PF 5/5") is read as those muscles, so a
grade after another muscle is not taken over by the ankle grades that follow it."""

from __future__ import annotations

from spineguide.text.pipeline import extract


def _power(text: str) -> dict[str, tuple[str, float | None]]:
    return {
        e.id: (e.choice.value, e.value)
        for e in extract(text).evidence
        if e.id.endswith("_weakness") and e.id != "severe_weakness"
    }


def test_normal_ankle_grades_do_not_cancel_the_grade_before_them() -> None:
    """'hip adduction 4+/5, DF/PF 5/5': adduction is weak, the ankle is normal."""
    got = _power("Exam: quads 4/5 on the left, hip adduction 4+/5, DF/PF 5/5.")
    assert got["hip_adduction_weakness"] == ("present", 4.0)
    assert got["ankle_dorsiflexion_weakness"][0] == "absent"
    assert got["plantarflexion_weakness"][0] == "absent"


def test_weak_dorsiflexion_by_abbreviation() -> None:
    """'DF 3/5' is graded weak dorsiflexion; 'PF 5/5' beside it is normal."""
    got = _power("Power on the right: DF 3/5, PF 5/5.")
    assert got["ankle_dorsiflexion_weakness"] == ("present", 3.0)
    assert got["plantarflexion_weakness"][0] == "absent"


def test_other_uses_of_the_letters_are_not_power() -> None:
    """Patellofemoral ('PF joint') and words containing the letters are not ankle power."""
    got = _power("PF joint pain in the right knee after running; no back pain.")
    assert "plantarflexion_weakness" not in got and "ankle_dorsiflexion_weakness" not in got
