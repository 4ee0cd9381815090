"""Properties of the therapy catalogue (therapies/*.yaml): stances, provenance and seed coverage.

Every non-drug treatment, supplement, advanced therapy and surgical procedure of the five seed
articles must be one `Therapy`, carry one stance per guideline (NICE NG59, ACP 2017, WHO 2023),
and be findable by the heading the article uses. When ../shared/seeds is present the headings are
re-read from the articles with a simple scan and resolved through names and aliases.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from spineguide.knowledge.loader import KnowledgeBase, load_knowledge_base, normalize_name
from spineguide.knowledge.schema import (
    ALL_DIAGNOSIS_IDS,
    GUIDELINE_IDS,
    SourceKind,
    Stance,
    Therapy,
)

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED_FILES = {
    "seed-disc-calcification": "000_c9f4933e395b6168.txt",
    "seed-nerve-root-compression": "001_7f45134321b62308.txt",
    "seed-foraminal-narrowing": "002_fae9cad22fa509ab.txt",
    "seed-disc-sequestration": "003_50e43db682ec35a6.txt",
}
PROSE_SEED = ("seed-l4-pain-options", "004_2ea9fb71761ddfac.txt")

# Article section headings (start of line) -> our section key; None ends a therapy section.
SECTION_STARTS: tuple[tuple[str, str | None], ...] = (
    (r"(30 )?non-pharmacological treatments", "non_drug_treatments"),
    (r"dietary molecular supplements", "supplements"),
    (r"advanced", "advanced_therapies"),
    (r"surgical (procedures|options)", "surgery"),
    (r"(pharmacological treatments|drug treatments|mainstream drug therapies)", None),
    (r"prevention strategies", None),
)
SECTION_FOR_KIND = {
    "non_drug": "non_drug_treatments",
    "supplement": "supplements",
    "advanced": "advanced_therapies",
    "procedure": "surgery",
}
# Items per section in each template article, counted by hand.
EXPECTED_COUNTS = {
    "non_drug_treatments": 30,
    "supplements": 10,
    "advanced_therapies": 10,
    "surgery": 10,
}
# Treatments article 004 names in prose, with the therapy each must resolve to.
PROSE_TREATMENTS = {
    "physical therapy": "physical_therapy",
    "chiropractic care": "spinal_manipulation",
    "acupuncture": "acupuncture",
    "epidural steroid injections": "epidural_steroid_injection",
    "discectomy": "discectomy",
    "spinal decompression": "spinal_decompression_surgery",
    "spinal fusion": "spinal_fusion",
    "minimally invasive techniques": "minimally_invasive_spine_surgery",
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The loaded knowledge base."""
    return load_knowledge_base()


def _stance(therapy: Therapy, guideline: str) -> tuple[Stance, str | None]:
    """The (stance, recommendation) one guideline gives a therapy."""
    (match,) = [g for g in therapy.guideline_stances if g.guideline == guideline]
    return match.stance, match.recommendation


def _keys(therapy: Therapy) -> set[str]:
    """Normalised id, name and aliases of a therapy."""
    return {normalize_name(k) for k in (therapy.id, therapy.name, *therapy.aliases)}


def _resolve(kb: KnowledgeBase, title: str) -> Therapy | None:
    """Resolve an article heading: exact name/alias first, else the longest leading name/alias."""
    norm = normalize_name(title)
    best: tuple[int, Therapy] | None = None
    for therapy in kb.therapies.values():
        for key in _keys(therapy):
            if norm == key:
                return therapy
            if norm.startswith(key + " ") and (best is None or len(key) > best[0]):
                best = (len(key), therapy)
    return best[1] if best else None


def _scan_headings(text: str) -> dict[str, list[str]]:
    """Item headings of the therapy sections of a template article, by our section key."""
    found: dict[str, list[str]] = {}
    section: str | None = None
    previous = ""
    for raw in text.splitlines():
        line = raw.strip()
        for pattern, key in SECTION_STARTS:
            if re.match(pattern + r"\b", line, re.IGNORECASE) and len(line) < 120:
                section = key
                if key:
                    found.setdefault(key, [])
                break
        else:
            if section:
                numbered = re.match(r"^\d+\.\s+(.+)$", line)
                after_dash = previous == "-" or previous.endswith(" -")
                if numbered:
                    found[section].append(numbered.group(1).strip())
                elif after_dash and line and line != "-":
                    found[section].append(line.split(" – ")[0].strip())
        previous = line
    return found


