"""Next questions as a clinician reads them: no repeats, nothing already answered, plausible red
flags first, blood tests only when they could change the plan, clinician wording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import get_kb
from spineguide.reasoning.assess import assess
from spineguide.reasoning.questions import (
    QUESTIONS_PATH,
    _askable,
    _lr_table,
    load_questions,
)

LABS = {fid for fid, f in get_kb().findings.items() if f.kind.value == "lab"}
AORTIC = {"hypotension", "relative_hypotension", "pulsatile_abdominal_mass", "known_aaa"}

MECHANICAL = [
    "34-year-old man with four days of low back pain after lifting a sofa. Worse bending forward, "
    "no leg pain.",
    "29-year-old nurse, a week of central low back ache after a long shift moving patients; "
    "no leg symptoms, no fever, no weight loss.",
    "45-year-old man, two weeks of left buttock pain spreading to the outer calf, straight leg "
    "raise positive at 40 degrees. No saddle numbness, bladder normal.",
    "52-year-old woman with six months of stiff low back pain worse after gardening, eases with "
    "walking about. Neuro exam normal.",
]


def _ids(text: str) -> list[str]:
    return [q.finding_id for q in assess(text).next_questions]


def test_trauma_is_one_question_never_two() -> None:
    notes = [
        *MECHANICAL,
        "46-year-old man, 3 weeks of right anterior thigh pain after moving furniture, weak knee "
        "extension, reduced knee jerk, positive femoral stretch.",
        "67-year-old woman with osteoporosis, sudden mid-back pain yesterday while bending.",
    ]
    for text in notes:
        asked = set(_ids(text))
        assert not {"high_energy_trauma", "severe_trauma"} <= asked, text


def test_a_told_onset_answers_the_trauma_questions() -> None:
    asked = _ids(MECHANICAL[0])  # "after lifting a sofa"
    assert "high_energy_trauma" not in asked
    assert "minor_trauma" not in asked


def test_denied_items_and_their_narrower_forms_are_not_asked() -> None:
    text = (
        "52-year-old woman, two weeks of left buttock pain spreading to the outer calf. No saddle "
        "numbness, no bladder or bowel change, no leg weakness."
    )
    asked = set(_ids(text))
    assert not asked & {"saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction"}
    # the same question in other words, or a follow-up of a denied symptom
    assert not asked & {"urinary_incontinence", "urinary_retention", "bowel_incontinence"}
    assert not asked & {"bilateral_leg_weakness", "severe_weakness", "rapidly_progressive_weakness"}
    # no rectal or perianal examination without a sphincter, saddle or bilateral symptom
    assert not asked & {"reduced_anal_tone", "reduced_perianal_sensation", "palpable_bladder"}


def test_unknown_is_not_absent_the_screen_is_still_asked() -> None:
    asked = _ids("40-year-old woman with three days of low back pain after lifting a box.")
    assert asked[0] == "saddle_anesthesia"
    assert "bladder_dysfunction" in asked


def test_follow_ups_wait_for_the_yes_they_follow() -> None:
    plain = set(_ids("45-year-old man with two weeks of low back pain and right sciatica."))
    assert "supratherapeutic_inr" not in plain  # not on an anticoagulant as far as we know
    assert "metastatic_cancer" not in plain  # no known cancer
    assert "persistent_fever" not in plain
    cancer = _ids(
        "61-year-old woman with breast cancer treated five years ago, six weeks of worsening "
        "thoracic back pain that wakes her at night."
    )
    assert "history_of_cancer" not in cancer


def test_plain_mechanical_back_pain_gets_no_blood_tests() -> None:
    for text in MECHANICAL:
        assert not set(_ids(text)) & LABS, text


# the red flags a clinician has now asked about and found absent (structured answers)
SCREENED = [
    {"id": fid, "choice": "absent"}
    for fid in (
        "saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction", "sexual_dysfunction",
        "leg_weakness_reported", "leg_numbness", "sensory_level", "high_energy_trauma",
        "sepsis_signs", "hypotension", "tachycardia", "recent_spinal_procedure", "leg_pain",
        "pulsatile_abdominal_mass", "syncope",
    )
]  # fmt: skip


def test_blood_tests_are_asked_when_infection_is_suspected_and_come_last() -> None:
    text = (
        "63-year-old woman with type 2 diabetes, two weeks of constant low back pain, tender "
        "over L3, feels unwell."
    )
    qs = assess({"text": text, "evidence": SCREENED}).next_questions
    labs = [q.finding_id in LABS for q in qs]
    assert any(labs), [q.finding_id for q in qs]
    assert labs == sorted(labs), "blood tests after every history or examination question"


def test_screened_mechanical_back_pain_still_gets_no_blood_tests() -> None:
    for text in MECHANICAL:
        qs = assess({"text": text, "evidence": SCREENED}).next_questions
        assert not {q.finding_id for q in qs} & LABS, text


def test_denied_leg_pain_answers_whether_the_pain_is_axial() -> None:
    text = "50-year-old man on dialysis with a week of low back pain and focal spinal tenderness."
    qs = assess({"text": text, "evidence": SCREENED}).next_questions
    assert "axial_pain_only" not in {q.finding_id for q in qs}


def test_aortic_questions_only_when_the_aorta_is_plausible() -> None:
    young = [
        *MECHANICAL,
        "38-year-old man with low back pain and right sciatica below the knee for two weeks.",
    ]
    for text in young:
        assert not set(_ids(text)) & AORTIC, text
    # an older adult with sciatica explained by a root: still not the aorta
    sciatica = _ids(
        "71-year-old woman with three weeks of right sciatica down the back of the calf to the "
        "sole, positive straight leg raise, reduced right ankle jerk."
    )
    assert not set(sciatica) & AORTIC
    # an older man with new back pain the spine does not explain: the aorta is asked about
    older = _ids("72-year-old man, new low back pain for five days, no leg symptoms, no fever.")
    assert set(older) & AORTIC


def test_sepsis_questions_follow_an_infection_feature() -> None:
    for text in MECHANICAL:
        assert "sepsis_signs" not in _ids(text), text
    febrile = _ids(
        "45-year-old man who injects heroin, ten days of constant thoracic back pain and fevers."
    )
    assert "sepsis_signs" in febrile or "hypotension" in febrile


def test_open_red_flags_come_before_diagnostic_questions() -> None:
    texts = [
        *MECHANICAL,
        "74-year-old man with 8 months of bilateral buttock and thigh pain when walking, relieved "
        "by sitting or leaning on a shopping trolley.",
        "45-year-old man, 2 weeks of left leg pain to the outer calf, weak big toe extension.",
    ]
    for text in texts:
        changes = [q.changes for q in assess(text).next_questions]
        first_dx = changes.index("diagnosis") if "diagnosis" in changes else len(changes)
        assert "urgency" not in changes[first_dx:], (text, changes)


def test_no_question_falls_back_to_a_finding_name() -> None:
    kb = get_kb()
    bank = load_questions()
    rules = kb.raw["red_flags"]["rules"]
    raw = {f for r in rules for g in r["all"] for f in g["any"]}
    raw |= {f for r in rules for f in r.get("escalate_with", ())}
    for table in _lr_table(kb).values():
        raw |= set(table)
    askable = {a for fid in raw for a in _askable(fid, kb, bank)}
    missing = sorted(askable - set(bank.questions))
    assert not missing, f"no clinician wording for {missing}"
    for fid, wording in bank.questions.items():
        assert wording.endswith("?") and not wording.startswith("Is this present"), fid


def test_a_ranking_number_without_a_source_is_refused(tmp_path: Path) -> None:
    text = QUESTIONS_PATH.read_text(encoding="utf-8")
    marker = "  leader_change_bonus:\n    value: 0.25\n    expert_estimate: true\n"
    assert marker in text
    bad = tmp_path / "questions.yaml"
    bad.write_text(text.replace(marker, "  leader_change_bonus:\n    value: 0.25\n"), "utf-8")
    with pytest.raises(KnowledgeBaseError, match="source id or expert_estimate"):
        load_questions(bad)


SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases" / "dev_vignettes.jsonl"


@pytest.mark.skipif(not SHARED.exists(), reason="shared development vignettes not present")
def test_dev_vignettes_never_repeat_a_question_or_ask_what_the_note_answered() -> None:
    bank = load_questions()
    groups = [set(g) for g in bank.same_question]
    for line in SHARED.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        a = assess(json.loads(line)["text"])
        asked = [q.finding_id for q in a.next_questions]
        stated = {e.id for e in a.evidence if e.choice.value in ("present", "absent")}
        assert len(asked) == len(set(asked))
        assert not set(asked) & stated
        for g in groups:
            assert len(g & set(asked)) <= 1, asked
