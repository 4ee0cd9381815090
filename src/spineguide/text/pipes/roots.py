"""Roots pipe: which nerve root a finding at a disc level affects (exiting or traversing).

The rule itself (which zone hits which root, which root exits or traverses at a level) lives in
``spineguide.reasoning.anatomy``; this pipe only finds the zone a report gives a root finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spineguide.reasoning import anatomy
from spineguide.text.pipes.mentions import DISC_FINDINGS, Mention

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase

# the lumbar roots the imaging contract reports (T12-L1 to L5-S1)
CONTRACT_ROOTS = ("L1", "L2", "L3", "L4", "L5", "S1")


def root_zone(
    m: Mention, mentions: list[Mention], sentence_zones: list[tuple[int, str]]
) -> str | None:
    """The first zone with a root rule given by the mention, its disc lesion or its sentence."""
    zones = list(m.zones)
    if not zones:
        for other in mentions:
            if other.finding in DISC_FINDINGS and other.zones:
                zones = other.zones
                break
    if not zones:
        zones = [z for _, z in sentence_zones]
    return next((z for z in zones if anatomy.zone_position(z) is not None), None)


def zone_root_position(
    m: Mention, mentions: list[Mention], sentence_zones: list[tuple[int, str]]
) -> str | None:
    """'exiting' or 'traversing' from the zone the report gives the mention (anatomy rule)."""
    return anatomy.zone_position(root_zone(m, mentions, sentence_zones))


def _kb() -> KnowledgeBase:
    from spineguide.knowledge.loader import get_kb

    return get_kb()


def infer_root(level: str | None, pos: str) -> str | None:
    """The exiting or traversing root at a disc level (anatomy rule), else None."""
    if not level:
        return None
    root = anatomy.root_at(level, pos, _kb())
    return root if root in CONTRACT_ROOTS else None


def level_of_root(root: str, pos: str) -> str | None:
    """The disc level where a root traverses (or exits), from the anatomy rule."""
    return anatomy.level_of_root(root, pos, _kb())


def mention_roots(
    m: Mention, negated: bool, mentions: list[Mention], sentence_zones: list[tuple[int, str]]
) -> list[tuple[str | None, bool]]:
    """(root, inferred) pairs of a nerve-root finding; "?exiting"/"?traversing" await a level."""
    if m.finding != "nerve_root_compression" or negated:
        return [(None, False)]
    if m.roots:
        return [(r, False) for r in m.roots]
    pos = m.rootpos or anatomy.root_position(m.finding, root_zone(m, mentions, sentence_zones))
    if pos not in ("exiting", "traversing"):
        return [(None, False)]
    return [("?" + pos, True)]
