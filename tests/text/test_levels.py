"""Level grammar: disc levels, vertebral bodies, ranges, lists and root mentions."""

from __future__ import annotations

import pytest

from spineguide.text.levels import find_levels, normalise_level, parse_level_token


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("L3-4", "L3-L4"),
        ("L3/L4", "L3-L4"),
        ("L3-L4", "L3-L4"),
        ("L3–L4", "L3-L4"),
        ("l4/5", "L4-L5"),
        ("L5/S1", "L5-S1"),
        ("L5-S1", "L5-S1"),
        ("T12-L1", "T12-L1"),
        ("T12-1", "T12-L1"),
        ("L1", "L1"),
        ("S1", "S1"),
    ],
)
def test_normalise_level(raw: str, expected: str) -> None:
    assert normalise_level(raw) == expected


def test_t2_sequence_names_are_not_levels() -> None:
    assert parse_level_token("T2") is None
    assert find_levels("T2 hyperintense signal on T1 and T2 images") == []


def _discs(text: str) -> list[list[str]]:
    return [g.discs for g in find_levels(text) if g.role in ("level", "all")]


@pytest.mark.parametrize(
    ("text", "discs"),
    [
        ("at L3 through L5", ["L3-L4", "L4-L5"]),
        ("L2-L3 through L4-L5", ["L2-L3", "L3-L4", "L4-L5"]),
        ("from L3 to L5", ["L3-L4", "L4-L5"]),
        ("L3 L4", ["L3-L4"]),
        ("L3-4 and L4-5", ["L3-L4", "L4-L5"]),
        ("L3-4, L4-5 and L5-S1", ["L3-L4", "L4-L5", "L5-S1"]),
        ("anterolisthesis of L4 on L5", ["L4-L5"]),
        ("at each level", ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]),
    ],
)
def test_level_runs(text: str, discs: list[str]) -> None:
    assert _discs(text) == [discs]


def test_multilevel_has_no_specific_level() -> None:
    groups = find_levels("multilevel degenerative change")
    assert [g.role for g in groups] == ["multi"]
    assert groups[0].levels_for("disc") == [None]


def test_root_mentions_are_not_levels() -> None:
    groups = find_levels("contacting the traversing left L5 nerve root at L4-5")
    roles = {g.role: g for g in groups}
    assert roles["root"].bodies == ["L5"]
    assert roles["level"].discs == ["L4-L5"]
    exiting = find_levels("compressing the exiting L3")
    assert [g.role for g in exiting] == ["root"]


def test_vertebral_body_for_fractures() -> None:
    (group,) = find_levels("fracture of the L1 vertebral body")
    assert group.role == "body"
    assert group.levels_for("body") == ["L1"]
    (lst,) = find_levels("fractures of L1 and L2")
    assert lst.levels_for("body") == ["L1", "L2"]
