"""Roots pipe: which nerve root a finding at a disc level affects (exiting or traversing)."""

from __future__ import annotations

from functools import lru_cache

from spineguide.text.pipes.mentions import DISC_FINDINGS, Mention


def zone_root_position(
    m: Mention, mentions: list[Mention], sentence_zones: list[tuple[int, str]]
) -> str | None:
    zones = list(m.zones)
    if not zones:
        for other in mentions:
            if other.finding in DISC_FINDINGS and other.zones:
                zones = other.zones
                break
    if not zones:
        zones = [z for _, z in sentence_zones]
    for z in zones:
        if z in ("foraminal", "extraforaminal"):
            return "exiting"
        if z in ("paracentral", "subarticular", "central"):
            return "traversing"
    return None


@lru_cache(maxsize=1)
def _level_roots() -> dict[str, tuple[str | None, str | None]]:
    """Disc level -> (exiting, traversing) root, from the knowledge base's anatomy data."""
    from spineguide.knowledge.loader import load_cached

    return {k: (v.exiting_root, v.traversing_root) for k, v in load_cached().levels.items()}


def infer_root(level: str | None, pos: str) -> str | None:
    """The exiting or traversing root at a disc level (knowledge-base anatomy), else None."""
    if not level:
        return None
    roots = _level_roots().get(level)
    if roots is None:
        return None
    root = roots[1] if pos == "traversing" else roots[0]
    return root if root in ("L1", "L2", "L3", "L4", "L5", "S1") else None


def level_of_root(root: str, pos: str) -> str | None:
    """The disc level where a root traverses (or exits), from the knowledge-base anatomy."""
    k = 1 if pos == "traversing" else 0
    for level, roots in _level_roots().items():
        if roots[k] == root:
            return level
    return None


def mention_roots(
    m: Mention, negated: bool, mentions: list[Mention], sentence_zones: list[tuple[int, str]]
) -> list[tuple[str | None, bool]]:
    """(root, inferred) pairs of a nerve-root finding; "?exiting"/"?traversing" await a level."""
    if m.finding != "nerve_root_compression" or negated:
        return [(None, False)]
    if m.roots:
        return [(r, False) for r in m.roots]
    pos = m.rootpos or zone_root_position(m, mentions, sentence_zones)
    return [("?" + (pos or "traversing"), True)]
