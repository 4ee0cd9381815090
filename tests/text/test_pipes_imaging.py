"""Imaging reader pipes, one job each, on sentences written for these tests."""

from __future__ import annotations

import pytest

from spineguide.text.document import lower_same_length, split_sections, split_sentences
from spineguide.text.imaging import parse_imaging_report
from spineguide.text.levels import normalise_level
from spineguide.text.models import ImagingFinding
from spineguide.text.pipes.levels import level_groups, level_tokens
from spineguide.text.pipes.roots import infer_root, level_of_root
from spineguide.text.pipes.vocab import load_vocabulary, tag


def tuples(text: str) -> set[tuple[str | None, str | None, str, str]]:
    return {f.key() for f in parse_imaging_report(text).findings}


def findings(text: str, finding: str) -> list[ImagingFinding]:
    return [f for f in parse_imaging_report(text).findings if f.finding == finding]


# ---- document: sections, sentences, offsets


def test_exam_title_with_text_on_its_line_opens_the_findings() -> None:
    text = "Lumbar MRI: shallow L3-4 bulge.\nIMPRESSION: Mild degenerative change."
    names = [s[0] for s in split_sections(text)]
    assert names == ["findings", "impression"]
    assert tuples("MR lumbar spine: right L4-5 foraminal protrusion.") == {
        ("L4-L5", "right", "disc_protrusion", "unspecified")
    }


def test_exam_title_alone_on_its_line_is_not_read() -> None:
    sections = split_sections("CT LUMBAR SPINE\nFINDINGS: No fracture.")
    assert [s[0] for s in sections] == ["findings", "findings"] or sections[-1][0] == "findings"
    assert tuples("CT LUMBAR SPINE\nFINDINGS: No fracture.") == {
        (None, "central", "fracture", "none")
    }


def test_sentences_keep_character_offsets() -> None:
    text = "Findings: Broad-based L2/3 bulge. Facets are normal."
    low = lower_same_length(text)
    sents = split_sentences(text, low, 10, len(text))
    assert [s.words[:3] for s in sents] == [["broad", "based", "l2/3"], ["facets", "are", "normal"]]
    first = sents[0]
    assert text[first.starts[2] : first.ends[2]] == "L2/3"


def test_elision_breaks_the_carried_level() -> None:
    got = tuples("L5-S1: Large central extrusion. [...] Moderate canal stenosis.")
    assert ("L5-S1", "central", "disc_extrusion", "severe") in got
    assert (None, "central", "canal_stenosis", "moderate") in got


# ---- levels


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("L45", "L4-L5"),
        ("L5-S 1", "L5-S1"),
        ("L5/Sl", "L5-S1"),
        ("L5S1", "L5-S1"),
        ("L23", "L2-L3"),
    ],
)
def test_level_spellings_of_real_reports(raw: str, level: str) -> None:
    assert normalise_level(raw) == level


def test_level_runs_ranges_and_relative_to() -> None:
    vocab = load_vocabulary()
    words = [
        "slip",
        "of",
        "l3",
        "relative",
        "to",
        "l4",
        "and",
        "disease",
        "from",
        "l1",
        "through",
        "l3",
    ]
    toks = level_tokens(words)
    groups, roots = level_groups(words, toks, tag(vocab, words, toks))
    assert [g.discs for g in groups] == [["L3-L4"], ["L1-L2", "L2-L3"]]
    assert roots == {}


def test_open_range_and_cut_short_level_give_no_level() -> None:
    assert tuples(
        "Ventral epidural pus extends from the cervicothoracic junction down to L2/3."
    ) == {(None, "central", "epidural_collection", "unspecified")}
    vocab = load_vocabulary()
    words = ["narrowing", "at", "l3", "l"]
    assert level_tokens(words) == {}
    assert tag(vocab, words, {})[0].roles is not None


def test_lumbosacral_junction_and_vertebral_body_runs() -> None:
    assert tuples("Mild disc bulge at the lumbosacral junction.") == {
        ("L5-S1", "central", "disc_bulge", "mild")
    }
    got = tuples("Compression fractures of the T12 to L2 vertebral bodies.")
    assert got == {(lv, "central", "fracture", "unspecified") for lv in ("T12", "L1", "L2")}


# ---- vocabulary and spelling


