"""Drug knowledge: coverage of the seed articles' drug sections and data conventions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spineguide.knowledge.loader import get_kb
from spineguide.knowledge.schema import GUIDELINE_IDS

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
DRUG_SECTION_START = re.compile(
    r"^\s*(?:\d+\s+)?(Pharmacological Treatments|Drug Treatments|Mainstream Drug Therapies)\s*$"
)
DRUG_SECTION_END = re.compile(r"^\s*Dietary Molecular Supplements")
FIELD_LINE = re.compile(r"^\s*(Class|Dosage|Time|Timing|Side Effects)\s*:", re.I)


@pytest.fixture(scope="module")
def kb():
    return get_kb()


def seed_drug_names() -> list[tuple[str, str]]:
    """(seed file, drug heading) for every item of every article's drug section."""
    out: list[tuple[str, str]] = []
    for path in sorted(SEEDS.glob("*.txt")):
        inside = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if DRUG_SECTION_START.match(line):
                inside = True
                continue
            if inside and DRUG_SECTION_END.match(line):
                break
            if not inside or not line.strip() or line.strip() == "-" or FIELD_LINE.match(line):
                continue
            if line.strip().startswith(("These ", "Each ", "(")):
                continue
            text = re.sub(r"^\s*\d+\.\s*", "", line.strip())
            text = re.split(r"\s+–\s+", text)[0]  # article 003: "Name dose – description"
            out.append((path.name, text))
    return out


def candidate_names(heading: str) -> list[str]:
    no_paren = re.sub(r"\([^)]*\)", " ", heading).strip()
    inside = re.findall(r"\(([^)]*)\)", heading)
    before_digit = re.split(r"\s\d", " " + no_paren, maxsplit=1)[0].strip()
    return [n for n in (no_paren, before_digit, *inside) if n]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not available")
def test_every_seed_drug_resolves(kb):
    names = seed_drug_names()
    assert len(names) >= 80  # four articles x 20 drugs
    missing = [(f, h) for f, h in names if not any(kb.drug(c) for c in candidate_names(h))]
    assert not missing, missing


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not available")
def test_every_seed_drug_has_a_statement_for_its_article(kb):
    by_file = {s.file: s.id for s in kb.sources.values() if s.file}
    for file, heading in seed_drug_names():
        drug = next(kb.drug(c) for c in candidate_names(heading) if kb.drug(c))
        assert any(
            st.source == by_file[file] and st.section == "drugs" for st in drug.article_statements
        ), (file, heading, drug.id)


def test_article_004_prose_items(kb):
    for ident in ("nsaids", "epidural-steroid"):
        st = [s for s in kb.drugs[ident].article_statements if s.source == "seed-l4-pain-options"]
        assert st and st[0].section == "treatments"


def test_every_drug_has_one_stance_per_guideline(kb):
    for drug in kb.drugs.values():
        got = sorted(s.guideline for s in drug.guideline_stances)
        assert got == sorted(GUIDELINE_IDS), drug.id


def test_rxnorm_confirmed_only_from_cpic(kb):
    confirmed = {d.id: d.rxnorm.rxcui for d in kb.drugs.values() if d.rxnorm and d.rxnorm.confirmed}
    assert confirmed["tramadol"] == "10689" and confirmed["duloxetine"] == "72625"
    for drug in kb.drugs.values():
        if drug.rxnorm and drug.rxnorm.confirmed:
            assert drug.rxnorm.source == "cpic-rxnorm", drug.id
        if drug.rxnorm:
            assert drug.rxnorm.source, drug.id


def test_acetaminophen_three_ceilings_recorded(kb):
    apap = kb.drugs["acetaminophen"]
    limits = {(lim.population, lim.max_daily_mg) for lim in apap.dose_limits}
    assert {("adult", 4000), ("adult_label_default", 3000), ("liver_disease", 2000)} <= limits
    ibu = {(lim.population, lim.max_daily_mg) for lim in kb.drugs["ibuprofen"].dose_limits}
    assert {("adult", 3200), ("adult_label_default", 1200)} <= ibu
    ket = next(
        lim
        for lim in kb.drugs["ketorolac"].dose_limits
        if lim.route == "oral" and lim.population == "adult"
    )
    assert ket.max_daily_mg == 40 and ket.max_days == 5


def test_dose_limit_populations_are_known_tokens(kb):
    known = {
        "adult",
        "adult_label_default",
        "article",
        "liver_disease",
        "age_65_plus",
        "age_over_75",
    }
    for drug in kb.drugs.values():
        for lim in drug.dose_limits:
            assert lim.population in known, (drug.id, lim.population)
            if lim.expert_estimate:
                assert lim.rationale, drug.id


def test_gabapentin_renal_bands_match_label(kb):
    bands = sorted(
        (r.crcl_below, r.max_daily_mg)
        for r in kb.drugs["gabapentin"].organ_rules
        if r.kind == "renal"
    )
    assert bands == [(15, 300), (30, 700), (60, 1400)]


def test_combinations_point_at_ingredients(kb):
    for drug in kb.drugs.values():
        for ing in drug.combination_of:
            assert ing in kb.drugs, (drug.id, ing)
        if "acetaminophen" in drug.combination_of:
            assert "acetaminophen_containing" in drug.classes


def test_aliases_are_unambiguous(kb):
    from spineguide.knowledge.loader import normalize_name

    owner: dict[str, str] = {}
    for drug in kb.drugs.values():
        for name in (drug.id, drug.name, *drug.aliases):
            key = normalize_name(name)
            assert owner.setdefault(key, drug.id) == drug.id or drug.id == "aspirin-low-dose", (
                key,
                owner[key],
                drug.id,
            )