# ------------------------------------------------------------------------------ structure


def test_catalogue_size_and_kinds(kb: KnowledgeBase) -> None:
    """All four therapy kinds are present in realistic numbers."""
    kinds = Counter(t.kind for t in kb.therapies.values())
    assert kinds["non_drug"] >= 50
    assert kinds["supplement"] >= 15
    assert kinds["advanced"] >= 22
    assert kinds["procedure"] >= 20


def test_every_therapy_has_one_stance_per_guideline(kb: KnowledgeBase) -> None:
    """Each therapy has exactly one stance from each of NICE NG59, ACP 2017 and WHO 2023."""
    for therapy in kb.therapies.values():
        guidelines = [g.guideline for g in therapy.guideline_stances]
        assert sorted(guidelines) == sorted(GUIDELINE_IDS), therapy.id


def test_unconfirmed_stances_say_why(kb: KnowledgeBase) -> None:
    """A stance marked unconfirmed, or not addressed, explains itself in a note."""
    for therapy in kb.therapies.values():
        for g in therapy.guideline_stances:
            if g.confidence == "unconfirmed" or g.stance == Stance.not_addressed:
                assert g.note, (therapy.id, g.guideline)


def test_no_duplicate_names_or_aliases(kb: KnowledgeBase) -> None:
    """No normalised id, name or alias belongs to two therapies."""
    owner: dict[str, str] = {}
    for therapy in kb.therapies.values():
        for key in _keys(therapy):
            assert owner.setdefault(key, therapy.id) == therapy.id, (key, owner[key], therapy.id)


def test_conditions_are_diagnosis_ids(kb: KnowledgeBase) -> None:
    """Every therapy lists at least one valid diagnosis id it is used for."""
    for therapy in kb.therapies.values():
        assert therapy.conditions, therapy.id
        assert set(therapy.conditions) <= set(ALL_DIAGNOSIS_IDS), therapy.id


def test_kind_specific_fields(kb: KnowledgeBase) -> None:
    """Supplements and advanced therapies state a dose; procedures state indications and risks."""
    for therapy in kb.therapies.values():
        assert therapy.patient_description and therapy.evidence_note, therapy.id
        if therapy.kind in ("supplement", "advanced"):
            assert therapy.usual_dose, therapy.id
        if therapy.kind == "procedure":
            assert therapy.indications and therapy.benefits, therapy.id
            assert therapy.risks and therapy.recovery, therapy.id


def test_article_statements_cite_seeds_and_fill_fields(kb: KnowledgeBase) -> None:
    """Statements cite seed articles, use the section of their kind, and fill the stated fields."""
    seeds = {s.id for s in kb.sources.values() if s.kind == SourceKind.seed_article}
    for therapy in kb.therapies.values():
        for st in therapy.article_statements:
            assert st.source in seeds, (therapy.id, st.source)
            assert st.source in therapy.sources, (therapy.id, st.source)
            if st.source == PROSE_SEED[0]:
                assert st.section == "treatments" and st.description, therapy.id
                continue
            assert st.section == SECTION_FOR_KIND[therapy.kind], (therapy.id, st.section)
            assert st.name_in_source, therapy.id
            if st.section == "non_drug_treatments":
                assert st.description and st.purpose and st.mechanism, therapy.id
            elif st.section == "surgery":
                assert st.procedure and st.benefits, therapy.id
            else:
                assert st.dose and st.function and st.mechanism, therapy.id


def test_one_statement_per_article_item(kb: KnowledgeBase) -> None:
    """No article heading is claimed by two therapies, nor twice by one."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for therapy in kb.therapies.values():
        for st in therapy.article_statements:
            seen[(st.source, st.section, normalize_name(st.name_in_source or therapy.id))] += 1
    assert [k for k, n in seen.items() if n > 1] == []


# ------------------------------------------------------------------------------ guideline stances


@pytest.mark.parametrize(
    ("therapy_id", "rec"),
    [
        ("tens", "1.2.11"),
        ("therapeutic_ultrasound", "1.2.9"),
        ("mechanical_traction", "1.2.6"),
        ("manual_traction", "1.2.6"),
        ("interferential_therapy", "1.2.12"),
        ("pens", "1.2.10"),
        ("lumbar_bracing", "1.2.3"),
        ("acupuncture", "1.2.8"),
    ],
)
def test_nice_do_not_offer(kb: KnowledgeBase, therapy_id: str, rec: str) -> None:
    """NICE NG59's 'do not offer' list is stored with its recommendation numbers."""
    assert _stance(kb.therapies[therapy_id], "nice-ng59") == (Stance.do_not_offer, rec)


