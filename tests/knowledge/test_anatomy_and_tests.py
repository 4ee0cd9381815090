"""Properties of the diagnostic-test catalogue (tests.yaml) and root/level anatomy."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from spineguide.knowledge.loader import KnowledgeBase, load_knowledge_base, normalize_name
from spineguide.knowledge.schema import LEVELS, ROOTS, DiagnosticTest, SourceKind
from spineguide.knowledge.schema import TestCategory as Category

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"

REQUIRED_TEST_IDS = {
    # exam
    "slr", "crossed_slr", "femoral_stretch", "crossed_femoral_stretch", "slump", "kemp", "faber",
    "si_provocation_tests", "hip_rotation_exam", "neuro_exam", "anal_tone_exam", "gait_analysis",
    "trochanter_palpation", "pulse_exam",
    # laboratory
    "cbc", "esr", "crp", "blood_cultures", "serum_calcium_phosphate", "pth", "vitamin_d",
    "rheumatoid_factor", "hla_b27", "alkaline_phosphatase", "hba1c", "coagulation_screen", "psa",
    "serum_protein_electrophoresis", "urinalysis", "post_void_residual", "biopsy",
    # electrodiagnostic
    "emg", "ncs", "ssep", "f_wave",
    # imaging
    "xray", "ct", "ct_myelography", "mri", "mri_gadolinium", "mri_whole_spine", "bone_scan", "dexa",
    "abdominal_ultrasound", "ct_angiography", "ankle_brachial_index", "hip_xray",
    "ct_abdomen_pelvis",
}  # fmt: skip

EXPECTED_LEVELS = {
    "T12-L1": ("T12", "L1"),
    "L1-L2": ("L1", "L2"),
    "L2-L3": ("L2", "L3"),
    "L3-L4": ("L3", "L4"),
    "L4-L5": ("L4", "L5"),
    "L5-S1": ("L5", "S1"),
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


# ------------------------------------------------------------------------------------------------
# Catalogue basics
# ------------------------------------------------------------------------------------------------


def test_required_test_ids_exist(kb: KnowledgeBase) -> None:
    missing = REQUIRED_TEST_IDS - set(kb.tests)
    assert not missing, f"missing diagnostic tests: {sorted(missing)}"


def test_every_test_is_complete(kb: KnowledgeBase) -> None:
    for test in kb.tests.values():
        assert isinstance(test.category, Category), test.id
        assert len(test.description) > 20, test.id
        assert len(test.positive_means) > 20, test.id
        assert test.patient_description, f"{test.id}: patient text missing"
        assert test.sources, f"{test.id}: no sources"


def test_patient_descriptions_are_plain(kb: KnowledgeBase) -> None:
    """6th-8th grade target: short sentences (a crude but real proxy)."""
    for test in kb.tests.values():
        sentences = [s for s in re.split(r"[.!?]+\s*", test.patient_description or "") if s]
        longest = max(len(s.split()) for s in sentences)
        assert longest <= 30, f"{test.id}: patient sentence of {longest} words"


def test_every_category_is_populated(kb: KnowledgeBase) -> None:
    cats = {t.category for t in kb.tests.values()}
    assert cats == set(Category)


def test_test_findings_and_tension_tests_resolve(kb: KnowledgeBase) -> None:
    for test in kb.tests.values():
        for finding in test.findings:
            assert finding in kb.findings, f"{test.id}: unknown finding {finding}"
    for root in kb.roots.values():
        for test_id in root.tension_tests:
            assert test_id in kb.tests, f"{root.root}: unknown tension test {test_id}"


def test_key_test_to_finding_links(kb: KnowledgeBase) -> None:
    assert "slr_positive" in kb.tests["slr"].findings
    assert "crossed_slr_positive" in kb.tests["crossed_slr"].findings
    assert "femoral_stretch_positive" in kb.tests["femoral_stretch"].findings
    assert "crossed_femoral_stretch_positive" in kb.tests["crossed_femoral_stretch"].findings
    assert "crp" in kb.tests["crp"].findings
    assert "esr" in kb.tests["esr"].findings
    assert "reduced_anal_tone" in kb.tests["anal_tone_exam"].findings
    assert "urinary_retention" in kb.tests["post_void_residual"].findings


def test_names_and_aliases_are_unambiguous(kb: KnowledgeBase) -> None:
    owner: dict[str, str] = {}
    for test in kb.tests.values():
        for name in {normalize_name(n) for n in (test.id, test.name, *test.aliases)}:
            assert name, f"{test.id}: empty alias"
            assert owner.setdefault(name, test.id) == test.id, (
                f"alias {name!r} used by {owner[name]} and {test.id}"
            )


# ------------------------------------------------------------------------------------------------
# Accuracy figures
# ------------------------------------------------------------------------------------------------


def test_accuracy_figures_are_valid_and_sourced(kb: KnowledgeBase) -> None:
    n = 0
    for test in kb.tests.values():
        for acc in test.accuracy:
            n += 1
            for value in (acc.sensitivity, acc.specificity):
                if value is not None:
                    assert 0.0 <= value <= 1.0, f"{test.id}: {value} outside [0, 1]"
            for lr in (acc.lr_positive, acc.lr_negative):
                if lr is not None:
                    assert lr >= 0.0, f"{test.id}: negative likelihood ratio"
            src = kb.sources.get(acc.source)
            assert src is not None, f"{test.id}: unregistered source {acc.source}"
            assert src.kind in (SourceKind.paper, SourceKind.guideline), (
                f"{test.id}: accuracy must come from published evidence, not {src.kind}"
            )
            has_number = any(
                v is not None
                for v in (acc.sensitivity, acc.specificity, acc.lr_positive, acc.lr_negative)
            )
            assert has_number or acc.note, f"{test.id}: accuracy entry without figures or note"
    assert n >= 10


def _figure(test: DiagnosticTest, source: str):
    figs = [a for a in test.accuracy if a.source == source and a.sensitivity is not None]
    assert figs, f"{test.id}: no sensitivity from {source}"
    return figs[0]


def test_published_figures_match_research_notes(kb: KnowledgeBase) -> None:
    slr = _figure(kb.tests["slr"], "vanderwindt-2010")
    assert (slr.sensitivity, slr.specificity) == (0.92, 0.28)
    cslr = _figure(kb.tests["crossed_slr"], "vanderwindt-2010")
    assert (cslr.sensitivity, cslr.specificity) == (0.28, 0.90)
    sens = _figure(kb.tests["sensory_testing"], "tawa-2017")
    assert (sens.sensitivity, sens.specificity) == (0.61, 0.63)
    esr = _figure(kb.tests["esr"], "davis-2004-sea")
    assert (esr.sensitivity, esr.specificity) == (1.0, 0.67)
    slump = _figure(kb.tests["slump"], "trainor-2011")
    assert (slump.sensitivity, slump.specificity) == (1.0, 0.83)
    mri_targets = {
        a.target.lower() for a in kb.tests["mri"].accuracy if a.source == "jarvik-deyo-2002"
    }
    assert any("cancer" in t for t in mri_targets) and any("infection" in t for t in mri_targets)
    assert any(a.source == "suri-2011" for a in kb.tests["femoral_stretch"].accuracy)
    assert any(a.source == "suri-2011" for a in kb.tests["reflex_testing"].accuracy)
    assert any(a.source == "dionne-2019-ces" for a in kb.tests["anal_tone_exam"].accuracy)
    # SLR is the sensitive test, crossed SLR the specific one.
    assert slr.sensitivity > cslr.sensitivity and cslr.specificity > slr.specificity


# ------------------------------------------------------------------------------------------------
# Anatomy
# ------------------------------------------------------------------------------------------------


def test_all_roots_present_and_linked(kb: KnowledgeBase) -> None:
    assert set(kb.roots) == set(ROOTS)
    for root in kb.roots.values():
        assert root.dermatome and root.sources, root.root
        assert root.sensory_findings and root.pain_findings, root.root
        assert root.myotome, root.root
        for muscle in root.myotome:
            assert muscle.finding in kb.findings, f"{root.root}: {muscle.finding}"
        for fid in root.sensory_findings + root.pain_findings:
            # every linked finding that declares roots must include this one
            declared = kb.findings[fid].roots
            assert not declared or root.root in declared, f"{root.root}: {fid} declares {declared}"


def test_reflexes(kb: KnowledgeBase) -> None:
    l4, s1 = kb.roots["L4"], kb.roots["S1"]
    assert "patellar" in (l4.reflex or "").lower()
    assert l4.reflex_finding == "patellar_reflex_reduced"
    assert "achilles" in (s1.reflex or "").lower()
    assert s1.reflex_finding == "achilles_reflex_reduced"


def test_tension_tests_by_root(kb: KnowledgeBase) -> None:
    for r in ("L2", "L3", "L4"):
        assert "femoral_stretch" in kb.roots[r].tension_tests
        assert "slr" not in kb.roots[r].tension_tests
    for r in ("L5", "S1"):
        assert "slr" in kb.roots[r].tension_tests


def test_source_disagreements_are_recorded(kb: KnowledgeBase) -> None:
    l4_notes = kb.roots["L4"].notes or ""
    assert "tibialis anterior" in l4_notes.lower()
    assert "Orthobullets" in l4_notes and "Harrison" in l4_notes
    l3_notes = kb.roots["L3"].notes or ""
    assert "reflex" in l3_notes.lower() and "Berra" in l3_notes
    # tibialis anterior is listed under both L4 and L5, each with its own source
    for r, src in (("L4", "orthobullets-neuro-exam"), ("L5", "harrisons-19e-radiculopathy")):
        ta = [m for m in kb.roots[r].myotome if m.muscle == "tibialis anterior"]
        assert ta and src in ta[0].sources, r


def test_levels_exiting_and_traversing(kb: KnowledgeBase) -> None:
    assert set(kb.levels) == set(LEVELS)
    for level, (exiting, traversing) in EXPECTED_LEVELS.items():
        entry = kb.levels[level]
        assert (entry.exiting_root, entry.traversing_root) == (exiting, traversing), level
        assert "berra-2021" in entry.sources
    # L3-L4: paracentral disc -> L4 (traversing); far-lateral -> L3 (exiting)
    assert kb.levels["L3-L4"].traversing_root == "L4"
    assert kb.levels["L3-L4"].exiting_root == "L3"
    # the traversing root at one level exits at the next
    for upper, lower in itertools.pairwise(LEVELS):
        assert kb.levels[upper].traversing_root == kb.levels[lower].exiting_root


# ------------------------------------------------------------------------------------------------
# Coverage of the seed articles' diagnostic-test sections
# ------------------------------------------------------------------------------------------------

SUBSECTION_CATEGORY = (
    ("physical", Category.physical),
    ("provoca", Category.provocative),
    ("laborator", Category.laboratory),
    ("electrodiag", Category.electrodiagnostic),
    ("imaging", Category.imaging),
)
# (seed file prefix, test id): tests an article files under a different subsection than ours
CATEGORY_EXCEPTIONS = {("003", "slr"), ("003", "femoral_stretch"), ("003", "prone_instability")}


@dataclass
class SeedItem:
    index: int  # 1-based, through the whole Diagnostic Tests section
    title: str
    category: Category
    text: str = ""  # heading plus description, list number removed


def scan_diagnostic_items(text: str) -> list[SeedItem]:
    """Line scan of one article's "Diagnostic Tests" section (handles the three seed layouts)."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Diagnostic Tests")
    except StopIteration:
        return []
    items: list[SeedItem] = []
    category: Category | None = None
    prev = ""
    for raw in lines[start + 1 :]:
        line = raw.strip()
        if "Non-Pharmacological" in line:
            break
        if not line:
            continue
        heading = line.lower()
        is_item = prev == "-" or prev.endswith(" -") or re.match(r"^\d+\.\s", line) is not None
        if not is_item and len(line) < 45 and any(k in heading for k, _ in SUBSECTION_CATEGORY):
            category = next(c for k, c in SUBSECTION_CATEGORY if k in heading)
        elif is_item and line != "-":
            full = re.sub(r"^\d+\.\s+", "", line)
            assert category is not None, f"item before any subsection: {line}"
            items.append(SeedItem(len(items) + 1, full.split(" – ")[0], category, full))
        elif items and line != "-":
            items[-1].text += " " + line
        prev = line
    return items


