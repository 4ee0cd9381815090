"""Sig parser: drug name, strength/unit, units per dose, frequency, route, PRN, duration."""

from __future__ import annotations

import pytest

from spineguide.knowledge.loader import get_kb
from spineguide.text.sig import parse_sig, resolve_drug


@pytest.fixture(scope="module")
def kb():
    return get_kb()


@pytest.mark.parametrize(
    ("text", "drug_id", "daily"),
    [
        ("ibuprofen 400 mg three times daily", "ibuprofen", 1200),
        ("tramadol 50mg q6h prn", "tramadol", 200),
        ("naproxen 500 bd", "naproxen", 1000),
        ("paracetamol 1 g qds", "acetaminophen", 4000),
        ("Tylenol 500mg 2 tablets every 6 hours", "acetaminophen", 4000),
        ("gabapentin 300 mg at night", "gabapentin", 300),
        ("gabapentin 300 mg nocte", "gabapentin", 300),
        ("pregabalin 75 mg b.i.d.", "pregabalin", 150),
        ("diclofenac 50 mg t.d.s.", "diclofenac", 150),
        ("meloxicam 15 mg od", "meloxicam", 15),
        ("celecoxib 200 mg once daily", "celecoxib", 200),
        ("celecoxib 100 mg twice a day", "celecoxib", 200),
        ("methocarbamol 1500 mg four times daily", "methocarbamol", 6000),
        ("tizanidine 2-4 mg q6-8h", "tizanidine", 16),
        ("morphine 10 mg every 4 hours", "morphine", 60),
        ("tramadol 50-100 mg q4-6h prn", "tramadol", 600),
        ("ibuprofen 200 mg 1-2 tablets qid", "ibuprofen", 1600),
        ("diazepam 2 mg tid", "diazepam", 6),
        ("cyclobenzaprine 10 mg qhs", "cyclobenzaprine", 10),
        ("duloxetine 60 mg every morning", "duloxetine", 60),
        ("aspirin 81 mcg daily", "aspirin", 0.081),
        ("baclofen 5 mg 3 times a day", "baclofen", 15),
        ("ketorolac 10 mg every 4 to 6 hours", "ketorolac", 60),
        ("ibuprofen 1200 mg/day", "ibuprofen", 1200),
        ("acetaminophen 1 g q4h max 4 g/day", "acetaminophen", 4000),
        ("amitriptyline 10mg 8-hourly", "amitriptyline", 30),
        ("Lyrica 150 mg two times daily", "pregabalin", 300),
        ("oxycodone 5 mg q.i.d.", "oxycodone", 20),
    ],
)
def test_daily_dose(kb, text, drug_id, daily):
    sig = parse_sig(text, kb)
    assert sig.drug_id == drug_id
    assert sig.max_daily_mg() == [pytest.approx(daily)]


def test_combination_strengths(kb):
    sig = parse_sig("hydrocodone/acetaminophen 5/325 mg 1-2 tablets q4-6h prn", kb)
    assert sig.drug_id == "hydrocodone-acetaminophen"
    assert sig.strengths == [5, 325]
    assert sig.units_per_dose_min == 1 and sig.units_per_dose_max == 2
    assert sig.doses_per_day_min == 4 and sig.doses_per_day_max == 6
    assert sig.prn
    assert sig.max_daily_mg() == [60, 3900]


def test_units_and_micrograms(kb):
    assert parse_sig("clonazepam 500 µg bd", kb).max_daily_mg() == [pytest.approx(1.0)]
    assert parse_sig("clonazepam 500 ug bd", kb).unit == "mcg"
    sig = parse_sig("capsaicin 0.025% cream qds", kb)
    assert sig.unit == "%" and sig.max_daily_mg() is None and sig.route == "topical"


def test_bare_number_assumed_mg(kb):
    sig = parse_sig("naproxen 500 bd", kb)
    assert sig.unit == "mg" and sig.unit_assumed and sig.problems


def test_route_and_duration(kb):
    sig = parse_sig("ketorolac 30 mg IV q6h for 5 days", kb)
    assert sig.route == "iv_im" and sig.duration_days == 5 and sig.max_daily_mg() == [120]
    assert parse_sig("ketorolac 10 mg qds day 6", kb).duration_days == 6
    assert parse_sig("lidocaine 5% patch 12 h on 12 h off", kb).route == "transdermal"
    assert parse_sig("diclofenac gel 4 g qds", kb).route == "topical"
    assert parse_sig("ibuprofen 400 mg po tds", kb).route == "oral"


def test_single_dose(kb):
    sig = parse_sig("tizanidine 8 mg 2 tablets tds", kb)
    assert sig.max_single_dose_mg() == [16]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ibuprofen as directed", "no strength"),
        ("tramadol 50 mg prn", "PRN without an interval"),
        ("gabapentin 300 mg", "no frequency"),
        ("", "empty"),
        ("x" * 600, "longer than"),
    ],
)
def test_unparseable_parts_are_reported(kb, text, problem):
    sig = parse_sig(text, kb)
    assert any(problem in p for p in sig.problems)
    assert sig.max_daily_mg() is None


def test_unknown_drug(kb):
    sig = parse_sig("frobnicillin 10 mg bd", kb)
    assert sig.drug_id is None and sig.name == "frobnicillin"
    assert sig.max_daily_mg() == [20]


@pytest.mark.parametrize(
    ("text", "drug_id"),
    [
        ("Advil", "ibuprofen"),
        ("Nurofen Express", "ibuprofen"),
        ("paracetamol", "acetaminophen"),
        ("Neurontin", "gabapentin"),
        ("Cymbalta", "duloxetine"),
        ("Flexeril", "cyclobenzaprine"),
        ("Zanaflex", "tizanidine"),
        ("low dose aspirin", "aspirin-low-dose"),
        ("co-codamol 30/500", "codeine-acetaminophen"),
        ("Voltaren Gel", "diclofenac-gel"),
        ("take two Lyrica", "pregabalin"),
    ],
)
def test_resolve_brand_and_uk_names(kb, text, drug_id):
    drug, _ = resolve_drug(text, kb)
    assert drug is not None and drug.id == drug_id


def test_combination_product_dosed_by_tablet_count() -> None:
    """'co-codamol 30/500 2 qds' is two tablets four times a day: 240 mg codeine, 4 g paracetamol."""
    from spineguide.knowledge.loader import get_kb
    from spineguide.reasoning.medsafety import PatientFactors, check_medications

    kb = get_kb()
    sig = parse_sig("co-codamol 30/500 2 qds", kb)
    assert sig.units_per_dose_max == 2 and sig.max_daily_mg() == [120.0 * 2, 2000.0 * 2]
    report = check_medications(["co-codamol 30/500 2 qds"], PatientFactors(), kb)
    daily = report.medications[0].daily_mg
    assert daily == {"codeine": 240.0, "acetaminophen": 4000.0}
    assert parse_sig("co-codamol 8/500 1-2 qds prn", kb).max_daily_mg() == [64.0, 4000.0]
    assert parse_sig("paracetamol 500mg 2 qds", kb).max_daily_mg() == [4000.0]
    # without a count it stays one tablet; a bare number with a unit is a strength, not a count
    assert parse_sig("co-codamol 30/500 qds", kb).max_daily_mg() == [120.0, 2000.0]
    assert parse_sig("ibuprofen 400 mg tds", kb).max_daily_mg() == [1200.0]
    # an implausible count is not read as tablets
    assert parse_sig("co-codamol 30/500 12 qds", kb).units_per_dose_max == 1
