"""What to ask next: ranked by value of information, answerable, and wording from data."""

from __future__ import annotations

from spineguide.knowledge.loader import get_kb
from spineguide.reasoning.assess import assess
from spineguide.reasoning.questions import check_questions


def test_question_bank_refers_to_known_findings_and_sources() -> None:
    assert check_questions(get_kb()) == []


def test_bare_back_pain_asks_the_cauda_equina_screen_first() -> None:
    a = assess("40-year-old woman with three days of low back pain after lifting a box.")
    assert a.next_questions, "an under-specified case must come with questions"
    first = a.next_questions[0]
    assert first.changes == "urgency"
    assert first.finding_id in {"saddle_anesthesia", "bladder_dysfunction", "urinary_retention"}
    assert 0 < first.gain <= 1
    gains = [q.gain for q in a.next_questions]
    assert gains == sorted(gains, reverse=True)
    assert all(q.question.endswith("?") for q in a.next_questions)


def test_answering_a_question_removes_it_and_can_change_urgency() -> None:
    text = "40-year-old woman with three days of low back pain after lifting a box."
    base = assess(text)
    asked = base.next_questions[0].finding_id
    answered = assess({"text": text, "evidence": [{"id": asked, "choice": "present"}]})
    assert asked not in {q.finding_id for q in answered.next_questions}
    assert answered.triage.urgency.value == "emergency"


def test_screen_answered_no_allows_self_care_and_stops_asking_the_screen() -> None:
    text = "40-year-old woman with three days of low back pain after lifting a box."
    no = [
        {"id": "saddle_anesthesia", "choice": "absent"},
        {"id": "bladder_dysfunction", "choice": "absent"},
        {"id": "fever", "choice": "absent"},
        {"id": "leg_weakness_reported", "choice": "absent"},
    ]
    a = assess({"text": text, "evidence": no})
    assert a.triage.urgency.value == "self_care"
    asked = {q.finding_id for q in a.next_questions}
    assert not asked & {"saddle_anesthesia", "bladder_dysfunction", "fever"}


def test_sciatica_questions_include_diagnostic_ones() -> None:
    a = assess(
        "45-year-old man, two weeks of right leg pain to the outer calf, straight leg raise "
        "positive on the right. No saddle numbness, bladder normal, no fever, no weakness."
    )
    assert any(q.changes == "diagnosis" for q in a.next_questions)
    for q in a.next_questions:
        assert q.why and q.finding_id in get_kb().findings