def test_misspellings_are_read_with_lower_confidence() -> None:
    (f,) = findings("L3-4: moderate right foramenal stenosis.", "foraminal_stenosis")
    assert (f.side, f.severity) == ("right", "moderate")
    assert f.confidence < 1.0
    (g,) = findings("L2-3: small central protusion.", "disc_protrusion")
    assert g.severity == "mild" and g.confidence < 1.0


def test_real_words_near_vocabulary_words_are_not_corrected() -> None:
    vocab = load_vocabulary()
    words, fixed = vocab.correct_words(["patient", "medial", "larger", "spondylosis"])
    assert words == ["patient", "medial", "larger", "spondylosis"] and not fixed


def test_verb_forms_of_findings() -> None:
    assert ("L2-L3", "central", "disc_degeneration", "unspecified") in tuples(
        "The L2-3 and L3-4 disc spaces are narrowed."
    )
    assert tuples("L4-5: The apophyseal joints show marked degenerative change.") == {
        ("L4-L5", "bilateral", "facet_arthropathy", "severe")
    }
    assert tuples("L3-4: A left paracentral fragment occupying the left lateral recess.") == {
        ("L3-L4", "left", "lateral_recess_stenosis", "unspecified")
    }


# ---- context (the shared engine) inside the reader


def test_negated_lists_with_anchors_and_oxford_comma() -> None:
    got = tuples("L1-2: There is no central canal, subarticular, or neural foraminal narrowing.")
    assert got == {
        ("L1-L2", "central", "canal_stenosis", "none"),
        ("L1-L2", "bilateral", "lateral_recess_stenosis", "none"),
        ("L1-L2", "bilateral", "foraminal_stenosis", "none"),
    }


def test_predicate_negation_and_free_of() -> None:
    assert tuples("L5-S1: The descending S1 roots are not compressed.") == {
        ("L5-S1", "bilateral", "nerve_root_compression", "none")
    }
    assert tuples("L4-5: Both traversing roots are free of impingement.") == {
        ("L4-L5", "bilateral", "nerve_root_compression", "none")
    }
    got = tuples("L2-3: Shallow bulge reaching the L3 roots without deviating them.")
    assert ("L2-L3", "bilateral", "nerve_root_compression", "none") in got


def test_normality_as_a_negative() -> None:
    assert tuples("Vertebral alignment is anatomical.") == {
        (None, "central", "spondylolisthesis", "none")
    }
    assert tuples("L3-4: The left exit foramen is unaffected.") == {
        ("L3-L4", "left", "foraminal_stenosis", "none")
    }
    assert tuples("Bone marrow signal is within normal limits.") == {
        (None, "central", "bone_lesion", "none")
    }


def test_cue_spans_point_at_the_cue() -> None:
    text = "L4-5: No evidence of recurrent disc herniation."
    (f,) = findings(text, "disc_herniation")
    assert f.negated and [text[a:b] for a, b in f.cue_spans] == ["No evidence of"]


# ---- modifiers: sides, grades


def test_grades_after_the_finding_and_verb_grades() -> None:
    assert tuples("L2-3: Right foraminal narrowing, which is severe.") == {
        ("L2-L3", "right", "foraminal_stenosis", "severe")
    }
    assert tuples("L4-5: Canal stenosis of mild degree.") == {
        ("L4-L5", "central", "canal_stenosis", "mild")
    }
    assert tuples("L3-4: The right foramen is severely narrowed.") == {
        ("L3-L4", "right", "foraminal_stenosis", "severe")
    }


def test_respectively_pairs_grades_with_levels() -> None:
    assert tuples("Mild and moderate canal stenosis at L3-4 and L4-5 respectively.") == {
        ("L3-L4", "central", "canal_stenosis", "mild"),
        ("L4-L5", "central", "canal_stenosis", "moderate"),
    }


def test_predominance_and_right_central() -> None:
    assert tuples("L4-5: Facet arthropathy, more marked on the right.") == {
        ("L4-L5", "bilateral", "facet_arthropathy", "unspecified")
    }
    assert tuples("L5-S1: Left central extrusion.") == {
        ("L5-S1", "left", "disc_extrusion", "unspecified")
    }


# ---- roots from the knowledge base


def test_roots_come_from_the_anatomy_data() -> None:
    assert infer_root("L4-L5", "traversing") == "L5"
    assert infer_root("L4-L5", "exiting") == "L4"
    assert level_of_root("S1", "traversing") == "L5-S1"
    (f,) = findings(
        "L3-4: Left foraminal protrusion compressing the exiting root.", "nerve_root_compression"
    )
    assert (f.root, f.root_inferred, f.side) == ("L3", True, "left")


