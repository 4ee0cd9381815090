"""Medicines in notes: drug and brand names, class words, context, and the evidence they give."""

from __future__ import annotations

import pytest

from spineguide.reasoning.evidence import Choice
from spineguide.text.clinical import extract_clinical_evidence
from spineguide.text.medications import find_medications, medication_evidence


def _by_name(text: str) -> dict[str, tuple[str | None, list[str], bool, bool]]:
    return {
        m.name.lower(): (m.drug_id, m.classes, m.negated, m.historical)
        for m in find_medications(text)
    }


def _choices(text: str, fid: str) -> set[str]:
    return {e.choice.value for e in extract_clinical_evidence(text) if e.id == fid}


@pytest.mark.parametrize(
    ("text", "name", "drug_id", "cls"),
    [
        ("She is on apixaban 5 mg twice daily.", "apixaban", "apixaban", "anticoagulant"),
        ("Takes Eliquis for AF.", "eliquis", "apixaban", "anticoagulant"),
        ("Long-standing warfarin, INR 2.4.", "warfarin", "warfarin", "anticoagulant"),
        ("Started clopidogrel after a TIA.", "clopidogrel", "clopidogrel", "antiplatelet"),
        ("Plavix since his stent.", "plavix", "clopidogrel", "antiplatelet"),
        ("Methotrexate weekly for RA.", "methotrexate", "methotrexate", "immunosuppressant"),
        ("Oxycodone 10 mg prn.", "oxycodone", "oxycodone", "opioid"),
        ("Naproxen 500 mg bd.", "naproxen", "naproxen", "nsaid"),
    ],
)
def test_names_resolve_to_kb_drugs_and_classes(
    text: str, name: str, drug_id: str, cls: str
) -> None:
    got = _by_name(text)
    assert name in got, got
    assert got[name][0] == drug_id
    assert cls in got[name][1]


def test_generics_outside_the_kb_get_their_class_from_data() -> None:
    got = _by_name("Renal transplant, on tacrolimus and mycophenolate; prednisolone 5 mg od.")
    assert "immunosuppressant" in got["tacrolimus"][1]
    assert "immunosuppressant" in got["mycophenolate"][1]
    assert "corticosteroid" in got["prednisolone"][1]


def test_class_words_are_mentions() -> None:
    got = _by_name("On blood thinners and a DOAC, no NSAIDs.")
    assert got["blood thinners"][1] == ["anticoagulant"]
    assert got["doac"][1] == ["anticoagulant"]
    assert got["nsaids"][2] is True  # "no NSAIDs"


def test_one_mention_for_a_multiword_name() -> None:
    names = [m.name.lower() for m in find_medications("Prophylactic low molecular weight heparin.")]
    assert names == ["low molecular weight heparin"]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Warfarin stopped in 2019 after a bleed.", True),
        ("Stopped warfarin last month.", True),
        ("Not on any anticoagulants.", True),
        ("No warfarin or apixaban.", True),
        ("Warfarin held for the procedure.", True),
        ("Warfarin, INR therapeutic.", False),
    ],
)
def test_negation(text: str, negated: bool) -> None:
    mentions = find_medications(text)
    assert mentions
    assert mentions[0].negated is negated


def test_a_cue_after_a_comma_belongs_to_the_next_drug() -> None:
    got = _by_name("On apixaban, warfarin stopped last year.")
    assert got["apixaban"][2] is False
    assert got["warfarin"][2] is True


def test_previous_use_is_historical_not_current() -> None:
    text = "Previously on methotrexate for psoriasis."
    (m,) = find_medications(text)
    assert m.historical
    evidence = medication_evidence(text, [m])
    assert [e.choice for e in evidence] == [Choice.unknown]


def test_evidence_from_current_medicines() -> None:
    text = "Meds: apixaban, clopidogrel, prednisolone 20 mg daily, azathioprine, metformin."
    for fid in (
        "anticoagulant_use",
        "antiplatelet_use",
        "long_term_steroid_use",
        "immunosuppression",
        "diabetes",
    ):
        assert _choices(text, fid) == {"present"}, fid


def test_stopped_and_denied_medicines_give_absent_evidence() -> None:
    assert _choices("Warfarin stopped 2019.", "anticoagulant_use") == {"absent"}
    assert _choices("Not on any blood thinners or steroids.", "long_term_steroid_use") == {"absent"}


def test_inhaled_or_injected_steroid_is_not_systemic_use() -> None:
    assert _choices("Uses a steroid inhaler for asthma.", "long_term_steroid_use") == set()
    assert _choices("Had a steroid injection into the knee.", "long_term_steroid_use") == set()


def test_non_medicines_from_the_dictionary_are_ignored() -> None:
    assert find_medications("Paraprotein band on electrophoresis; HLA-B27 negative.") == []


def test_spans_point_at_the_words() -> None:
    text = "PMH AF on Xarelto 20 mg."
    (m,) = find_medications(text)
    assert text[m.span[0] : m.span[1]] == "Xarelto"


def test_empty_text() -> None:
    assert find_medications("") == []
    assert find_medications("   ") == []


@pytest.mark.parametrize(
    "text",
    [
        "Back pain for 2 weeks. No fever. Takes blood thinners for AF; also on steroids.",
        # a non-ASCII note (offsets of the lower-cased text are not trusted): every sentence read
        "Back pain – 2 weeks. No fever. Takes blood thinners for AF; also on steroids.",
        "BLOOD THINNERS stopped last year. Now on STEROIDS.",
    ],
)
def test_class_words_in_any_sentence_are_found(text: str) -> None:
    found = {m.name.lower(): m for m in find_medications(text)}
    assert set(found) == {"blood thinners", "steroids"}
    for m in found.values():
        assert text[m.span[0] : m.span[1]] == m.name
    assert found["blood thinners"].negated == ("stopped" in text)


def test_sentences_without_class_words_give_no_class_mentions() -> None:
    text = "Low back pain after lifting. Walks 2 miles. Sleeps well; works as a builder."
    assert find_medications(text) == []
