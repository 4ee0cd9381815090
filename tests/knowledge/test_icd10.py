"""Every ICD-10-CM code in every condition file is a valid, billable (leaf) code.

Validated against the ICD-10-CM tabular list shipped with ``simple-icd-10-cm`` (source
``icd10cm-2026``); the stored description must match the official one, and Excludes1 pairs that
must never be reported together (guidelines-meds.md section 5) must not share a condition.
"""

from __future__ import annotations

import re

import pytest

from spineguide.knowledge.loader import load_knowledge_base

cm = pytest.importorskip("simple_icd_10_cm")

KB = load_knowledge_base()
ALL_CODES = [
    (cond.id, icd.code, icd.description) for cond in KB.conditions.values() for icd in cond.icd10cm
]
# Excludes1 pairs that may not appear together in one condition's code list.
FORBIDDEN_PAIRS = [("M51.16", "M54.16")]
HEADERS_NOT_BILLABLE = ["M51.36", "M51.37", "M48.06", "M54.5", "M54.4"]


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split())


def test_some_codes_exist():
    assert ALL_CODES, "no ICD-10-CM codes found in any condition"


@pytest.mark.parametrize(
    ("cid", "code", "description"), ALL_CODES, ids=[f"{c}:{k}" for c, k, _ in ALL_CODES]
)
def test_code_is_valid_billable_leaf(cid, code, description):
    assert cm.is_valid_item(code), f"{cid}: {code} is not an ICD-10-CM code"
    assert cm.is_leaf(code), f"{cid}: {code} is a header, not a billable code"
    assert _norm(description) == _norm(cm.get_description(code)), (
        f"{cid}: {code} description {description!r} differs from {cm.get_description(code)!r}"
    )


@pytest.mark.parametrize("header", HEADERS_NOT_BILLABLE)
def test_known_headers_are_not_leaves(header):
    assert cm.is_valid_item(header) and not cm.is_leaf(header)


def test_pairs_are_really_excludes1():
    for a, b in FORBIDDEN_PAIRS:
        text = " ".join(cm.get_excludes1(a[:5]) + cm.get_excludes1(b[:5]))
        assert b[:5] in text or a[:5] in text


def _forbids(icd, other: str) -> bool:
    """True when a code's applies_when explicitly says not to combine it with ``other``."""
    text = (icd.applies_when or "").lower()
    return other.lower() in text and ("do not" in text or "not with" in text or "never" in text)


def _tells_to_add(icd, other: str) -> bool:
    """True when a code's applies_when instructs adding ``other`` (not "do not add ...")."""
    text = (icd.applies_when or "").lower()
    pattern = r"(?<!not )\b(?:add|plus|also code)\s+" + re.escape(other.lower())
    return re.search(pattern, text) is not None


@pytest.mark.parametrize("cid", sorted(KB.conditions))
def test_no_excludes1_pairs_in_one_condition(cid):
    """A condition may list both codes of an Excludes1 pair only as explicit alternatives.

    Listing both is allowed when one of them says it must not be combined with the other (the
    code list is a menu, e.g. disc-caused versus cause-unspecified radiculopathy); telling the
    coder to add one to the other, or listing both without that warning, is a pairing.
    """
    icds = {icd.code: icd for icd in KB.conditions[cid].icd10cm}
    for a, b in FORBIDDEN_PAIRS:
        for x, y in ((a, b), (b, a)):
            for icd in icds.values():
                assert not _tells_to_add(icd, y) or icd.code != x, (
                    f"{cid}: {x} tells the coder to add its Excludes1 partner {y}"
                )
        if a in icds and b in icds:
            assert _forbids(icds[a], b) or _forbids(icds[b], a), (
                f"{cid} lists Excludes1 codes {a} and {b} without marking them as alternatives"
            )


@pytest.mark.parametrize(
    "cid",
    [
        c
        for c in KB.conditions
        if KB.conditions[c].seed_article is None and KB.conditions[c].group != "topic"
    ],
)
def test_non_seed_conditions_never_list_both(cid):
    codes = {icd.code for icd in KB.conditions[cid].icd10cm}
    for a, b in FORBIDDEN_PAIRS:
        assert not ({a, b} <= codes), f"{cid} lists Excludes1 codes {a} and {b}"


@pytest.mark.parametrize("cid", sorted(KB.conditions))
def test_at_most_one_primary(cid):
    assert sum(icd.primary for icd in KB.conditions[cid].icd10cm) <= 1


SUBTYPE_CODES = [
    (dx, sub["id"], sub["icd10cm"])
    for dx, subs in (KB.raw["differential"].get("evidence_subtypes") or {}).items()
    for sub in subs
    if sub.get("icd10cm")
]


def test_disc_calcification_has_metabolic_subtypes():
    names = {sub for dx, sub, _ in SUBTYPE_CODES if dx == "disc-calcification"}
    assert {"cppd", "ochronosis", "hyperparathyroidism"} <= names


@pytest.mark.parametrize(
    ("dx", "sub", "code"), SUBTYPE_CODES, ids=[f"{d}:{s}" for d, s, _ in SUBTYPE_CODES]
)
def test_evidence_subtype_codes_are_billable(dx, sub, code):
    assert cm.is_valid_item(code), f"{dx}/{sub}: {code} is not an ICD-10-CM code"
    assert cm.is_leaf(code), f"{dx}/{sub}: {code} is a header"


@pytest.mark.parametrize(
    ("cid", "prefix"),
    [
        ("aortic-dissection", "I71.0"),
        ("intradural-tumour", "D3"),
        ("epidural-lipomatosis", "E88.2"),
    ],
)
def test_new_contract_conditions_have_checked_primary_codes(cid, prefix):
    cond = KB.conditions[cid]
    primary = [icd for icd in cond.icd10cm if icd.primary]
    assert len(primary) == 1 and primary[0].code.startswith(prefix)
    assert cm.is_leaf(primary[0].code)
    assert _norm(primary[0].description) == _norm(cm.get_description(primary[0].code))