@pytest.mark.parametrize(
    "text, root",
    [
        ("L4-5: right foraminal protrusion abutting the nerve root.", "L4"),
        ("L5-S1: far lateral extrusion on the left displacing the nerve root.", "L5"),
        ("L3-4: right subarticular extrusion compressing the nerve root.", "L4"),
        ("L4-5: left paracentral protrusion contacting the nerve root.", "L5"),
        ("L3-4: protrusion narrowing the left lateral recess, compressing the nerve root.", "L4"),
        ("L5-S1: protrusion compressing the nerve root.", "S1"),  # no zone: traversing
    ],
)
def test_unnamed_root_follows_the_anatomy_rule(text: str, root: str) -> None:
    """Foraminal / far lateral -> exiting root; subarticular / paracentral / recess -> traversing."""
    (f,) = findings(text, "nerve_root_compression")
    assert (f.root, f.root_inferred) == (root, True)


def test_root_position_takes_the_zone_of_the_disc_lesion_then_the_sentence() -> None:
    """The nerve-root mention borrows its disc lesion's zone, else a zone in its sentence."""
    from spineguide.text.pipes.mentions import Mention
    from spineguide.text.pipes.roots import mention_roots, zone_root_position

    nerve = Mention("nerve_root_compression", 5, 7, 5)
    disc = Mention("disc_extrusion", 1, 2, 1)
    disc.zones = ["extraforaminal"]
    assert zone_root_position(nerve, [disc, nerve], []) == "exiting"
    assert mention_roots(nerve, False, [disc, nerve], []) == [("?exiting", True)]
    assert zone_root_position(nerve, [nerve], [(0, "subarticular")]) == "traversing"
    assert mention_roots(nerve, False, [nerve], []) == [("?traversing", True)]
    assert mention_roots(nerve, True, [disc, nerve], []) == [(None, False)]


# ---- attribution across sentences


def test_pronoun_takes_side_and_level_from_the_antecedent() -> None:
    text = "A right subarticular extrusion is seen. It arises from L4-5 and displaces the L5 root."
    got = tuples(text)
    assert ("L4-L5", "right", "disc_extrusion", "unspecified") in got
    (root,) = findings(text, "nerve_root_compression")
    assert root.side == "right" and root.level == "L4-L5" and root.confidence < 1.0


def test_the_fragment_completes_the_antecedent_side() -> None:
    got = tuples("At L5-S1 there is a sequestered fragment. The fragment lies to the left.")
    assert got == {("L5-S1", "left", "disc_sequestration", "unspecified")}


def test_level_heading_governs_its_lines() -> None:
    text = "L3-L4:\nMild bulge.\nMild facet arthropathy.\n\nNo fracture."
    assert tuples(text) == {
        ("L3-L4", "central", "disc_bulge", "mild"),
        ("L3-L4", "bilateral", "facet_arthropathy", "mild"),
        (None, "central", "fracture", "none"),
    }


def test_landmark_level_is_not_carried() -> None:
    assert tuples("The conus ends at L1. The cauda equina is unremarkable.") == {
        (None, "central", "cauda_equina_compression", "none")
    }


# ---- reconcile findings and impression


def test_impression_repeats_without_double_counting_or_losing_a_side() -> None:
    text = (
        "FINDINGS: L4-5: moderate left paracentral protrusion. Mild right foraminal narrowing.\n"
        "IMPRESSION: L4-5 left paracentral protrusion."
    )
    got = parse_imaging_report(text).findings
    keys = [f.key() for f in got]
    assert keys.count(("L4-L5", "left", "disc_protrusion", "moderate")) == 1
    assert ("L4-L5", "right", "foraminal_stenosis", "mild") in keys
    assert len(keys) == 2


# ---- red-flag and non-spinal lesions


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Fluid signal and enhancement of the L2-3 disc with endplate erosions.", "discitis"),
        ("Incidental 5.2 cm infrarenal abdominal aortic aneurysm.", "aortic_aneurysm"),
        ("An intimal flap is seen in the descending aorta.", "aortic_dissection"),
        ("Enhancing intradural lesion at the conus, likely ependymoma.", "intradural_mass"),
        ("Excess epidural fat narrows the thecal sac at L5-S1.", "epidural_lipomatosis"),
        ("Pelvic radiograph: severe osteoarthritis of the right hip.", "hip_arthritis"),
        ("Large right iliopsoas haematoma.", "iliopsoas_hematoma"),
        ("Rim-enhancing left psoas abscess.", "psoas_abscess"),
        ("Ventral epidural phlegmon at L4-5.", "epidural_collection"),
        ("Intrathecal blood layering in the thecal sac.", "hematoma"),
        ("Multiple marrow deposits in the lumbar vertebrae.", "bone_lesion"),
        ("Pathological fracture of L3.", "fracture"),
    ],
)
def test_red_flag_and_non_spinal_lesions(text: str, finding: str) -> None:
    got = findings(text, finding)
    assert got and not got[0].negated, parse_imaging_report(text).findings


