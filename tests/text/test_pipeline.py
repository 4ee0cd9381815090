"""The one extractor interface: notes and reports in, evidence, imaging, medicines and gaps out."""

from __future__ import annotations

import pytest

from spineguide.errors import InputError
from spineguide.reasoning.evidence import Choice
from spineguide.text.pipeline import Extraction, extract, imaging_segment, imaging_spans


def _present(x: Extraction, fid: str) -> bool:
    return any(e.id == fid and e.choice == Choice.present for e in x.evidence)


def test_imaging_sentence_in_the_middle_of_a_note() -> None:
    text = (
        "58M, 4/52 right leg pain. MRI lumbar spine: right paracentral disc extrusion at L5/S1 "
        "compressing the S1 root. Today numb along the outer edge of the right foot."
    )
    spans = imaging_spans(text)
    assert len(spans) == 1
    start, end = spans[0]
    assert text[start:end].startswith("MRI lumbar spine:")
    assert text[start:end].endswith("S1 root.")
    x = extract(text)
    assert {f.finding for f in x.imaging} >= {"disc_extrusion"}
    # the note after the imaging sentence is still read
    assert any(e.id == "sensory_loss_lateral_foot" and e.side == "right" for e in x.evidence)
    for f in x.imaging:  # imaging spans point into the note
        assert f.span is not None and text[f.span[0] : f.span[1]] == f.text


def test_imaging_words_are_not_read_as_symptoms() -> None:
    x = extract("X-ray: collapse of L1 with loss of height. Comfortable at rest.")
    assert not _present(x, "syncope")
    x = extract("CT showed a collapsed T12 vertebra; she denies fainting.")
    assert not _present(x, "syncope")


def test_several_imaging_sentences_are_joined_for_the_imaging_reader() -> None:
    text = "CT: L1 burst fracture. Neuro intact. MRI: no cord signal change."
    assert len(imaging_spans(text)) == 2
    segment = imaging_segment(text)
    assert segment is not None and "burst fracture" in segment and "cord signal" in segment
    assert _present(extract(text), "neuro_exam_normal")


def test_plans_for_imaging_are_not_imaging_sentences() -> None:
    assert imaging_spans("Awaiting MRI. Will review.") == []


def test_medications_are_returned() -> None:
    x = extract("72F on apixaban and low-dose aspirin. Stopped naproxen.")
    names = {m.name.lower(): m for m in x.medications}
    assert names["apixaban"].drug_id == "apixaban" and not names["apixaban"].negated
    assert names["naproxen"].negated
    assert _present(x, "anticoagulant_use")


def test_uninterpreted_red_flag_wording_is_reported_with_span_and_reason() -> None:
    text = "Seen in clinic. Wife worried about a possible epidural collection; denies fever."
    x = extract(text)
    words = {u.text.lower(): u for u in x.uninterpreted}
    assert "collection" in words
    u = words["collection"]
    assert text[u.span[0] : u.span[1]] == u.text and u.reason
    assert x.warnings  # the caller is told that something was not understood
    # wording that became evidence is not reported again
    assert "fever" not in words


def test_nothing_uninterpreted_in_a_plain_note() -> None:
    x = extract("45M, 2 weeks of left L5 sciatica, no red flags, power 5/5 throughout.")
    assert x.uninterpreted == []


def test_report_kind_reads_imaging_only() -> None:
    x = extract("L4-5: broad-based disc bulge without canal stenosis.", kind="report")
    assert x.evidence == [] and x.imaging


def test_bad_input_gives_clear_errors() -> None:
    with pytest.raises(InputError):
        extract(123)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        extract("text", kind="letter")  # type: ignore[arg-type]
    assert extract("   ") == Extraction()


def test_evidence_spans_point_at_the_source_even_after_spelling_fixes() -> None:
    text = "Left sciatia with numbess over the big toe."
    x = extract(text)
    assert _present(x, "radicular_pain_below_knee")
    assert any(e.id == "sensory_loss_dorsal_foot" and e.side == "left" for e in x.evidence)
    for e in x.evidence:
        assert e.span is not None and text[e.span[0] : e.span[1]] == e.text


def test_imaging_phrases_of_the_note_vocabulary_are_still_read_in_imaging_sentences() -> None:
    text = "50F with sciatia. MRI: intradural disc herniation at L3/4. Now numb in the saddle."
    x = extract(text)
    hits = [e for e in x.evidence if e.id == "imaging_intradural"]
    assert hits and text[hits[0].span[0] : hits[0].span[1]] == "intradural disc herniation"
    assert _present(x, "saddle_anesthesia")


def test_report_extraction_carries_uninterpreted_phrases() -> None:
    """A report read through the one interface keeps the phrases the imaging reader could not map."""
    from spineguide.text.pipeline import extract

    out = extract(
        "L3-4: mild disc bulge. There is a soft tissue mass in the right psoas, nature unclear.",
        kind="report",
    )
    assert ("disc_bulge", "L3-L4") in {(f.finding, f.level) for f in out.imaging}
    assert any("mass" in u.text.lower() for u in out.uninterpreted)
