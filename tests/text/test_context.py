"""The one context engine: cue data, scopes, list distribution, provenance of decisions."""

from __future__ import annotations

import pytest

from spineguide.errors import InputError
from spineguide.text.context import ContextEngine, Qualifiers, tokenise


@pytest.fixture(scope="module")
def engine() -> ContextEngine:
    return ContextEngine.for_language("en")


def _q(engine: ContextEngine, text: str, target: str) -> Qualifiers:
    start = text.index(target)
    return engine.qualify(text, (start, start + len(target)))


def test_forward_negation_reports_its_cue_span(engine: ContextEngine) -> None:
    text = "Bilateral L5 pars: no evidence of a defect."
    q = _q(engine, text, "defect")
    assert q.negated and not q.uncertain
    (span,) = q.cue_spans
    assert text[span[0] : span[1]] == "no evidence of"


def test_list_negation_distributes_over_coordinated_items(engine: ContextEngine) -> None:
    text = "No canal, recess or foraminal stenosis at this level."
    for target in ("canal", "recess", "foraminal stenosis"):
        assert _q(engine, text, target).negated, target


def test_list_breaker_ends_the_negated_list(engine: ContextEngine) -> None:
    text = "No extrusion, mild narrowing of the left foramen."
    assert _q(engine, text, "extrusion").negated
    assert not _q(engine, text, "narrowing").negated


def test_backward_and_predicate_negation(engine: ContextEngine) -> None:
    assert _q(engine, "A sequestered fragment is not identified.", "fragment").negated
    assert _q(engine, "The exiting roots are not displaced.", "displaced").negated
    assert _q(engine, "Tandem stenosis was excluded.", "stenosis").negated


def test_normality_stated_as_a_negative_has_a_short_reach(engine: ContextEngine) -> None:
    assert _q(engine, "The subarticular recesses are unremarkable.", "recesses").negated
    long = "Left sided sacral fracture extending across the ala into the joint and the recesses are unremarkable."
    assert not _q(engine, long, "fracture").negated


def test_pseudo_negation_does_not_negate(engine: ContextEngine) -> None:
    assert not _q(
        engine, "No change in the size of the right foraminal protrusion.", "protrusion"
    ).negated
    assert not _q(engine, "Not only a bulge but an extrusion.", "bulge").negated


def test_terminator_ends_scope(engine: ContextEngine) -> None:
    text = "No fever but reports new weakness of the left leg."
    assert _q(engine, text, "fever").negated
    assert not _q(engine, text, "weakness").negated


def test_uncertain_historical_family_hypothetical(engine: ContextEngine) -> None:
    assert _q(engine, "Appearances are suspicious for an epidural abscess.", "abscess").uncertain
    assert _q(engine, "Epidural phlegmon cannot be excluded.", "phlegmon").uncertain
    assert _q(engine, "Status post L5 laminectomy.", "laminectomy").historical
    q = _q(engine, "Her mother had ankylosing spondylitis.", "ankylosing spondylitis")
    assert q.family and not q.negated
    assert _q(engine, "Return if bladder retention develops.", "bladder retention").hypothetical


def test_qualify_all_and_tokens_agree(engine: ContextEngine) -> None:
    text = "Without canal compromise; moderate foraminal narrowing."
    a, b = engine.qualify_all(text, [(8, 13), (35, 44)])
    assert a.negated and not b.negated
    toks = tokenise(text)
    qs = engine.qualify_tokens(toks.words, [1, 5], toks.starts, toks.ends)
    assert [q.negated for q in qs] == [True, False]
    assert qs[0].cue_spans == ((0, 7),)


def test_bad_input_is_a_clear_error(engine: ContextEngine) -> None:
    with pytest.raises(InputError):
        engine.qualify(42, (0, 1))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        ContextEngine.for_language("xx")
    with pytest.raises(InputError):
        engine.qualify("no pain", (0,))  # type: ignore[arg-type]


def test_terminator_closes_a_backward_cue(engine: ContextEngine) -> None:
    text = "A small cyst, which is likely to grow."
    assert not _q(engine, text, "cyst").uncertain
    assert _q(engine, text, "grow").uncertain
    assert _q(engine, "A small synovial cyst is likely.", "cyst").uncertain


def test_a_comma_alone_is_no_list(engine: ContextEngine) -> None:
    text = "52M, left L5 radicular pain, absent left ankle reflex"
    assert not _q(engine, text, "radicular pain").negated
    assert _q(engine, "Ankle, knee and plantar reflexes absent.", "Ankle").negated
    assert not _q(engine, "No fever, pain radiates to the calf.", "radiates").negated
    assert _q(engine, "No fever, night sweats or weight loss.", "weight loss").negated
