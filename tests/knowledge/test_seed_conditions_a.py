"""Seed conditions of articles 000 (disc calcification) and 001 (L3-L4 nerve root compression).

Checks that each condition carries every item its article lists (counts verified by hand and,
when ../shared/seeds is present, re-derived from the article text), that article headings match
our names or aliases, that article numbers reappear in our text, and that links (findings,
red-flag rules, diagnosis ids, ICD-10-CM codes) are valid.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spineguide.knowledge.loader import load_knowledge_base, normalize_name
from spineguide.knowledge.schema import ALL_DIAGNOSIS_IDS, Condition, Urgency

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
ARTICLES = {
    "disc-calcification": ("seed-disc-calcification", "000_c9f4933e395b6168.txt"),
    "nerve-root-compression": ("seed-nerve-root-compression", "001_7f45134321b62308.txt"),
}
# Item counts per section, verified by reading the two articles.
EXPECTED = {
    "disc-calcification": {
        "types": 5,
        "causes": 20,
        "symptoms": 20,
        "prevention": 10,
        "when_to_see_doctor": 5,
        "dos": 5,
        "donts": 5,
        "faqs": 15,
    },
    "nerve-root-compression": {
        "types": 8,
        "causes": 20,
        "symptoms": 20,
        "prevention": 10,
        "when_to_see_doctor": 5,
        "dos": 10,
        "donts": 10,
        "faqs": 15,
    },
}
NAMED = ("types", "causes", "symptoms")
REFERENCED = ("prevention", "when_to_see_doctor", "dos", "donts", "faqs")
NUM = re.compile(r"\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


# ------------------------------------------------------------------ article scanning helpers


def _between(lines: list[str], start: str, end: str) -> list[str]:
    i = next(k for k, line in enumerate(lines) if line.strip() == start)
    j = next(k for k, line in enumerate(lines) if k > i and line.strip() == end)
    return [line.strip() for line in lines[i + 1 : j]]


def _after_dash(block: list[str]) -> list[str]:
    """Article 000 style: every item is the line after a lone '-' line."""
    return [block[k + 1] for k, line in enumerate(block) if line == "-" and k + 1 < len(block)]


def _segments(block: list[str]) -> list[str]:
    """Article 001 style: heading and description lines, items separated by ' -'."""
    out: list[str] = []
    for line in block:
        for part in re.split(r"\s+-\s+|\s+-$|^-\s+|^-$", line):
            if part and part.strip():
                out.append(part.strip())
    return out


def _pairs(block: list[str]) -> list[tuple[str, str]]:
    seg = _segments(block)
    return list(zip(seg[0::2], seg[1::2], strict=True))


def scan_000(text: str) -> dict[str, list[tuple[str, str]]]:
    """(title, full item text) per section for article 000."""
    lines = text.splitlines()
    out: dict[str, list[tuple[str, str]]] = {}
    types = _after_dash(_between(lines, "Types", "Causes"))
    out["types"] = [(t, t) for t in types]
    for key, start, end in (
        ("causes", "Causes", "Symptoms"),
        ("symptoms", "Symptoms", "Diagnostic Tests"),
    ):
        out[key] = [(s.split(":", 1)[0], s) for s in _after_dash(_between(lines, start, end))]
    for key, start, end in (
        ("prevention", "Prevention Strategies", "When to See a Doctor"),
        ("when_to_see_doctor", "When to See a Doctor", "What to Do and What to Avoid"),
        ("dos", "Do:", "Avoid:"),
    ):
        out[key] = [("", s) for s in _after_dash(_between(lines, start, end))]
    avoid = _between(lines, "Avoid:", "Frequently Asked Questions (FAQs)")
    out["donts"] = [("", re.sub(r"^\d+\.\s*", "", s)) for s in avoid if re.match(r"^\d+\.", s)]
    faq = _between(lines, "Frequently Asked Questions (FAQs)", lines[-1].strip())
    out["faqs"] = [
        ("", re.sub(r"^Q\d+\.\s*", "", q) + " " + faq[k + 1])
        for k, q in enumerate(faq)
        if re.match(r"^Q\d+\.", q)
    ]
    return out


def scan_001(text: str) -> dict[str, list[tuple[str, str]]]:
    """(title, full item text) per section for article 001."""
    lines = text.splitlines()
    out: dict[str, list[tuple[str, str]]] = {}
    types = _pairs(
        _between(
            lines, "Types of L3–L4 Nerve Root Compression", "Causes of L3–L4 Nerve Root Compression"
        )
    )
    out["types"] = [(h.rstrip("."), h + " " + d) for h, d in types]
    causes = _between(lines, "Causes of L3–L4 Nerve Root Compression", "Symptoms")
    out["causes"] = [
        (re.sub(r"^\d+\.\s*", "", c).rstrip("."), re.sub(r"^\d+\.\s*", "", c) + " " + causes[k + 1])
        for k, c in enumerate(causes)
        if re.match(r"^\d+\.\s", c)
    ]
    out["symptoms"] = [
        (h, h + " " + d) for h, d in _pairs(_between(lines, "Symptoms", "Diagnostic Tests"))
    ]
    prev = _pairs(_between(lines, "Prevention Strategies", "When to See a Doctor"))
    out["prevention"] = [("", h + " " + d) for h, d in prev]
    wtsd = _between(lines, "When to See a Doctor", "What to Do and What to Avoid")
    out["when_to_see_doctor"] = [("", s) for s in wtsd[1:] if s and s != "-"]
    dd = _between(lines, "What to Do and What to Avoid", "Frequently Asked Questions")
    out["dos"] = [("", s[3:].strip()) for s in dd if s.startswith("Do:")]
    out["donts"] = [("", s[6:].strip(" -")) for s in dd if s.startswith("Avoid:")]
    faq = [s for s in _between(lines, "Frequently Asked Questions", lines[-1].strip()) if s != "-"]
    out["faqs"] = [("", q + " " + faq[k + 1]) for k, q in enumerate(faq) if q.endswith("?")]
    return out


SCANNERS = {"disc-calcification": scan_000, "nerve-root-compression": scan_001}


def _article(cond_id: str) -> dict[str, list[tuple[str, str]]] | None:
    path = SEEDS / ARTICLES[cond_id][1]
    if not path.exists():
        return None
    return SCANNERS[cond_id](path.read_text(encoding="utf-8"))


def _names(entry) -> list[str]:
    return [normalize_name(n) for n in (entry.id, entry.name, *entry.aliases)]


def _matches(title: str, entry) -> bool:
    t = normalize_name(title)
    return any(t == n or t.startswith(n + " ") for n in _names(entry) if n)


def _item_text(cond: Condition, section: str, index: int) -> str:
    """Our text for the article item `index` (1-based) of a referenced section."""
    hits = [
        item
        for item in getattr(cond, section)
        if any(r.item == index and r.section == section for r in item.refs)
    ]
    assert hits, f"{cond.id}: no {section} entry refers to item {index}"
    parts: list[str] = []
    for item in hits:
        parts += [getattr(item, f, "") or "" for f in ("text", "question", "answer")]
    return " ".join(parts)


# ------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_condition_loads_as_seed(kb, cond_id):
    cond = kb.condition(cond_id)
    source_id = ARTICLES[cond_id][0]
    assert cond.group == "seed"
    assert cond.seed_article == source_id
    assert kb.seed_condition(source_id) is cond
    assert cond.definition and cond.patient_summary
    assert cond.default_urgency == Urgency.routine


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_section_counts_match_article(kb, cond_id):
    cond = kb.condition(cond_id)
    expected = EXPECTED[cond_id]
    for key in NAMED:
        assert len(getattr(cond, key)) == expected[key], key
    for key in REFERENCED:
        refs = [r.item for item in getattr(cond, key) for r in item.refs if r.section == key]
        assert sorted(refs) == list(range(1, expected[key] + 1)), key
    scanned = _article(cond_id)
    if scanned is None:
        pytest.skip("shared seeds not available")
    assert {k: len(v) for k, v in scanned.items()} == expected


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_every_item_cites_the_article(kb, cond_id):
    cond = kb.condition(cond_id)
    source_id = ARTICLES[cond_id][0]
    assert source_id in cond.sources
    for key in (*NAMED, *REFERENCED, "background"):
        for item in getattr(cond, key):
            assert source_id in item.sources or any(
                r.source == source_id for r in getattr(item, "refs", [])
            ), (key, item)
            for ref in getattr(item, "refs", []):
                assert ref.source == source_id
                assert ref.section == key or key == "background"


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_named_items_have_unique_ids_and_match_article_headings(kb, cond_id):
    cond = kb.condition(cond_id)
    for key in NAMED:
        entries = getattr(cond, key)
        assert len({e.id for e in entries}) == len(entries), key
    scanned = _article(cond_id)
    if scanned is None:
        pytest.skip("shared seeds not available")
    for key in NAMED:
        entries = getattr(cond, key)
        used: set[str] = set()
        for title, _ in scanned[key]:
            hits = [e for e in entries if _matches(title, e)]
            assert hits, f"{cond_id}: article {key} heading {title!r} matches no entry"
            used.add(hits[0].id)
        assert len(used) == len(entries), f"{cond_id}: {key} headings map onto fewer entries"


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_article_numbers_reappear_in_our_text(kb, cond_id):
    scanned = _article(cond_id)
    if scanned is None:
        pytest.skip("shared seeds not available")
    cond = kb.condition(cond_id)
    for key in NAMED:
        entries = getattr(cond, key)
        for title, text in scanned[key]:
            entry = next(e for e in entries if _matches(title, e))
            ours = " ".join([entry.name, entry.description, getattr(entry, "criteria", "") or ""])
            missing = set(NUM.findall(text)) - set(NUM.findall(ours))
            assert not missing, f"{cond_id} {key} {entry.id}: numbers {missing} missing"
    for key in REFERENCED:
        for index, (_, text) in enumerate(scanned[key], start=1):
            ours = _item_text(cond, key, index)
            missing = set(NUM.findall(text)) - set(NUM.findall(ours))
            assert not missing, f"{cond_id} {key} item {index}: numbers {missing} missing"


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_symptoms_link_to_known_findings(kb, cond_id):
    cond = kb.condition(cond_id)
    for symptom in cond.symptoms:
        assert symptom.finding in kb.findings, symptom.id
        for root in symptom.roots:
            assert root in ("L1", "L2", "L3", "L4", "L5", "S1")


def test_new_findings_are_used(kb):
    used = {s.finding for c in ARTICLES for s in kb.condition(c).symptoms}
    for fid in ("lancinating_pain", "hyperalgesia"):
        assert fid in kb.findings
        assert fid in used


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_when_to_see_doctor_rules_and_urgency(kb, cond_id):
    cond = kb.condition(cond_id)
    rules = {r["id"]: r for r in kb.raw["red_flags"]["rules"]}
    for item in cond.when_to_see_doctor:
        assert item.red_flag_rule in rules, item.text
    sphincter = [i for i in cond.when_to_see_doctor if "bladder" in i.text.lower()]
    assert len(sphincter) == 1
    assert sphincter[0].urgency == Urgency.emergency
    assert sphincter[0].red_flag_rule == "cauda_equina"
    systemic = [
        i for i in cond.when_to_see_doctor if i.red_flag_rule in ("spinal_infection", "malignancy")
    ]
    assert len(systemic) == 1
    assert systemic[0].urgency == Urgency.urgent
    assert "weight loss" in systemic[0].text and "fever" in systemic[0].text
    persistent = [i for i in cond.when_to_see_doctor if i.red_flag_rule == "persistent_symptoms"]
    assert len(persistent) == 1 and "weeks" in persistent[0].text
    assert persistent[0].urgency == Urgency.routine
    # the symptom that mentions sphincter trouble points at a cauda equina finding
    assert any(s.finding in rules["cauda_equina"]["all"][0]["any"] for s in cond.symptoms)


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_icd10cm_codes_are_billable(kb, cond_id):
    cm = pytest.importorskip("simple_icd_10_cm")
    cond = kb.condition(cond_id)
    assert cond.icd10cm
    assert sum(c.primary for c in cond.icd10cm) == 1
    for code in cond.icd10cm:
        assert cm.is_valid_item(code.code) and cm.is_leaf(code.code), code.code
        assert code.applies_when
        assert normalize_name(code.description) == normalize_name(cm.get_description(code.code))
    codes = {c.code for c in cond.icd10cm}
    assert not {"M51.36", "M51.37", "M48.06", "M54.5", "M54.4"} & codes  # headers


def test_expected_primary_codes(kb):
    primary = {c: next(x.code for x in kb.condition(c).icd10cm if x.primary) for c in ARTICLES}
    assert primary == {"disc-calcification": "M51.86", "nerve-root-compression": "M54.16"}
    calc = {c.code for c in kb.condition("disc-calcification").icd10cm}
    assert {"M51.360", "M51.361", "M51.362"} <= calc


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_links_to_other_diagnoses_and_tests(kb, cond_id):
    cond = kb.condition(cond_id)
    for cause in cond.causes:
        if cause.diagnosis:
            assert cause.diagnosis in ALL_DIAGNOSIS_IDS, cause.id
    for other in cond.distinguish_from:
        assert other in ALL_DIAGNOSIS_IDS and other != cond.id
    if kb.tests:
        assert set(cond.first_investigations) <= set(kb.tests)


def test_cause_diagnosis_links(kb):
    links = {c.id: c.diagnosis for c in kb.condition("nerve-root-compression").causes}
    assert links["herniated_disc"] == "disc-herniation"
    assert links["synovial_cysts"] == "facet-synovial-cyst"
    assert links["infection_abscess"] == "spinal-infection"
    assert links["tumors"] == "spinal-malignancy"
    assert links["epidural_hematoma"] == "spinal-epidural-hematoma"
    assert links["spondylolisthesis"] == "degenerative-spondylolisthesis"
    calc = {c.id: c.diagnosis for c in kb.condition("disc-calcification").causes}
    assert calc["discitis"] == "spinal-infection"


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    n = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, n)


def _fk_grade(text: str) -> float:
    """Flesch-Kincaid grade with a simple vowel-group syllable count (no dictionary needed)."""
    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    words = re.findall(r"[A-Za-z]+", text)
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


@pytest.mark.parametrize("cond_id", list(ARTICLES))
def test_patient_summary_is_plain(kb, cond_id):
    summary = kb.condition(cond_id).patient_summary
    assert _fk_grade(summary) <= 8.5
