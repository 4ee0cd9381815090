"""Answer composition: citations, no-answer behaviour, red flags first, input errors."""

from __future__ import annotations

import pytest

from spineguide.errors import InputError, InputTooLargeError
from spineguide.search.answer import (
    DISCLAIMER,
    MAX_QUESTION_CHARS,
    NO_ANSWER,
    answer_question,
    render_text,
)


def test_answer_cites_kb_address_and_sources(kb) -> None:
    ans = answer_question("how long does recovery take after foraminotomy?", kb=kb)
    assert ans.answered
    # the therapy's own recovery passage (it names the therapy) or the condition's FAQ on it
    first = ans.citations[0].address
    assert first in ("therapies/foraminotomy#recovery", "conditions/foraminal-stenosis#faqs[7]")
    assert "[1]" in ans.answer and "2-4 weeks" in ans.answer  # extractive: the KB's own words
    src = ans.citations[0].sources[0]
    assert src.id in kb.sources and src.title == kb.sources[src.id].title
    assert ans.disclaimer == DISCLAIMER
    assert ans.kb_version == kb.version
    text = render_text(ans)
    assert first in text
    assert src.title in text
    assert "does not replace" in text


def test_every_cited_number_is_in_the_answer(kb) -> None:
    ans = answer_question("indications for lumbar fusion", top=5, kb=kb)
    assert ans.answered
    for c in ans.citations:
        assert f"[{c.n}]" in ans.answer
        assert c.sources and all(s.id in kb.sources for s in c.sources)
    assert len(ans.results) <= 5


@pytest.mark.parametrize(
    "question",
    [
        "what is the capital of France?",
        "how do I repair a flat bicycle tyre?",
        "what is the treatment for glaucoma in the eye?",
        "zzzz qqqq",
    ],
)
def test_no_answer_is_said_plainly(kb, question: str) -> None:
    ans = answer_question(question, kb=kb)
    assert not ans.answered
    assert ans.answer == NO_ANSWER
    assert not ans.citations and not ans.results
    assert NO_ANSWER in render_text(ans)


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("I'm numb between my legs, is that from my disc?", "cauda_equina"),
        ("I can't pee since this morning and my back is killing me", "cauda_equina"),
        ("I wet myself yesterday, should I keep doing my exercises?", "cauda_equina"),
        ("both my legs feel weak and keep giving way", "bilateral_neuro_deficit"),
    ],
)
def test_red_flag_questions_surface_emergency_advice_first(kb, question: str, rule: str) -> None:
    ans = answer_question(question, kb=kb)
    assert ans.answered
    assert ans.red_flags and ans.red_flags[0].rule == rule
    assert ans.red_flags[0].urgency == "emergency"
    assert ans.red_flags[0].advice  # the KB's own patient wording
    assert ans.red_flags[0].sources
    text = render_text(ans)
    assert text.startswith("!! EMERGENCY")
    assert text.index("EMERGENCY") < text.index(ans.answer[:30])


def test_negated_red_flag_does_not_fire(kb) -> None:
    ans = answer_question("I don't have any numbness between my legs, can I swim?", kb=kb)
    assert not any(r.urgency == "emergency" for r in ans.red_flags)


def test_ordinary_question_has_no_red_flags(kb) -> None:
    assert not answer_question("does yoga help back pain?", kb=kb).red_flags


def test_urgent_red_flag_for_fever(kb) -> None:
    ans = answer_question("I have back pain and a fever, what should I take?", kb=kb)
    assert ans.red_flags and ans.red_flags[0].rule == "spinal_infection"
    assert ans.red_flags[0].urgency == "urgent"


@pytest.mark.parametrize("question", ["", "   ", "?!?", "\n\t"])
def test_empty_question_is_an_input_error(kb, question: str) -> None:
    with pytest.raises(InputError, match="empty"):
        answer_question(question, kb=kb)


def test_huge_question_is_an_input_error(kb) -> None:
    with pytest.raises(InputTooLargeError):
        answer_question("back pain " * MAX_QUESTION_CHARS, kb=kb)


def test_bad_top_is_an_input_error(kb) -> None:
    with pytest.raises(InputError):
        answer_question("what is sciatica?", top=0, kb=kb)
    with pytest.raises(InputError):
        answer_question(123, kb=kb)  # type: ignore[arg-type]