def resolve(kb: KnowledgeBase, title: str) -> DiagnosticTest | None:
    """Exact name/alias match, else the longest name/alias that starts the title as whole words."""
    norm = normalize_name(title)
    best: tuple[int, DiagnosticTest] | None = None
    for test in kb.tests.values():
        for name in {normalize_name(n) for n in (test.id, test.name, *test.aliases)}:
            if norm == name:
                return test
            if norm.startswith(name + " ") and (best is None or len(name) > best[0]):
                best = (len(name), test)
    return best[1] if best else None


def _seed_files() -> list[Path]:
    if not SEEDS_DIR.is_dir():
        pytest.skip("shared/seeds not available")
    return sorted(SEEDS_DIR.glob("*.txt"))


def test_seed_scanner_finds_every_item() -> None:
    counts = {
        p.name[:3]: len(scan_diagnostic_items(p.read_text(encoding="utf-8"))) for p in _seed_files()
    }
    assert counts == {"000": 30, "001": 30, "002": 30, "003": 30, "004": 0}


def test_every_seed_test_heading_resolves(kb: KnowledgeBase) -> None:
    by_file = {s.file: s.id for s in kb.sources.values() if s.kind == SourceKind.seed_article}
    unresolved, wrong_category, no_statement = [], [], []
    for path in _seed_files():
        source_id = by_file[path.name]
        for item in scan_diagnostic_items(path.read_text(encoding="utf-8")):
            test = resolve(kb, item.title)
            if test is None:
                unresolved.append(f"{path.name[:3]}: {item.title}")
                continue
            if (
                test.category != item.category
                and (path.name[:3], test.id) not in CATEGORY_EXCEPTIONS
            ):
                wrong_category.append(
                    f"{path.name[:3]}: {item.title} -> {test.id} ({test.category})"
                )
            stmts = [
                s
                for s in test.article_statements
                if s.source == source_id and s.section == "diagnostic_tests"
                if s.item == item.index
            ]
            if not stmts or not (stmts[0].description and stmts[0].positive_means):
                no_statement.append(f"{path.name[:3]} item {item.index}: {item.title} -> {test.id}")
    assert not unresolved, f"headings with no test: {unresolved}"
    assert not wrong_category, f"category differs from the article subsection: {wrong_category}"
    assert not no_statement, f"items without a matching article statement: {no_statement}"