def test_nice_package_and_consider(kb: KnowledgeBase) -> None:
    """Manual therapy and CBT are package-only; group exercise is 'consider' under 1.2.2."""
    for tid in ("manual_therapy", "spinal_manipulation", "massage", "spinal_mobilization"):
        assert _stance(kb.therapies[tid], "nice-ng59") == (Stance.package_only, "1.2.7")
    assert _stance(kb.therapies["cbt"], "nice-ng59") == (Stance.package_only, "1.2.13")
    for tid in ("core_stabilization", "yoga", "tai_chi", "aerobic_conditioning", "pilates"):
        assert _stance(kb.therapies[tid], "nice-ng59") == (Stance.consider, "1.2.2")


def test_who_should_not_be_used_routinely(kb: KnowledgeBase) -> None:
    """WHO 'should not be used routinely' is stored as do_not_offer (one documented convention)."""
    for tid in ("mechanical_traction", "therapeutic_ultrasound", "tens", "lumbar_bracing"):
        stance, _ = _stance(kb.therapies[tid], "who-2023")
        assert stance == Stance.do_not_offer, tid
    all_who = [
        g.stance
        for t in kb.therapies.values()
        for g in t.guideline_stances
        if g.guideline == "who-2023"
    ]
    assert Stance.not_routinely not in all_who


def test_acupuncture_guideline_conflict(kb: KnowledgeBase) -> None:
    """NICE says do not offer acupuncture while ACP recommends it and WHO allows it."""
    acu = kb.therapies["acupuncture"]
    assert _stance(acu, "nice-ng59")[0] == Stance.do_not_offer
    assert _stance(acu, "acp-2017")[0] == Stance.recommended
    assert _stance(acu, "who-2023")[0] == Stance.consider


def test_acp_recommendations(kb: KnowledgeBase) -> None:
    """ACP 2017 recommendations 1 and 2 are attached to the treatments they name."""
    expected = {
        "heat_therapy": "Rec 1",
        "massage": "Rec 1",
        "mbsr": "Rec 2",
        "yoga": "Rec 2",
        "tai_chi": "Rec 2",
        "biofeedback": "Rec 2",
        "lllt": "Rec 2",
        "cbt": "Rec 2",
        "core_stabilization": "Rec 2",
    }
    for tid, rec in expected.items():
        assert _stance(kb.therapies[tid], "acp-2017") == (Stance.recommended, rec), tid
    assert "Rec 1" in (_stance(kb.therapies["spinal_manipulation"], "acp-2017")[1] or "")
    assert "Rec 2" in (_stance(kb.therapies["spinal_manipulation"], "acp-2017")[1] or "")


def test_invasive_stances(kb: KnowledgeBase) -> None:
    """Injections and surgery carry NICE's invasive-treatment verdicts."""
    t = kb.therapies
    assert _stance(t["epidural_steroid_injection"], "nice-ng59")[0] == Stance.consider
    esi_note = next(g.note for g in t["epidural_steroid_injection"].guideline_stances if g.note)
    assert "central spinal canal stenosis" in (esi_note or "")
    assert _stance(t["facet_steroid_injection"], "nice-ng59")[0] == Stance.do_not_offer
    assert _stance(t["radiofrequency_denervation"], "nice-ng59")[0] == Stance.consider
    assert _stance(t["disc_replacement"], "nice-ng59")[0] == Stance.do_not_offer
    for tid in ("spinal_fusion", "tlif", "plif", "mis_tlif", "alif", "xlif"):
        assert _stance(t[tid], "nice-ng59")[0] == Stance.do_not_offer, tid
    for tid in ("discectomy", "microdiscectomy", "laminectomy", "foraminotomy"):
        assert _stance(t[tid], "nice-ng59")[0] == Stance.consider, tid
    for therapy in t.values():
        if therapy.kind == "procedure":
            assert _stance(therapy, "acp-2017")[0] == Stance.not_addressed, therapy.id


