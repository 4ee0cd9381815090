"""Outcome instruments: hand-worked scores, band edges, missing answers, change verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spineguide.errors import InputError
from spineguide.reasoning import instruments as ins
from spineguide.reasoning.instruments import (
    ODI_SECTIONS,
    score_change,
    score_nrs,
    score_odi,
    score_payload,
    score_rmdq,
    score_startback,
    startback_risk,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "instruments"
KB_DATA = ROOT / "src" / "spineguide" / "knowledge" / "data"


def odi_with_sum(total: int, missing: int = 0) -> list[int | None]:
    """Ten ODI answers summing to `total`, the last `missing` sections unanswered."""
    answered = 10 - missing
    assert 0 <= total <= 5 * answered
    values: list[int | None] = []
    remaining = total
    for _ in range(answered):
        step = min(5, remaining)
        values.append(step)
        remaining -= step
    return values + [None] * missing


def load(name: str) -> object:
    return json.loads((DATA / name).read_text())


# --- ODI ---------------------------------------------------------------------------------------


def test_odi_complete_example_from_the_notes() -> None:
    # 2+1+3+1+2+2+1+1+2+1 = 16; 16 / 50 × 100 = 32 %
    result = score_payload("odi", load("odi_complete.json"))
    assert result.raw_sum == 16
    assert result.max_possible == 50
    assert result.index_percent == 32.0
    assert result.band == "moderate"
    assert result.version == "2.1a"
    assert result.sources == ["fairbank-2000-odi"]


def test_odi_one_missing_section_reduces_denominator_to_45() -> None:
    # 16 / 45 × 100 = 35.56 %
    result = score_payload("odi", load("odi_one_missing.json"))
    assert result.answered == 9
    assert result.missing_sections == ["sex_life"]
    assert result.max_possible == 45
    assert result.index_percent == 35.6
    assert result.band == "moderate"


def test_odi_two_missing_sections_reduce_denominator_to_40() -> None:
    # 3+2+4+2+3+3+2+1 = 20; 20 / 40 × 100 = 50 %
    result = score_payload("odi", load("odi_list_two_missing.json"))
    assert result.missing_sections == ["sleeping", "sex_life"]
    assert (result.raw_sum, result.max_possible, result.index_percent) == (20, 40, 50.0)
    assert result.band == "severe"


def test_odi_three_missing_sections_is_invalid() -> None:
    with pytest.raises(InputError, match=r"3 unanswered sections.*at most 2"):
        score_payload("odi", load("odi_three_missing.json"))


def test_odi_omitted_keys_count_as_missing() -> None:
    answers = dict(zip(ODI_SECTIONS, odi_with_sum(20), strict=True))
    del answers["sex_life"]
    result = score_odi(answers)
    assert result.missing_sections == ["sex_life"]
    assert result.max_possible == 45


def test_odi_missing_section_limit_is_marked_expert_estimate() -> None:
    result = score_odi(odi_with_sum(10))
    limit = next(t for t in result.thresholds if t.name == "odi_max_missing_sections")
    assert limit.expert_estimate and limit.value == 2 and limit.rationale


@pytest.mark.parametrize(
    ("total", "missing", "index", "band"),
    [
        (0, 0, 0.0, "minimal"),
        (10, 0, 20.0, "minimal"),  # 20 % is the top of minimal
        (11, 0, 22.0, "moderate"),
        (20, 0, 40.0, "moderate"),  # 40 % is the top of moderate
        (21, 0, 42.0, "severe"),
        (30, 0, 60.0, "severe"),
        (31, 0, 62.0, "crippled"),
        (40, 0, 80.0, "crippled"),
        (41, 0, 82.0, "bed_bound_or_exaggerating"),
        (50, 0, 100.0, "bed_bound_or_exaggerating"),
        (9, 1, 20.0, "minimal"),  # 9 / 45
        (10, 1, 22.2, "moderate"),  # 10 / 45
        (8, 2, 20.0, "minimal"),  # 8 / 40
        (9, 2, 22.5, "moderate"),  # 9 / 40
        (16, 2, 40.0, "moderate"),
        (17, 2, 42.5, "severe"),
    ],
)
def test_odi_band_edges(total: int, missing: int, index: float, band: str) -> None:
    result = score_odi(odi_with_sum(total, missing))
    assert result.index_percent == index
    assert result.band == band


@pytest.mark.parametrize(
    ("answers", "match"),
    [
        ([7, 1, 1, 1, 1, 1, 1, 1, 1, 1], "pain_intensity.*0–5"),
        ([1, 1, 1, 1, 1, 1, -1, 1, 1, 1], "sleeping"),
        ([1, 1, 1, 1, 1, 1, 2.5, 1, 1, 1], "whole number"),
        ([1, 1, 1, 1, 1, 1, "2", 1, 1, 1], "whole number"),
        ([1, 1, 1, 1, 1, 1, True, 1, 1, 1], "whole number"),
        ([1] * 9, "needs 10 section answers, got 9"),
        ([1] * 11, "got 11"),
        ({"pain": 2}, "unknown ODI section"),
        ("2,3,4", "object keyed by section"),
        ([None] * 10, "10 unanswered"),
    ],
)
def test_odi_bad_input_raises(answers: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        score_odi(answers)  # type: ignore[arg-type]


def test_odi_band_function() -> None:
    assert ins.odi_band(20) == ("minimal", "Minimal disability")
    assert ins.odi_band(20.5)[0] == "moderate"
    for bad in (-1, 100.5, float("nan"), "20", True):
        with pytest.raises(InputError):
            ins.odi_band(bad)  # type: ignore[arg-type]


def test_odi_out_of_range_file_and_unsupported_version() -> None:
    with pytest.raises(InputError, match="pain_intensity"):
        score_payload("odi", load("odi_out_of_range.json"))
    with pytest.raises(InputError, match="version"):
        score_payload("odi", {"version": "1.0", "answers": odi_with_sum(10)})
    with pytest.raises(InputError, match="no 'answers'"):
        score_payload("odi", {"pain_intensity": 2})


# --- STarT Back --------------------------------------------------------------------------------


def test_startback_example_files() -> None:
    low = score_payload("startback", load("startback_low.json"))
    assert (low.total, low.psychosocial_subscore, low.risk) == (3, 0, "low")
    medium = score_payload("startback", load("startback_medium.json"))
    # agree on 1, 3, 4, 5, 7 and item 9 "very much": total 6, subscore 5+7+9 = 3
    assert (medium.total, medium.psychosocial_subscore, medium.risk) == (6, 3, "medium")
    assert medium.pathway.startswith("Physiotherapy")
    high = score_payload("startback", load("startback_high.json"))
    assert (high.total, high.psychosocial_subscore, high.risk) == (4, 4, "high")
    assert high.bothersomeness == "extremely"
    assert "psychologically informed" in high.pathway.lower()
    assert high.sources == ["keele-sbst"]


@pytest.mark.parametrize(
    ("word", "positive"),
    [
        ("not at all", 0),
        ("slightly", 0),
        ("moderately", 0),
        ("very much", 1),
        ("extremely", 1),
        (" Very Much ", 1),
    ],
)
def test_startback_item9_positive_only_for_very_much_or_extremely(word: str, positive: int) -> None:
    result = score_startback([False] * 8 + [word])
    assert result.item_scores["bothersomeness"] == positive
    assert result.total == positive


@pytest.mark.parametrize(
    ("items", "total", "subscore", "risk"),
    [
        # total 3 vs 4 with a low subscore
        ([1, 1, 1, 0, 0, 0, 0, 0, "slightly"], 3, 0, "low"),
        ([1, 1, 1, 1, 0, 0, 0, 0, "slightly"], 4, 0, "medium"),
        # total 3 with subscore 3 is still low (total decides first)
        ([0, 0, 0, 0, 1, 1, 1, 0, "slightly"], 3, 3, "low"),
        # subscore 3 vs 4 with total ≥ 4
        ([1, 0, 0, 0, 1, 1, 1, 0, "slightly"], 4, 3, "medium"),
        ([0, 0, 0, 0, 1, 1, 1, 1, "slightly"], 4, 4, "high"),
        ([1, 1, 1, 1, 1, 1, 1, 1, "extremely"], 9, 5, "high"),
        ([0, 0, 0, 0, 0, 0, 0, 0, "not at all"], 0, 0, "low"),
    ],
)
def test_startback_risk_boundaries(items: list, total: int, subscore: int, risk: str) -> None:
    result = score_startback(items)
    assert (result.total, result.psychosocial_subscore, result.risk) == (total, subscore, risk)


def test_startback_risk_function_rejects_impossible_scores() -> None:
    assert startback_risk(4, 4) == "high"
    with pytest.raises(InputError):
        startback_risk(3, 4)
    with pytest.raises(InputError):
        startback_risk(10, 0)


@pytest.mark.parametrize(
    ("answers", "match"),
    [
        ([True, "maybe", False, True, False, False, False, False, "slightly"], "'shoulder"),
        ([True] * 8 + [True], "item 9.*use one of"),
        ([True] * 8 + [3], "item 9"),
        ([True] * 8 + ["sometimes"], "item 9"),
        ([True, 2, False, True, False, False, False, False, "slightly"], "true/false"),
        ([True] * 8, "needs 9 answers, got 8"),
        ([True, None, False, True, False, False, False, False, "slightly"], "unanswered"),
        ([True] * 8 + [None], "unanswered"),
        ({"fear": True}, "missing item"),
        ({"item10": True}, "unknown STarT Back item"),
    ],
)
def test_startback_bad_input_raises(answers: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        score_startback(answers)  # type: ignore[arg-type]


def test_startback_maybe_file() -> None:
    with pytest.raises(InputError, match="maybe"):
        score_payload("startback", load("startback_maybe.json"))


# --- RMDQ --------------------------------------------------------------------------------------


def test_rmdq_ticked_and_answers_forms_agree() -> None:
    ticked = score_payload("rmdq", load("rmdq_ticked.json"))
    answers = score_payload("rmdq", load("rmdq_answers.json"))
    assert ticked.score == answers.score == 8
    assert ticked.ticked_items == answers.ticked_items == [2, 3, 9, 10, 13, 17, 18, 21]
    assert answers.not_applicable_items == [5, 23]  # counted as "no"
    assert ticked.version == "RMDQ-24"
    assert ticked.sources == ["roland-2000-rmdq"]


def test_rmdq_extremes() -> None:
    assert score_rmdq(ticked=[]).score == 0
    assert score_rmdq(ticked=list(range(1, 25))).score == 24
    assert score_rmdq(answers=["not_applicable"] * 24).score == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ticked": [0]}, "not an item number"),
        ({"ticked": [25]}, "not an item number"),
        ({"ticked": [True]}, "not an item number"),
        ({"ticked": [3, 3]}, "twice"),
        ({"answers": [True] * 23}, "needs 24 answers, got 23"),
        ({"answers": [True] * 23 + ["yes"]}, "item 24"),
        ({"answers": [1] * 24}, "item 1"),
        ({}, "either"),
        ({"ticked": [1], "answers": [False] * 24}, "either"),
    ],
)
def test_rmdq_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        score_rmdq(**kwargs)


def test_rmdq_unsupported_version() -> None:
    with pytest.raises(InputError, match="version"):
        score_payload("rmdq", {"version": "18", "ticked": [1]})


# --- NRS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("palos", "none mild mild mild mild moderate moderate severe severe severe severe"),
        (
            "physio-canada",
            "none mild mild mild moderate moderate moderate severe severe severe severe",
        ),
        ("boonstra", "none mild mild mild mild mild moderate moderate severe severe severe"),
    ],
)
def test_nrs_band_edges_per_scheme(scheme: str, expected: str) -> None:
    bands = [score_nrs(v, scheme).severity for v in range(11)]
    assert bands == expected.split()


def test_nrs_records_scheme_and_source() -> None:
    result = score_nrs(5)
    assert result.scheme == "palos" and result.severity == "moderate"
    assert result.sources == ["palos-2006-nrs"]
    assert score_nrs(5, "boonstra").sources == ["boonstra-2016-nrs"]
    assert score_nrs(4, "physio-canada").band_ranges["moderate"] == "4–6"


@pytest.mark.parametrize("value", [11, -1, 5.5, 7.0, "7", None, True])
def test_nrs_out_of_range_raises(value: object) -> None:
    with pytest.raises(InputError, match="NRS"):
        score_nrs(value)  # type: ignore[arg-type]


def test_nrs_unknown_scheme_raises() -> None:
    with pytest.raises(InputError, match="palos, physio-canada, boonstra"):
        score_nrs(5, "who")


def test_nrs_payload() -> None:
    assert score_payload("nrs", load("nrs.json")).severity == "severe"
    assert score_payload("nrs", 3, nrs_scheme_id="physio-canada").severity == "mild"


# --- change ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "baseline", "followup", "verdict", "met_abs", "met_pct"),
    [
        # ODI: 10 points exactly (25 %) → improved; 9.9 points → not
        ("odi", 40, 30, "improved", True, False),
        ("odi", 40, 30.1, "no_important_change", False, False),
        # ODI: 30 % exactly with only 6 points → improved by the percentage rule
        ("odi", 20, 14, "improved", False, True),
        ("odi", 20, 15, "no_important_change", False, False),
        # ODI worsening: +10 exactly → worsened; +9 → not
        ("odi", 30, 40, "worsened", False, False),
        ("odi", 30, 39, "no_important_change", False, False),
        # RMDQ: 5 points exactly (25 %) → improved; 4 points (20 %) → not
        ("rmdq", 20, 15, "improved", True, False),
        ("rmdq", 20, 16, "no_important_change", False, False),
        # RMDQ: 3 of 10 = 30 % exactly → improved
        ("rmdq", 10, 7, "improved", False, True),
        ("rmdq", 10, 15, "worsened", False, False),
        ("rmdq", 10, 14, "no_important_change", False, False),
        # NRS: 2 points exactly → improved; 1 point (12.5 %) → not; 30 % exactly of 10 → improved
        ("nrs", 8, 6, "improved", True, False),
        ("nrs", 8, 7, "no_important_change", False, False),
        ("nrs", 10, 7, "improved", True, True),
        ("nrs", 5, 7, "worsened", False, False),
        ("nrs", 5, 6, "no_important_change", False, False),
        # a small baseline: 1 point from 3 is 33 % → improved by the percentage rule
        ("nrs", 3, 2, "improved", False, True),
        # a rise from 0: no percentage, judged on points only
        ("nrs", 0, 1, "no_important_change", False, False),
        ("nrs", 0, 2, "worsened", False, False),
    ],
)
def test_change_verdicts_at_thresholds(
    instrument: str,
    baseline: float,
    followup: float,
    verdict: str,
    met_abs: bool,
    met_pct: bool,
) -> None:
    result = score_change(instrument, baseline, followup)
    assert result.verdict == verdict
    assert result.met_absolute_improvement is met_abs
    assert result.met_percent_improvement is met_pct


def test_change_reports_absolute_and_percent_with_sources() -> None:
    result = score_change("odi", 40, 30)
    assert result.absolute_change == -10
    assert result.percent_change == -25.0
    assert (result.mic_points, result.mic_percent) == (10, 30)
    assert result.sources == ["ostelo-2008"]
    assert score_change("nrs", 6, 4).sources == ["farrar-2001", "ostelo-2008"]
    assert score_change("nrs", 0, 0).percent_change is None
    worsening = next(t for t in result.thresholds if t.name == "odi_worsening_points")
    assert worsening.expert_estimate


def test_change_accepts_scored_results() -> None:
    baseline = score_payload("odi", load("odi_complete.json"))  # 32 %
    followup = score_odi(odi_with_sum(6))  # 12 %
    result = score_change("odi", baseline, followup)
    assert result.absolute_change == -20 and result.verdict == "improved"
    exact = score_change("odi", score_odi(odi_with_sum(16, 1)), 25.0)  # 35.56 → 25
    assert exact.verdict == "improved"  # 10.56 points
    with pytest.raises(InputError, match="is a nrs result"):
        score_change("odi", score_nrs(3), 10)


@pytest.mark.parametrize(
    ("instrument", "baseline", "followup", "match"),
    [
        ("startback", 4, 2, "not defined"),
        ("vas", 40, 20, "not defined"),
        ("odi", 101, 20, "outside 0–100"),
        ("rmdq", 25, 20, "outside 0–24"),
        ("rmdq", 10.5, 8, "whole number"),
        ("nrs", 7, 11, "outside 0–10"),
        ("nrs", "7", 5, "not a number"),
        ("nrs", True, 5, "not a number"),
        ("odi", float("nan"), 5, "finite"),
    ],
)
def test_change_bad_input(instrument: str, baseline: object, followup: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        score_change(instrument, baseline, followup)  # type: ignore[arg-type]


def test_unknown_instrument() -> None:
    with pytest.raises(InputError, match="unknown instrument 'sf36'"):
        score_payload("sf36", {})


# --- provenance --------------------------------------------------------------------------------


def _registry_ids() -> set[str]:
    ids: set[str] = set()
    for path in [KB_DATA / "sources.yaml", *sorted((KB_DATA / "sources").glob("*.yaml"))]:
        if path.is_file():
            ids |= {entry["id"] for entry in yaml.safe_load(path.read_text()) or []}
    return ids


def test_every_threshold_has_provenance_and_known_sources() -> None:
    results = [
        score_odi(odi_with_sum(10)),
        score_startback([False] * 8 + ["slightly"]),
        score_rmdq(ticked=[1]),
        *(score_nrs(3, s) for s in ins.NRS_SCHEMES),
        *(score_change(i, 5, 3) for i in ins.CHANGE_INSTRUMENTS),
    ]
    known = _registry_ids()
    for result in results:
        assert result.sources
        assert set(result.sources) <= known
        for threshold in result.thresholds:
            assert threshold.source_ids or (threshold.expert_estimate and threshold.rationale)
            assert set(threshold.source_ids) <= known, threshold.name


def test_threshold_without_provenance_is_rejected() -> None:
    with pytest.raises(ValueError, match="source id or expert_estimate"):
        ins.Threshold(name="x", value=1, unit="points")
    with pytest.raises(ValueError, match="rationale"):
        ins.Threshold(name="x", value=1, unit="points", expert_estimate=True)
