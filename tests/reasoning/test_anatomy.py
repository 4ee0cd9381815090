"""One root rule per disc level (issue 11): anatomy, imaging reader and plain-language text agree.

Foraminal and far-lateral lesions press on the EXITING root, subarticular / paracentral /
lateral-recess lesions on the TRAVERSING root, central canal stenosis on the traversing root and
every root below it; a bulge names no root unless the report says it touches one.
"""

from __future__ import annotations

import pytest

from spineguide.knowledge.loader import KnowledgeBase
from spineguide.reasoning import anatomy, imaging_evidence
from spineguide.text.imaging import parse_imaging_report
from spineguide.text.models import ImagingFinding
from spineguide.text.pipes.roots import infer_root, level_of_root
from spineguide.web.plain_language import roots_for_finding


def _f(finding: str, level: str, zone: str | None = None, **kw: object) -> ImagingFinding:
    return ImagingFinding(finding=finding, level=level, zone=zone, side="left", **kw)  # type: ignore[arg-type]


# ---- the rule, one zone at a time, at two levels each

ZONE_CASES = [
    # (finding, zone, level, expected roots)
    ("disc_protrusion", "foraminal", "L3-L4", {"L3"}),
    ("disc_protrusion", "foraminal", "L4-L5", {"L4"}),
    ("disc_extrusion", "extraforaminal", "L4-L5", {"L4"}),  # far lateral follows foraminal
    ("disc_extrusion", "extraforaminal", "L5-S1", {"L5"}),
    ("disc_extrusion", "subarticular", "L4-L5", {"L5"}),
    ("disc_extrusion", "subarticular", "L5-S1", {"S1"}),
    ("disc_protrusion", "paracentral", "L3-L4", {"L4"}),
    ("disc_protrusion", "paracentral", "L4-L5", {"L5"}),
    ("disc_herniation", None, "L4-L5", {"L5"}),  # no zone given: the usual paracentral site
    ("foraminal_stenosis", None, "L3-L4", {"L3"}),
    ("foraminal_stenosis", None, "L5-S1", {"L5"}),
    ("lateral_recess_stenosis", None, "L4-L5", {"L5"}),
    ("lateral_recess_stenosis", None, "L5-S1", {"S1"}),
    ("canal_stenosis", None, "L3-L4", {"L4", "L5", "S1", "S2"}),
    ("canal_stenosis", None, "L4-L5", {"L5", "S1", "S2"}),
    ("cauda_equina_compression", None, "L4-L5", {"L5", "S1", "S2"}),
]


@pytest.mark.parametrize("finding, zone, level, roots", ZONE_CASES)
def test_one_rule_per_zone_and_level(
    kb: KnowledgeBase, finding: str, zone: str | None, level: str, roots: set[str]
) -> None:
    assert set(anatomy.affected_roots(_f(finding, level, zone), kb)) == roots


@pytest.mark.parametrize(
    "zone, position",
    [
        ("foraminal", "exiting"),
        ("extraforaminal", "exiting"),
        ("subarticular", "traversing"),
        ("paracentral", "traversing"),
        ("central", "traversing"),
        (None, None),
    ],
)
def test_zone_position(zone: str | None, position: str | None) -> None:
    assert anatomy.zone_position(zone) == position


def test_a_zone_moves_only_disc_lesions(kb: KnowledgeBase) -> None:
    """A foraminal word beside canal stenosis does not turn it into an exiting-root lesion."""
    assert set(anatomy.affected_roots(_f("canal_stenosis", "L4-L5", "foraminal"), kb)) == {
        "L5",
        "S1",
        "S2",
    }
    assert anatomy.affected_roots(_f("facet_arthropathy", "L4-L5", "foraminal"), kb) == {}


def test_a_bulge_names_no_root_unless_the_report_does(kb: KnowledgeBase) -> None:
    for severity in ("mild", "moderate", "severe"):
        bulge = _f("disc_bulge", "L4-L5", "paracentral", severity=severity)
        assert anatomy.affected_roots(bulge, kb) == {}
        assert roots_for_finding(bulge, kb) == []
    touching = _f("disc_bulge", "L4-L5", root="L5")
    assert anatomy.affected_roots(touching, kb) == {"L5": "named"}
    assert roots_for_finding(touching, kb) == ["L5"]