def test_regenerative_therapies_are_flagged_investigational(kb: KnowledgeBase) -> None:
    """Stem-cell and PRP entries say plainly that no guideline supports them."""
    for tid in ("mesenchymal_stem_cells", "prp"):
        note = kb.therapies[tid].evidence_note or ""
        assert "no guideline" in note.lower() and "investigational" in note.lower(), tid


# ------------------------------------------------------------------------------ seed coverage


@pytest.mark.parametrize("source_id", sorted(SEED_FILES))
def test_seed_headings_resolve(kb: KnowledgeBase, source_id: str) -> None:
    """Every therapy heading of a template article resolves to a therapy citing that article."""
    path = SEEDS / SEED_FILES[source_id]
    if not path.exists():
        pytest.skip("seed articles not available")
    headings = _scan_headings(path.read_text(encoding="utf-8"))
    assert {k: len(v) for k, v in headings.items()} == EXPECTED_COUNTS
    for section, titles in headings.items():
        for title in titles:
            therapy = _resolve(kb, title)
            assert therapy is not None, (source_id, section, title)
            cites = [s for s in therapy.article_statements if s.source == source_id]
            assert cites, (source_id, title, therapy.id)
            assert any(s.section == section for s in cites), (source_id, title, therapy.id)


def test_every_statement_matches_a_heading(kb: KnowledgeBase) -> None:
    """Each template-article statement names a heading that the article really has."""
    if not SEEDS.exists():
        pytest.skip("seed articles not available")
    headings = {
        sid: {
            normalize_name(h) for hs in _scan_headings((SEEDS / f).read_text()).values() for h in hs
        }
        for sid, f in SEED_FILES.items()
    }
    for therapy in kb.therapies.values():
        for st in therapy.article_statements:
            if st.source in headings:
                name = normalize_name(st.name_in_source or "")
                assert any(h == name or h.startswith(name + " ") for h in headings[st.source]), (
                    therapy.id,
                    st.name_in_source,
                )


def test_prose_article_treatments(kb: KnowledgeBase) -> None:
    """Article 004's prose treatments resolve to therapies with a 'treatments' statement."""
    path = SEEDS / PROSE_SEED[1]
    if not path.exists():
        pytest.skip("seed articles not available")
    text = path.read_text(encoding="utf-8").lower()
    for phrase, therapy_id in PROSE_TREATMENTS.items():
        assert phrase in text, phrase
        therapy = _resolve(kb, phrase)
        assert therapy is not None and therapy.id == therapy_id, phrase
        assert any(
            s.source == PROSE_SEED[0] and s.section == "treatments"
            for s in therapy.article_statements
        ), therapy_id


def test_article_doses_keep_their_numbers(kb: KnowledgeBase) -> None:
    """Every number of an article's 'Dosage:' line reappears in our dose for that item."""
    if not SEEDS.exists():
        pytest.skip("seed articles not available")
    number = re.compile(r"\d+(?:\.\d+)?")
    for therapy in kb.therapies.values():
        for st in therapy.article_statements:
            if st.source not in SEED_FILES or not st.dose:
                continue
            lines = (SEEDS / SEED_FILES[st.source]).read_text(encoding="utf-8").splitlines()
            stripped = [re.sub(r"^\d+\.\s+", "", ln.strip()) for ln in lines]
            name = st.name_in_source or ""
            start = next(
                i for i, ln in enumerate(stripped) if ln == name or ln.startswith(name + " ")
            )
            window = stripped[start]
            for raw, ln in zip(
                lines[start + 1 : start + 5], stripped[start + 1 : start + 5], strict=True
            ):
                if not ln or ln == "-" or re.match(r"^\s*\d+\.\s", raw):
                    break
                window += " " + ln
                if ln.endswith(" -"):
                    break
            dosage = re.search(r"Dosage:\s*(.+?)(?:Function:|$)", window)
            if dosage:
                stated = dosage.group(1)
            else:  # one-line items: "Name dose – text"; other templates without a Dosage: label
                stated = stripped[start].split(" – ")[0] if " – " in stripped[start] else ""
            in_name = set(number.findall(" ".join((therapy.name, *therapy.aliases))))
            missing = set(number.findall(stated)) - set(number.findall(st.dose)) - in_name
            assert not missing, (therapy.id, st.source, missing)
