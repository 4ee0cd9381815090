"""Seed conditions of articles 002 (foraminal narrowing), 003 (sequestration) and 004 (L4 pain).

The knowledge base must load, and each condition must represent every item of its article's
condition sections: the counts are hard-coded (verified by reading the articles) and, when the
articles are present in ../shared/seeds, re-derived from them with a simple scan, together with
heading-to-name matching and a check that every number an article gives reappears in our text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from spineguide.knowledge.loader import load_knowledge_base, normalize_name
from spineguide.knowledge.schema import Condition, Urgency

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED_002 = SEEDS / "002_fae9cad22fa509ab.txt"
SEED_003 = SEEDS / "003_50e43db682ec35a6.txt"
SEED_004 = SEEDS / "004_2ea9fb71761ddfac.txt"

FORAMINAL = "foraminal-stenosis"
SEQUESTRATION = "disc-sequestration"
L4 = "l4-spine-pain"
SOURCE = {
    FORAMINAL: "seed-foraminal-narrowing",
    SEQUESTRATION: "seed-disc-sequestration",
    L4: "seed-l4-pain-options",
}

# Counts verified by reading the articles (section -> number of items).
EXPECTED = {
    FORAMINAL: {
        "types": 5,
        "causes": 20,
        "symptoms": 20,
        "prevention": 10,
        "when_to_see_doctor": 5,
        "dos": 5,
        "donts": 5,
        "faqs": 15,
    },
    SEQUESTRATION: {
        "types": 6,
        "causes": 20,
        "symptoms": 20,
        "prevention": 10,
        "when_to_see_doctor": 5,
        "dos": 5,
        "donts": 5,
        "faqs": 15,
        "anatomy": 6,
        "functions": 6,
    },
    L4: {
        "types": 0,
        "causes": 4,
        "symptoms": 6,
        "prevention": 4,
        "when_to_see_doctor": 1,
        "dos": 0,
        "donts": 0,
        "faqs": 0,
    },
}
REF_SECTIONS = ("prevention", "when_to_see_doctor", "dos", "donts", "faqs")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def _cond(kb, cid: str) -> Condition:
    return kb.conditions[cid]


def _section_len(cond: Condition, section: str) -> int:
    if section in ("anatomy", "functions"):
        return sum(1 for b in cond.background if b.section == section)
    return len(getattr(cond, section))


# ------------------------------------------------------------------------------------------
# Simple article scanners (only used when the seed files are present)
# ------------------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _between(lines: list[str], start: str, end: str) -> list[str]:
    """Lines between the first line starting with `start` and the next one starting with `end`."""
    i = next(k for k, ln in enumerate(lines) if ln.strip().startswith(start))
    j = next(k for k in range(i + 1, len(lines)) if lines[k].strip().startswith(end))
    return lines[i + 1 : j]


def _numbered(block: list[str]) -> list[tuple[str, str]]:
    """Article 002 style: '  N. Heading' followed by one description line."""
    out = []
    for k, ln in enumerate(block):
        m = re.match(r"^\s+\d+\.\s+(.*\S)\s*$", ln)
        if m:
            desc = block[k + 1].strip() if k + 1 < len(block) else ""
            out.append((m.group(1), desc))
    return out


def _dashed(block: list[str]) -> list[tuple[str, str]]:
    """Article 003 style: a '-' line followed by 'Heading – description' (or '- text' inline)."""
    out = []
    for k, ln in enumerate(block):
        s = ln.strip()
        if s == "-" and k + 1 < len(block):
            item = block[k + 1].strip()
        elif s.startswith("- "):
            item = s[2:].strip()
        else:
            continue
        head, _, desc = item.partition(" – ")
        out.append((head.strip(), desc.strip()))
    return out


def _article_002() -> dict[str, list[tuple[str, str]]]:
    lines = _lines(SEED_002)
    types_block = _between(lines, "Types of Lumbar Bilateral", "Causes of Bilateral")
    types = [(p.strip(), p.strip()) for p in types_block if p.strip()]
    seek = _between(lines, "When to See a Doctor", "What to Do and What to Avoid")
    return {
        "types": types,
        "causes": _numbered(_between(lines, "Causes of Bilateral", "Symptoms Associated")),
        "symptoms": _numbered(_between(lines, "Symptoms Associated", "Diagnostic Tests")),
        "prevention": _numbered(_between(lines, "Prevention Strategies", "When to See a Doctor")),
        "when_to_see_doctor": [(s.strip(" •"), "") for s in seek if s.strip().startswith("•")],
        "dos": _numbered(_between(lines, "Do:", "Avoid:")),
        "donts": _numbered(_between(lines, "Avoid:", "Frequently Asked Questions")),
        "faqs": _numbered(_between(lines, "Frequently Asked Questions", "Disclaimer")),
    }


def _article_003() -> dict[str, list[tuple[str, str]]]:
    lines = _lines(SEED_003)
    faq_block = _between(lines, "Frequently Asked Questions", "Disclaimer")
    faqs = []
    for k, ln in enumerate(faq_block):
        if ln.strip().endswith("?"):
            answer = faq_block[k + 1].strip() if k + 1 < len(faq_block) else ""
            faqs.append((ln.strip(), answer))
    anatomy_heads = [
        "Structure",
        "Location",
        "Embryologic Origin",
        "“Insertion” Concept",
        "Blood Supply",
        "Nerve Supply",
    ]
    anatomy = []
    for head in anatomy_heads:
        k = next(i for i, ln in enumerate(lines) if ln.strip() == head)
        anatomy.append((head, lines[k + 1].strip()))
    return {
        "anatomy": anatomy,
        "functions": _dashed(_between(lines, "Key Functions", "Types of L3")),
        "types": _dashed(_between(lines, "Types of L3", "Causes")),
        "causes": _dashed(_between(lines, "Causes", "Symptoms")),
        "symptoms": _dashed(_between(lines, "Symptoms", "Diagnostic Tests")),
        "prevention": _dashed(_between(lines, "Prevention Strategies", "When Should You See")),
        "when_to_see_doctor": _dashed(_between(lines, "When Should You See", "Do’s & Don’ts")),
        "dos": _dashed(_between(lines, "Do’s & Don’ts", "Don’t")[1:]),
        "donts": _dashed(_between(lines, "Don’t", "Frequently Asked Questions")),
        "faqs": faqs,
    }


def _matches(title: str, names: list[str]) -> bool:
    """The coverage rule: equal after normalisation, or a name/alias opens the title as words."""
    t = normalize_name(title)
    for n in names:
        k = normalize_name(n)
        if k and (t == k or t.startswith(k + " ")):
            return True
    return False


_NUM = re.compile(r"\d+(?:\.\d+)?")


def _numbers(text: str) -> set[str]:
    return set(_NUM.findall(text))


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


def test_three_entries_load(kb):
    for cid, src in SOURCE.items():
        cond = _cond(kb, cid)
        assert cond.seed_article == src
        assert kb.sources[src].condition == cid
        assert cond.group == ("topic" if cid == L4 else "seed")
        assert cond.definition and cond.patient_summary


@pytest.mark.parametrize("cid", list(EXPECTED))
def test_section_counts_match_hardcoded(kb, cid):
    cond = _cond(kb, cid)
    for section, n in EXPECTED[cid].items():
        assert _section_len(cond, section) == n, (cid, section)


@pytest.mark.skipif(not SEED_002.exists() or not SEED_003.exists(), reason="seed articles absent")
@pytest.mark.parametrize("cid", [FORAMINAL, SEQUESTRATION])
def test_section_counts_match_articles(kb, cid):
    article = _article_002() if cid == FORAMINAL else _article_003()
    cond = _cond(kb, cid)
    for section, items in article.items():
        assert len(items) == EXPECTED[cid][section], (cid, section, "scanner/hard-code mismatch")
        assert _section_len(cond, section) == len(items), (cid, section)


@pytest.mark.skipif(not SEED_002.exists() or not SEED_003.exists(), reason="seed articles absent")
@pytest.mark.parametrize("cid", [FORAMINAL, SEQUESTRATION])
def test_named_items_match_article_headings(kb, cid):
    article = _article_002() if cid == FORAMINAL else _article_003()
    cond = _cond(kb, cid)
    for section in ("types", "causes", "symptoms"):
        entries = getattr(cond, section)
        for k, (title, _) in enumerate(article[section]):
            entry = entries[k]  # kept in article order
            assert _matches(title, [entry.id, entry.name, *entry.aliases]), (section, title)


@pytest.mark.skipif(not SEED_002.exists() or not SEED_003.exists(), reason="seed articles absent")
@pytest.mark.parametrize("cid", [FORAMINAL, SEQUESTRATION])
def test_article_numbers_reappear(kb, cid):
    article = _article_002() if cid == FORAMINAL else _article_003()
    cond = _cond(kb, cid)
    ours: dict[str, list[str]] = {
        "types": [t.description + " " + (t.criteria or "") for t in cond.types],
        "causes": [c.description for c in cond.causes],
        "symptoms": [s.description for s in cond.symptoms],
        "prevention": [p.text for p in cond.prevention],
        "dos": [d.text for d in cond.dos],
        "donts": [d.text for d in cond.donts],
        "when_to_see_doctor": [w.text for w in cond.when_to_see_doctor],
        "faqs": [f.question + " " + f.answer for f in cond.faqs],
        "anatomy": [b.text for b in cond.background if b.section == "anatomy"],
        "functions": [b.text for b in cond.background if b.section == "functions"],
    }
    for section, items in article.items():
        for k, (title, desc) in enumerate(items):
            # headings that carry root or level names are checked through the description
            wanted = _numbers(
                desc if section in ("causes", "symptoms", "types") else title + " " + desc
            )
            missing = wanted - _numbers(ours[section][k])
            assert not missing, (section, k + 1, missing)


def test_foraminal_grades_carry_criteria_ranges(kb):
    types = {t.id: t for t in _cond(kb, FORAMINAL).types}
    expected = {"mild": (0, 25), "moderate": (25, 50), "severe": (50, 100)}
    for tid, rng in expected.items():
        t = types[tid]
        assert t.criteria, tid
        assert tuple(t.criteria_range) == rng
        assert t.criteria_unit == "percent foraminal narrowing"
        assert t.imaging_match == {"severity": tid}
    assert {"congenital", "acquired"} <= set(types)
    assert "25" in types["mild"].description and "50" in types["severe"].description


def test_sequestration_types_map_to_imaging(kb):
    types = {t.id: t for t in _cond(kb, SEQUESTRATION).types}
    assert types["far_lateral"].imaging_match["zone"] == "extraforaminal"
    assert types["cranial_migration"].imaging_match["migration"] == "cranial"
    assert types["caudal_migration"].imaging_match["migration"] == "caudal"
    assert types["intradural"].imaging_match["compartment"] == "intradural"


@pytest.mark.parametrize("cid", list(SOURCE))
def test_symptom_findings_exist(kb, cid):
    for s in _cond(kb, cid).symptoms:
        assert s.finding in kb.findings, (cid, s.id, s.finding)


@pytest.mark.parametrize("cid", list(SOURCE))
def test_cause_diagnoses_are_known(kb, cid):
    from spineguide.knowledge.schema import ALL_DIAGNOSIS_IDS

    for c in _cond(kb, cid).causes:
        if c.diagnosis:
            assert c.diagnosis in ALL_DIAGNOSIS_IDS, (cid, c.id, c.diagnosis)
    for dx in _cond(kb, cid).distinguish_from:
        assert dx in ALL_DIAGNOSIS_IDS, (cid, dx)


def test_l4_causes_link_diagnoses(kb):
    causes = {c.id: c.diagnosis for c in _cond(kb, L4).causes}
    assert causes == {
        "herniated_discs": "disc-herniation",
        "facet_joint_osteoarthritis": "facet-joint-arthropathy",
        "spinal_stenosis": "lumbar-spinal-stenosis",
        "degenerative_disc_disease": "degenerative-disc-disease",
    }


@pytest.mark.skipif(not SEED_004.exists(), reason="seed article absent")
def test_l4_named_items_appear_in_prose(kb):
    text = normalize_name(SEED_004.read_text(encoding="utf-8"))
    cond = _cond(kb, L4)
    for entry in [*cond.causes, *cond.symptoms]:
        names = [entry.name, *entry.aliases]
        assert any(f" {normalize_name(n)} " in f" {text} " for n in names), entry.id


@pytest.mark.parametrize("cid", list(SOURCE))
def test_seek_care_items_have_rules_and_emergencies(kb, cid):
    rules = {r["id"]: r for r in kb.raw["red_flags"]["rules"]}
    items = _cond(kb, cid).when_to_see_doctor
    assert items
    for w in items:
        assert w.red_flag_rule in rules, w.text
        # the main clause (before any parenthetical safety-net remark) names the red flag
        head = w.text.lower().split("(")[0]
        if "bowel" in head or "bladder" in head or "saddle" in head:
            assert w.urgency == Urgency.emergency, w.text
            assert w.red_flag_rule == "cauda_equina"
        if w.red_flag_rule == "cauda_equina":
            assert w.urgency == Urgency.emergency
    if cid != L4:
        by_rule = defaultdict(list)
        for w in items:
            by_rule[w.red_flag_rule].append(w.urgency)
        assert by_rule["cauda_equina"] and by_rule["fracture"] and by_rule["spinal_infection"]
        assert by_rule["progressive_motor_deficit"]


@pytest.mark.parametrize("cid", list(SOURCE))
def test_refs_are_complete_and_ordered(kb, cid):
    cond = _cond(kb, cid)
    src = SOURCE[cid]
    for section in REF_SECTIONS:
        items = getattr(cond, section)
        got = [r.item for it in items for r in it.refs if r.source == src and r.section == section]
        assert got == list(range(1, len(items) + 1)), (cid, section)
    for section in ("anatomy", "functions"):
        notes = [b for b in cond.background if b.section == section]
        got = [r.item for b in notes for r in b.refs if r.section == section]
        assert got == list(range(1, len(notes) + 1)), (cid, section)


@pytest.mark.parametrize("cid", list(SOURCE))
def test_every_item_names_the_seed_source(kb, cid):
    cond = _cond(kb, cid)
    src = SOURCE[cid]
    assert src in cond.sources
    groups = [
        cond.types,
        cond.causes,
        cond.symptoms,
        cond.background,
        cond.prevention,
        cond.when_to_see_doctor,
        cond.dos,
        cond.donts,
        cond.faqs,
    ]
    for group in groups:
        for item in group:
            assert src in item.sources, (cid, item)


@pytest.mark.parametrize("cid", list(SOURCE))
def test_icd10cm_codes_are_billable(kb, cid):
    cm = pytest.importorskip("simple_icd_10_cm")
    codes = _cond(kb, cid).icd10cm
    assert codes
    assert sum(c.primary for c in codes) == 1
    for c in codes:
        assert cm.is_valid_item(c.code) and cm.is_leaf(c.code), c.code
        assert c.applies_when


def test_expected_icd_codes(kb):
    def codes(cid):
        return {c.code for c in _cond(kb, cid).icd10cm}

    assert {"M99.73", "M99.63"} <= codes(FORAMINAL)
    assert {"M51.16", "M51.26"} <= codes(SEQUESTRATION)
    assert {"M54.50", "M54.51", "M54.59"} <= codes(L4)
    # header codes are never billable
    for cid in SOURCE:
        assert not codes(cid) & {"M51.36", "M51.37", "M48.06", "M54.5", "M54.4"}


@pytest.mark.parametrize("cid", list(SOURCE))
def test_first_investigations_are_known_test_ids(kb, cid):
    allowed = {
        "slr", "crossed_slr", "femoral_stretch", "crossed_femoral_stretch", "slump", "kemp",
        "neuro_exam", "anal_tone_exam", "mri", "ct", "xray", "ct_myelography", "mri_gadolinium",
    }  # fmt: skip
    inv = _cond(kb, cid).first_investigations
    assert inv and set(inv) <= allowed
    if kb.tests:
        assert set(inv) <= set(kb.tests)


def test_dubious_claims_carry_notes(kb):
    fs = {s.id: s.description for s in _cond(kb, FORAMINAL).symptoms}
    assert "L5" in fs["trendelenburg_sign"]
    assert "neck" in fs["neck_upper_back_tightness"].lower()
    faq4 = _cond(kb, FORAMINAL).faqs[3].answer.lower()
    assert "flexion" in faq4 and "smaller" in faq4
    hydr = [p.text for p in _cond(kb, SEQUESTRATION).prevention if "hydrated" in p.text.lower()]
    assert hydr and "proteoglycan" in hydr[0]
