"""Clinical free-text extraction: the team's snippet corpus plus focused unit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spineguide.reasoning.evidence import Choice, Evidence
from spineguide.text.clinical import extract_clinical_evidence

CORPUS_PATH = Path(__file__).parent.parent / "data" / "clinical_snippets.jsonl"
CORPUS: list[dict[str, Any]] = [
    json.loads(line)
    for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _close(expected: float, actual: float | None) -> bool:
    """Numeric match within 1 unit or 2 %, whichever is larger."""
    return actual is not None and abs(actual - expected) <= max(1.0, 0.02 * abs(expected), 0.011)


def _matches(item: Evidence, want: dict[str, Any]) -> bool:
    if item.id != want["id"] or item.choice.value != want["choice"]:
        return False
    if "side" in want and item.side != want["side"]:
        return False
    if "value" in want:
        tol = max(0.011, 0.02 * abs(want["value"])) if abs(want["value"]) < 20 else None
        if tol is not None:
            return item.value is not None and abs(item.value - want["value"]) <= tol
        return _close(want["value"], item.value)
    return True


def _present(items: list[Evidence], fid: str) -> bool:
    return any(e.id == fid and e.choice == Choice.present for e in items)


def _describe(items: list[Evidence]) -> str:
    return "\n".join(
        f"  {e.id} {e.choice.value} side={e.side} value={e.value} {e.text!r}" for e in items
    )


def test_corpus_is_large_and_unique() -> None:
    ids = [row["id"] for row in CORPUS]
    assert len(ids) >= 70
    assert len(set(ids)) == len(ids)


def _text_red_flag_findings() -> set[str]:
    """Finding ids the red-flag rules use that a clinical note can state directly.

    Derived findings (computed from others, findings/derived.yaml) and imaging findings are
    produced elsewhere, so the text corpus does not need to cover them.
    """
    import yaml

    from spineguide.knowledge.loader import get_kb

    kb = get_kb()
    data = kb_data_dir()
    rules = yaml.safe_load((data / "red_flags.yaml").read_text(encoding="utf-8"))["rules"]
    derived = {
        f["id"]
        for f in yaml.safe_load((data / "findings" / "derived.yaml").read_text(encoding="utf-8"))
    }
    used: set[str] = set()
    for rule in rules:
        for group in rule["all"]:
            used.update(group["any"])
        used.update(rule.get("escalate_with", []))
    return {
        fid
        for fid in used - derived
        if fid in kb.findings and getattr(kb.findings[fid].kind, "value", None) != "imaging"
    }


def test_corpus_covers_every_red_flag_finding() -> None:
    from spineguide.knowledge.loader import get_kb

    covered = {
        want["id"] for row in CORPUS for want in row["expected"] if want["choice"] == "present"
    }
    missing = sorted(_text_red_flag_findings() - covered)
    assert not missing, f"red-flag findings without a positive corpus example: {missing}"
    kb = get_kb()
    every = {want["id"] for row in CORPUS for want in row["expected"]} | {
        fid for row in CORPUS for fid in row["not_expected"]
    }
    unknown = sorted(every - set(kb.findings) - {"family_history_spa"})
    assert not unknown, f"corpus uses unknown finding ids: {unknown}"


def kb_data_dir() -> Path:
    """Directory holding the knowledge-base data files."""
    import spineguide.knowledge.loader as loader

    return Path(loader.__file__).parent / "data"


@pytest.mark.parametrize("row", CORPUS, ids=[row["id"] for row in CORPUS])
def test_corpus_snippet(row: dict[str, Any]) -> None:
    items = extract_clinical_evidence(row["text"])
    missing = [want for want in row["expected"] if not any(_matches(e, want) for e in items)]
    assert not missing, f"missing {missing}\nextracted:\n{_describe(items)}"
    wrong = [fid for fid in row["not_expected"] if _present(items, fid)]
    assert not wrong, f"should not be present: {wrong}\nextracted:\n{_describe(items)}"


# --------------------------------------------------------------------------------------------
# Focused unit tests
# --------------------------------------------------------------------------------------------


def _get(text: str, fid: str) -> list[Evidence]:
    return [e for e in extract_clinical_evidence(text) if e.id == fid]


def _choice(text: str, fid: str) -> str | None:
    items = _get(text, fid)
    if any(e.choice == Choice.present for e in items):
        return "present"
    return items[0].choice.value if items else None


def test_empty_and_whitespace() -> None:
    assert extract_clinical_evidence("") == []
    assert extract_clinical_evidence("   \n\t ") == []


def test_spans_point_at_source_text() -> None:
    text = "61M with saddle numbness and CRP 88."
    for e in extract_clinical_evidence(text):
        assert e.span is not None
        start, end = e.span
        assert text[start:end] == e.text


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("Denies saddle anaesthesia.", "absent"),
        ("No saddle numbness.", "absent"),
        ("Without saddle numbness.", "absent"),
        ("Saddle numbness since last night.", "present"),
        ("He denies back pain but reports saddle numbness.", "present"),
    ],
)
def test_negation_scope(text: str, choice: str) -> None:
    assert _choice(text, "saddle_anesthesia") == choice


def test_negation_does_not_cross_sentence() -> None:
    assert _choice("No fever. Night sweats for a week.", "night_sweats") == "present"
    assert _choice("No fever. Night sweats for a week.", "fever") == "absent"


def test_list_negation() -> None:
    text = "No fever, weight loss or night sweats."
    for fid in ("fever", "weight_loss", "night_sweats"):
        assert _choice(text, fid) == "absent", fid
    text = "Denies fever, rigors, weight loss, night sweats or night pain."
    for fid in ("fever", "weight_loss", "night_sweats", "night_pain"):
        assert _choice(text, fid) == "absent", fid


def test_post_negation() -> None:
    assert _choice("Bladder and bowel function normal.", "bladder_dysfunction") == "absent"
    assert _choice("SLR negative on the right.", "slr_positive") == "absent"


def test_family_context() -> None:
    items = extract_clinical_evidence("Mother has psoriasis.")
    assert _present(items, "family_history_spa")
    assert not _present(items, "psoriasis_ibd_uveitis")
    assert _choice("Sister has breast cancer.", "history_of_cancer") is None
    assert (
        _choice("She has psoriasis; her mother has Crohn's.", "psoriasis_ibd_uveitis") == "present"
    )


def test_laterality_carried_across_sentence() -> None:
    text = "Right leg pain radiating to the top of the foot, with numbness over the big toe and weak EHL 4/5."
    items = extract_clinical_evidence(text)
    for fid in (
        "leg_pain",
        "dorsal_foot_pain",
        "sensory_loss_dorsal_foot",
        "great_toe_extension_weakness",
    ):
        sides = {e.side for e in items if e.id == fid and e.choice == Choice.present}
        assert sides == {"right"}, (fid, sides)


def test_laterality_abbreviations() -> None:
    assert {e.side for e in _get("KJ absent L.", "patellar_reflex_reduced")} == {"left"}
    assert {e.side for e in _get("R ankle DF 4/5.", "ankle_dorsiflexion_weakness")} == {"right"}
    assert {e.side for e in _get("Absent ankle jerks bilaterally.", "achilles_reflex_reduced")} == {
        "bilateral"
    }


@pytest.mark.parametrize(
    ("text", "grade"),
    [("Quads 4/5 on the left.", 4.0), ("Knee extension 4+/5 L.", 4.0), ("Quadriceps 3/5.", 3.0)],
)
def test_mrc_grades(text: str, grade: float) -> None:
    items = _get(text, "knee_extension_weakness")
    assert items and items[0].choice == Choice.present and items[0].value == grade


def test_grade_five_is_normal() -> None:
    assert _choice("Knee extension 5/5.", "knee_extension_weakness") == "absent"


def test_severe_weakness_threshold() -> None:
    assert _choice("Ankle dorsiflexion 3/5 on the right.", "severe_weakness") == "present"
    assert _choice("Ankle dorsiflexion 2/5 on the right.", "severe_weakness") == "present"
    assert _choice("Ankle dorsiflexion 4/5 on the right.", "severe_weakness") is None


def test_progression() -> None:
    text = "Ankle dorsiflexion 4/5 on Monday, now 2/5."
    assert _choice(text, "rapidly_progressive_weakness") == "present"
    assert _get(text, "ankle_dorsiflexion_weakness")[0].value == 2.0
    assert (
        _choice("Ankle dorsiflexion 2/5 last week, now 4/5.", "rapidly_progressive_weakness")
        is None
    )


@pytest.mark.parametrize(
    ("text", "fid", "choice"),
    [
        ("Knee jerk absent.", "patellar_reflex_reduced", "present"),
        ("Reduced ankle jerk.", "achilles_reflex_reduced", "present"),
        ("Knee jerks brisk.", "patellar_reflex_reduced", "absent"),
        ("Knee jerks brisk.", "hyperreflexia", "present"),
        ("Brisk reflexes are absent.", "hyperreflexia", "absent"),
        ("Ankle jerks present and symmetrical.", "achilles_reflex_reduced", "absent"),
        ("Reflexes normal.", "patellar_reflex_reduced", "absent"),
    ],
)
def test_reflex_polarity(text: str, fid: str, choice: str) -> None:
    assert _choice(text, fid) == choice


@pytest.mark.parametrize(
    ("text", "angle", "side"),
    [
        ("SLR +ve at 40° R.", 40.0, "right"),
        ("Straight leg raise positive on the left at 35 degrees.", 35.0, "left"),
        ("Left SLR 60 deg, positive.", 60.0, "left"),
    ],
)
def test_slr_angle(text: str, angle: float, side: str) -> None:
    items = [e for e in _get(text, "slr_positive") if e.choice == Choice.present]
    assert items and items[0].value == angle and items[0].side == side


def test_slr_negative_has_no_angle() -> None:
    items = _get("SLR negative to 80 degrees bilaterally.", "slr_positive")
    assert items and items[0].choice == Choice.absent


@pytest.mark.parametrize(
    ("text", "fid", "choice", "value"),
    [
        ("CRP 112", "crp", "present", 112.0),
        ("CRP 4", "crp", "absent", 4.0),
        ("ESR 65", "esr", "present", 65.0),
        ("ESR 10", "esr", "absent", 10.0),
        ("WCC 15.2", "wbc", "present", 15.2),
        ("WBC 6.1", "wbc", "absent", 6.1),
        ("Corrected calcium 2.90", "serum_calcium", "present", 2.9),
        ("Calcium 2.35", "serum_calcium", "absent", 2.35),
        ("PTH 12.5", "pth", "present", 12.5),
        ("PTH 3.1", "pth", "absent", 3.1),
        ("HbA1c 78", "hba1c", "present", 78.0),
        ("HbA1c 40 mmol/mol", "hba1c", "absent", 40.0),
        ("T 38.6", "fever", "present", 38.6),
        ("Temp 36.8", "fever", "absent", 36.8),
    ],
)
def test_lab_thresholds(text: str, fid: str, choice: str, value: float) -> None:
    items = _get(text, fid)
    assert items, text
    assert items[0].choice.value == choice
    assert items[0].value == pytest.approx(value, abs=0.05)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("3 weeks of back pain", 21.0),
        ("10-day history of leg pain", 10.0),
        ("back pain for the last 2 months", 60.8),
        ("3/52 of back pain", 21.0),
        ("Leg pain x 2/7", 2.0),
        ("6/12 history of back pain", 182.4),
        ("sciatica for a fortnight", 14.0),
        ("started 4 days ago", 4.0),
    ],
)
def test_duration(text: str, days: float) -> None:
    items = _get(text, "symptom_duration_days")
    assert items and items[0].value == pytest.approx(days, abs=0.5)


def test_mrc_grade_is_not_a_duration() -> None:
    assert not _get("Quads 4/5 left.", "symptom_duration_days")


def test_chronic_course() -> None:
    assert _choice("Back pain for 6 months.", "chronic_course") == "present"
    assert _choice("Back pain for 2 weeks.", "chronic_course") is None


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("54F, back pain", 54.0, "sex_female"),
        ("A 67-year-old man", 67.0, "sex_male"),
        ("Mrs K, aged 80, fell", 80.0, "sex_female"),
        ("35 yo male labourer", 35.0, "sex_male"),
    ],
)
def test_demographics(text: str, age: float, sex: str) -> None:
    items = extract_clinical_evidence(text)
    assert any(e.id == "age" and e.value == age for e in items)
    assert _present(items, sex)


def test_history_is_not_current() -> None:
    items = extract_clinical_evidence("Sciatica in 2012 that resolved. No current leg symptoms.")
    assert not _present(items, "radicular_pain_below_knee")
    assert any(e.history for e in items if e.id == "radicular_pain_below_knee")
    assert _present(extract_clinical_evidence("Previous breast cancer."), "history_of_cancer")


def test_retention_phrases() -> None:
    assert _choice("Has not passed urine since yesterday.", "urinary_retention") == "present"
    assert _choice("No urinary retention.", "urinary_retention") == "absent"


def test_lying_on_side_is_not_night_pain() -> None:
    assert _choice("Pain lying on that side at night.", "night_pain") is None


def test_pain_free_movement_is_not_back_pain() -> None:
    assert not _present(extract_clinical_evidence("Pain-free back movements."), "low_back_pain")


def test_treated_uti_is_recent_infection() -> None:
    items = extract_clinical_evidence("Treated for a UTI two weeks ago.")
    assert _present(items, "recent_infection")
    assert not _present(items, "bladder_dysfunction")


EXAM_AND_LAB_FINDINGS = {
    "hip_flexion_weakness", "hip_adduction_weakness", "knee_extension_weakness",
    "ankle_dorsiflexion_weakness", "great_toe_extension_weakness", "plantarflexion_weakness",
    "foot_eversion_weakness", "foot_inversion_weakness", "hip_abduction_weakness",
    "hip_extension_weakness", "knee_flexion_weakness", "severe_weakness",
    "rapidly_progressive_weakness", "patellar_reflex_reduced", "achilles_reflex_reduced",
    "medial_hamstring_reflex_reduced", "hyperreflexia", "sensory_loss_groin",
    "sensory_loss_anterior_thigh", "sensory_loss_medial_knee", "sensory_loss_anterolateral_thigh",
    "sensory_loss_medial_leg", "sensory_loss_lateral_leg", "sensory_loss_dorsal_foot",
    "sensory_loss_lateral_foot", "sensory_loss_posterior_leg", "slr_positive",
    "crossed_slr_positive", "femoral_stretch_positive", "crossed_femoral_stretch_positive",
    "slump_positive", "crp", "esr", "wbc", "serum_calcium", "pth", "hba1c", "age", "sex_female",
    "sex_male", "symptom_duration_days", "family_history_spa",
}  # fmt: skip


def test_corpus_covers_exam_labs_and_demographics() -> None:
    covered = {
        want["id"] for row in CORPUS for want in row["expected"] if want["choice"] == "present"
    }
    assert not sorted(EXAM_AND_LAB_FINDINGS - covered)
    absent = {
        want["id"] for row in CORPUS for want in row["expected"] if want["choice"] == "absent"
    }
    assert {"crp", "esr", "wbc", "serum_calcium", "pth", "hba1c"} <= absent