def test_article_statements_point_at_seed_items(kb: KnowledgeBase) -> None:
    """Each statement names a seed article, the diagnostic_tests section and a real item."""
    seeds = {s.id: s for s in kb.sources.values() if s.kind == SourceKind.seed_article}
    items_by_source: dict[str, dict[int, str]] = {}
    if SEEDS_DIR.is_dir():
        for sid, src in seeds.items():
            path = SEEDS_DIR / (src.file or "")
            if path.is_file():
                items = scan_diagnostic_items(path.read_text(encoding="utf-8"))
                items_by_source[sid] = {i.index: i.title for i in items}
    for test in kb.tests.values():
        for st in test.article_statements:
            assert st.source in seeds and st.section == "diagnostic_tests", test.id
            assert st.item is not None and st.name_in_source, test.id
            titles = items_by_source.get(st.source)
            if titles is not None:
                title, named = (
                    normalize_name(titles.get(st.item, "")),
                    normalize_name(st.name_in_source),
                )
                assert title and (title.startswith(named) or named.startswith(title)), (
                    f"{test.id}: {st.source} item {st.item} is {title!r}, not {st.name_in_source!r}"
                )


def test_article_numbers_carry_over(kb: KnowledgeBase) -> None:
    """Every number an article item states (angles, levels, isotopes) appears in our statement."""
    seeds = {s.id: s for s in kb.sources.values() if s.kind == SourceKind.seed_article}
    if not SEEDS_DIR.is_dir():
        pytest.skip("shared/seeds not available")
    missing = []
    for test in kb.tests.values():
        for st in test.article_statements:
            path = SEEDS_DIR / (seeds[st.source].file or "")
            items = {i.index: i for i in scan_diagnostic_items(path.read_text(encoding="utf-8"))}
            item = items[st.item or 0]
            ours = " ".join(
                filter(None, (st.name_in_source, st.description, st.positive_means, st.note))
            )
            ours_numbers = set(re.findall(r"\d+", ours))
            for number in set(re.findall(r"\d+", item.text)) - ours_numbers:
                missing.append(f"{test.id}: {st.source} item {st.item} lacks {number}")
    assert not missing, missing