def test_level_lookup_both_ways(kb: KnowledgeBase) -> None:
    assert anatomy.root_at("L3-L4", "exiting", kb) == "L3"
    assert anatomy.root_at("L3-L4", "traversing", kb) == "L4"
    assert anatomy.level_of_root("S1", "traversing", kb) == "L5-S1"
    assert anatomy.level_of_root("L4", "exiting", kb) == "L4-L5"
    assert anatomy.root_at("L9-L10", "exiting", kb) is None
    assert anatomy.in_root_order(["S1", "L4", "S2", "L5"]) == ["L4", "L5", "S1", "S2"]


# ---- the callers: imaging reader, plain-language text, imaging evidence


@pytest.mark.parametrize(
    "sentence, level, root",
    [
        ("L3-4: right foraminal disc protrusion compressing the nerve root.", "L3-L4", "L3"),
        ("L4-5: left foraminal disc protrusion compressing the nerve root.", "L4-L5", "L4"),
        (
            "L4-5: far lateral disc protrusion on the right displacing the nerve root.",
            "L4-L5",
            "L4",
        ),
        ("L5-S1: left extraforaminal disc extrusion contacting the nerve root.", "L5-S1", "L5"),
        ("L3-4: left subarticular disc extrusion compressing the nerve root.", "L3-L4", "L4"),
        ("L5-S1: right paracentral disc protrusion contacting the nerve root.", "L5-S1", "S1"),
    ],
)
def test_reader_plain_language_and_anatomy_agree(
    kb: KnowledgeBase, sentence: str, level: str, root: str
) -> None:
    """The root the reader infers is the one the anatomy rule and the patient text name."""
    found = parse_imaging_report(sentence).findings
    (nerve,) = [f for f in found if f.finding == "nerve_root_compression"]
    (disc,) = [f for f in found if f.finding.startswith("disc_")]
    assert (nerve.level, nerve.root, nerve.root_inferred) == (level, root, True)
    assert set(anatomy.affected_roots(disc, kb)) == {root}
    assert roots_for_finding(disc, kb) == [root]
    assert roots_for_finding(nerve, kb) == [root]
    position = anatomy.zone_position(disc.zone)
    assert position is not None
    assert infer_root(level, position) == root
    assert level_of_root(root, position) == level


def test_plain_language_follows_the_canal_rule_on_read_reports(kb: KnowledgeBase) -> None:
    """Canal stenosis names the traversing root and those below it (within L1-S1)."""
    (upper,) = parse_imaging_report("L3-4: moderate central canal stenosis.").findings
    (lower,) = parse_imaging_report("L4-5: severe central canal stenosis.").findings
    assert roots_for_finding(upper, kb) == ["L4", "L5", "S1"]
    assert roots_for_finding(lower, kb) == ["L5", "S1"]
    (bulge,) = parse_imaging_report("L4-5: moderate disc bulge.").findings
    assert bulge.finding == "disc_bulge" and roots_for_finding(bulge, kb) == []


def test_plain_language_names_no_root_for_a_negated_finding(kb: KnowledgeBase) -> None:
    (f,) = parse_imaging_report("L4-5: no foraminal stenosis.").findings
    assert f.negated and roots_for_finding(f, kb) == []


def test_every_caller_agrees_with_anatomy_on_hand_built_findings(kb: KnowledgeBase) -> None:
    """Plain-language roots are the anatomy roots within L1-S1, in head-to-tail order."""
    for finding, zone, level, _ in ZONE_CASES:
        f = _f(finding, level, zone)
        want = [r for r in anatomy.in_root_order(anatomy.affected_roots(f, kb)) if r != "S2"]
        assert roots_for_finding(f, kb) == want
        position = anatomy.root_position(finding, zone)
        if position in ("exiting", "traversing"):
            assert infer_root(level, position) in anatomy.affected_roots(f, kb)


def test_imaging_evidence_keeps_no_second_root_rule() -> None:
    """Roots per level are answered only by reasoning.anatomy (issue 11)."""
    for name in ("level_roots", "roots_below", "affected_roots", "LevelRoots"):
        assert not hasattr(imaging_evidence, name)