def test_added_ids_keep_the_contract_reading() -> None:
    got = tuples("Large left iliopsoas haematoma.")
    assert (None, "left", "iliopsoas_hematoma", "severe") in got or (
        None,
        "left",
        "iliopsoas_hematoma",
        "unspecified",
    ) in got
    assert any(k[2] == "hematoma" and k[1] == "left" for k in got)


def test_muscle_abscess_is_not_epidural() -> None:
    got = {k[2] for k in tuples("Phlegmon in the right psoas muscle.")}
    assert "psoas_abscess" in got and "epidural_collection" not in got


def test_fracture_canal_compromise() -> None:
    (f,) = findings("Acute L1 burst fracture with 5 mm retropulsion.", "fracture")
    assert f.canal_compromise is True
    (g,) = findings("Old L2 wedge fracture without retropulsion.", "fracture")
    assert g.canal_compromise is False


# ---- honesty: what could not be read


def test_uninterpreted_significant_phrases_are_reported() -> None:
    text = "L4-5: mild bulge. Abnormal cord signal at T11. Soft tissue mass in the left psoas."
    report = parse_imaging_report(text)
    phrases = [u.text for u in report.uninterpreted]
    assert "Abnormal cord signal" in phrases and "Soft tissue mass" in phrases
    for u in report.uninterpreted:
        assert text[u.span[0] : u.span[1]] == u.text
    assert report.warnings
    assert parse_imaging_report("No mass. No cord compression.").uninterpreted == []


def test_impression_without_a_side_is_the_sided_finding_not_another() -> None:
    text = (
        "FINDINGS: L5-S1: right subarticular extrusion displacing the right S1 root.\n"
        "IMPRESSION: Large L5-S1 disc extrusion."
    )
    got = tuples(text)
    assert ("L5-S1", "right", "disc_extrusion", "severe") in got
    assert not any(k[2] == "disc_extrusion" and k[1] == "central" for k in got)


def test_each_side_keeps_its_own_grade() -> None:
    assert tuples(
        "At L3/4 the exit foramina are severely narrowed on the left and mildly on the right."
    ) == {
        ("L3-L4", "left", "foraminal_stenosis", "severe"),
        ("L3-L4", "right", "foraminal_stenosis", "mild"),
    }
    assert tuples("L2-3: right foraminal narrowing and mild left facet arthropathy.") == {
        ("L2-L3", "right", "foraminal_stenosis", "unspecified"),
        ("L2-L3", "left", "facet_arthropathy", "mild"),
    }


def test_named_root_with_a_side_is_not_inferred() -> None:
    (f,) = findings(
        "The left S1 root is displaced in the recess by a left paracentral L5-S1 extrusion.",
        "nerve_root_compression",
    )
    assert (f.root, f.root_inferred, f.side, f.level) == ("S1", False, "left", "L5-S1")


def test_participle_takes_the_anatomy_after_it() -> None:
    got = tuples("L2/3: diffuse bulge effacing the thecal sac and narrowing both exit foramina.")
    assert ("L2-L3", "bilateral", "foraminal_stenosis", "unspecified") in got


def test_which_is_likely_doubts_what_follows_not_the_lesion() -> None:
    text = (
        "L3-4: right foraminal protrusion, which is likely to irritate the exiting right L3 root."
    )
    (disc,) = findings(text, "disc_protrusion")
    (root,) = findings(text, "nerve_root_compression")
    assert not disc.uncertain and root.uncertain and root.side == "right"


def test_negated_list_reaches_past_words_without_a_finding() -> None:
    assert tuples("No listhesis, pars interarticularis defect or wedge fracture.") == {
        (None, "central", "spondylolisthesis", "none"),
        (None, "central", "fracture", "none"),
    }
    got = tuples("No fracture, mild facet arthropathy at L4-5.")
    assert ("L4-L5", "bilateral", "facet_arthropathy", "mild") in got
