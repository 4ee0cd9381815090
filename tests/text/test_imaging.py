"""Imaging-report extractor: negation lists, severity, roots, sections, the finding contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spineguide.errors import InputTooLargeError
from spineguide.text.imaging import MAX_REPORT_CHARS, parse_imaging_report
from spineguide.text.models import CONTRACT_FINDING_IDS

DATA = Path(__file__).resolve().parents[1] / "data" / "imaging_reports.jsonl"
DEV = Path(__file__).resolve().parents[3] / "shared" / "imaging" / "dev_reports.jsonl"


def tuples(text: str) -> set[tuple[str | None, str | None, str, str]]:
    return {f.key() for f in parse_imaging_report(text).findings}


def one(text: str, finding: str):
    found = [f for f in parse_imaging_report(text).findings if f.finding == finding]
    assert len(found) == 1, found
    return found[0]


# ---- negation


def test_negated_coordinated_list() -> None:
    got = tuples("L5-S1: No disc herniation, canal stenosis or foraminal narrowing.")
    assert got == {
        ("L5-S1", "central", "disc_herniation", "none"),
        ("L5-S1", "central", "canal_stenosis", "none"),
        ("L5-S1", "bilateral", "foraminal_stenosis", "none"),
    }


def test_without_significant_shared_head_noun() -> None:
    got = tuples("L4-5: mild disc bulge without significant canal or foraminal compromise.")
    assert ("L4-L5", "central", "canal_stenosis", "none") in got
    assert ("L4-L5", "bilateral", "foraminal_stenosis", "none") in got
    assert ("L4-L5", "central", "disc_bulge", "mild") in got


def test_list_breaker_ends_negation() -> None:
    got = tuples("L4-5: No disc herniation, mild left foraminal narrowing.")
    assert ("L4-L5", "left", "foraminal_stenosis", "mild") in got
    assert ("L4-L5", "central", "disc_herniation", "none") in got


def test_negation_after_level_heading_colon() -> None:
    # medspaCy's default ": no" rule points backwards here (software-anchors 2.1)
    assert tuples("L2-3: no central canal stenosis or disc herniation.") == {
        ("L2-L3", "central", "canal_stenosis", "none"),
        ("L2-L3", "central", "disc_herniation", "none"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "Negative for disc herniation at L4-5.",
        "There is no evidence of disc herniation at L4-5.",
        "Disc herniation at L4-5 is not seen.",
        "L4-5: Absence of disc herniation.",
    ],
)
def test_negation_cues(text: str) -> None:
    f = one(text, "disc_herniation")
    assert f.negated and f.severity == "none" and f.level == "L4-L5"


def test_patent_is_negative_and_otherwise_gives_no_tuple() -> None:
    assert tuples("L3-4: The right foramen is patent.") == {
        ("L3-L4", "right", "foraminal_stenosis", "none")
    }
    assert tuples("L3-4: Neural foramina otherwise widely patent.") == set()


def test_unremarkable_level_gives_nothing() -> None:
    assert tuples("L1-L2: Unremarkable.\nL2-L3: Normal.") == set()


# ---- uncertainty


@pytest.mark.parametrize(
    "cue",
    ["Possible", "Probable", "Likely", "Suspicious for", "Cannot exclude", "May represent"],
)
def test_uncertainty_cues(cue: str) -> None:
    f = one(f"{cue} small right paracentral protrusion at L5-S1.", "disc_protrusion")
    assert f.uncertain and not f.negated and f.side == "right" and f.severity == "mild"


def test_uncertainty_scope_stops_at_negation() -> None:
    report = parse_imaging_report(
        "L5-S1: Possible small right paracentral protrusion, no nerve root compression."
    )
    root = next(f for f in report.findings if f.finding == "nerve_root_compression")
    assert root.negated and not root.uncertain and root.side == "bilateral"


# ---- severity


@pytest.mark.parametrize(
    ("phrase", "severity"),
    [
        ("Mild to moderate", "moderate"),
        ("Moderate to severe", "severe"),
        ("Mild-moderate", "moderate"),
        ("Minimal", "mild"),
        ("Slight", "mild"),
        ("Marked", "severe"),
        ("High grade", "severe"),
        ("Grade 2", "moderate"),
        ("Lee grade 3", "severe"),
    ],
)
def test_severity_words(phrase: str, severity: str) -> None:
    f = one(f"L4-5: {phrase} left foraminal stenosis.", "foraminal_stenosis")
    assert f.severity == severity


@pytest.mark.parametrize(("pct", "severity"), [(20, "mild"), (40, "moderate"), (60, "severe")])
def test_percent_narrowing(pct: int, severity: str) -> None:
    f = one(f"L4-5: Canal stenosis with {pct}% narrowing of the canal area.", "canal_stenosis")
    assert f.severity == severity


@pytest.mark.parametrize(("pct", "severity"), [(15, "mild"), (30, "moderate"), (50, "severe")])
def test_fracture_height_loss(pct: int, severity: str) -> None:
    f = one(f"Compression fracture of L1 with {pct}% anterior height loss.", "fracture")
    assert (f.level, f.severity, f.percent) == ("L1", severity, float(pct))


def test_size_words_grade_disc_findings() -> None:
    assert one("Small central protrusion at L4-5.", "disc_protrusion").severity == "mild"
    assert one("Large central extrusion at L4-5.", "disc_extrusion").severity == "severe"


def test_coordinated_sides_with_their_own_severity() -> None:
    got = tuples("L4-5: Severe right and moderate left foraminal stenosis.")
    assert got == {
        ("L4-L5", "right", "foraminal_stenosis", "severe"),
        ("L4-L5", "left", "foraminal_stenosis", "moderate"),
    }


def test_spondylolisthesis_grade_and_direction() -> None:
    f = one("Grade 2 anterolisthesis of L5 on S1.", "spondylolisthesis")
    assert (f.level, f.grade, f.direction, f.severity) == ("L5-S1", 2, "anterior", "moderate")
    r = one("Retrolisthesis of L3 on L4 measuring 3 mm.", "spondylolisthesis")
    assert (r.level, r.direction, r.severity, r.size_mm) == (
        "L3-L4",
        "posterior",
        "unspecified",
        3.0,
    )


# ---- nerve roots


def test_named_root() -> None:
    f = one(
        "L4-5: Disc protrusion contacting the traversing left L5 nerve root.",
        "nerve_root_compression",
    )
    assert (f.root, f.root_inferred, f.side, f.severity) == ("L5", False, "left", "mild")


@pytest.mark.parametrize(
    ("zone", "root"),
    [("paracentral", "L5"), ("subarticular", "L5"), ("foraminal", "L4"), ("extraforaminal", "L4")],
)
def test_root_inference_from_zone(zone: str, root: str) -> None:
    f = one(
        f"L4-5: Left {zone} disc protrusion compressing the nerve root.", "nerve_root_compression"
    )
    assert (f.root, f.root_inferred, f.side) == (root, True, "left")


def test_exiting_and_traversing_words() -> None:
    assert one("L3-4: extrusion compressing the exiting L3.", "nerve_root_compression").root == "L3"
    f = one(
        "L3-4: protrusion abutting the traversing nerve root on the right.",
        "nerve_root_compression",
    )
    assert (f.root, f.root_inferred) == ("L4", True)


# ---- findings, levels, sections


def test_migration_and_sequestration() -> None:
    f = one("L3-4: Left foraminal disc extrusion with cranial migration.", "disc_extrusion")
    assert f.migration == "cranial"
    g = one("L5-S1: Sequestered fragment migrating inferiorly.", "disc_sequestration")
    assert g.migration == "caudal"


def test_modic_type() -> None:
    assert one("Type 2 Modic changes at L4-5.", "modic_change").modic_type == 2
    assert one("Modic type I endplate changes at L5-S1.", "modic_change").modic_type == 1


def test_level_heading_governs_following_sentences() -> None:
    got = tuples("L4-5:\nDisc bulge.\nMild bilateral facet arthropathy.\n\nNo fracture.")
    assert got == {
        ("L4-L5", "central", "disc_bulge", "unspecified"),
        ("L4-L5", "bilateral", "facet_arthropathy", "mild"),
        (None, "central", "fracture", "none"),
    }


def test_impression_wins_on_conflict() -> None:
    report = parse_imaging_report(
        "FINDINGS: L4-5: Mild bilateral foraminal stenosis.\n"
        "IMPRESSION: Moderate bilateral foraminal stenosis at L4-5."
    )
    assert [(f.severity, f.section) for f in report.findings] == [("moderate", "impression")]
    assert [s.name for s in report.sections] == ["findings", "impression"]


def test_history_section_is_not_extracted() -> None:
    report = parse_imaging_report("HISTORY: rule out disc herniation.\nFINDINGS: Normal study.")
    assert report.findings == []


def test_span_points_at_the_text() -> None:
    text = "L4-5: Small central disc protrusion."
    f = one(text, "disc_protrusion")
    assert text[f.span[0] : f.span[1]] == f.text
    assert "protrusion" in f.text


def test_empty_and_too_large() -> None:
    assert parse_imaging_report("").findings == []
    assert parse_imaging_report("   \n ").findings == []
    with pytest.raises(InputTooLargeError, match="limit"):
        parse_imaging_report("x" * (MAX_REPORT_CHARS + 1))


# ---- corpora


def _load(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def test_corpus_covers_every_finding_twice() -> None:
    counts = dict.fromkeys(CONTRACT_FINDING_IDS, 0)
    cases = _load(DATA)
    assert len(cases) >= 60
    for case in cases:
        for t in case["expected"]:
            counts[t["finding"]] += 1
    assert all(n >= 2 for n in counts.values()), counts


@pytest.mark.parametrize("path", [DATA, DEV], ids=["corpus", "dev"])
def test_no_negated_finding_reported_present(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not available")
    for case in _load(path):
        negatives = {
            (t["level"], t["side"], t["finding"])
            for t in case["expected"]
            if t["severity"] == "none"
        }
        for f in parse_imaging_report(case["text"]).findings:
            if not f.negated:
                assert (f.level, f.side, f.finding) not in negatives, (case["id"], f)
