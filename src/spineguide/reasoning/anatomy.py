"""One anatomy source for nerve roots per disc level (anatomy.yaml), for every caller.

Localisation, the differential's imaging concordance, the imaging reader and the plain-language
report all ask here which root a lesion at a level compresses, so the exiting/traversing rule has
one answer. The level table and the compression rules live in ``knowledge/data/anatomy.yaml``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Iterable

    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.text.models import ImagingFinding


class LevelRoots(BaseModel):
    """The exiting and traversing roots at a disc level."""

    exiting: str | None
    traversing: str | None


@lru_cache(maxsize=4)
def _rules(path: str) -> dict[str, Any]:
    from pathlib import Path

    from spineguide.knowledge.loader import read_yaml

    raw = read_yaml(Path(path)) or {}
    return dict(raw.get("compression_rules") or {})


def compression_rules() -> dict[str, Any]:
    """The compression rules from anatomy.yaml (zones and finding groups)."""
    path = _ANATOMY_PATH[0]
    if path is None:  # the data folder is fixed for the process: build its path once
        from spineguide.knowledge.loader import DATA_DIR

        path = _ANATOMY_PATH[0] = str(DATA_DIR / "anatomy.yaml")
    return _rules(path)


_ANATOMY_PATH: list[str | None] = [None]


def level_roots(level: str | None, kb: KnowledgeBase) -> LevelRoots:
    """Exiting and traversing roots for a disc level, from the anatomy table (None if unknown)."""
    entry = kb.levels.get(level or "")
    if entry is None:
        return LevelRoots(exiting=None, traversing=None)
    return LevelRoots(exiting=entry.exiting_root, traversing=entry.traversing_root)


def roots_below(level: str | None, kb: KnowledgeBase) -> set[str]:
    """Roots running through the canal at a level: the traversing root and every lower root."""
    order = compression_rules().get("root_order", [])
    traversing = level_roots(level, kb).traversing
    if traversing not in order:
        return set()
    return set(order[order.index(traversing) :])


def zone_position(zone: str | None) -> str | None:
    """Which root a lesion in an axial zone compresses: 'exiting', 'traversing' or None."""
    r = compression_rules()
    if zone in r.get("exiting_zones", ()):
        return "exiting"
    if zone in r.get("traversing_zones", ()):
        return "traversing"
    return None


def root_position(finding: str, zone: str | None) -> str | None:
    """Which root a finding compresses: 'exiting', 'traversing', 'canal', 'slip' or None."""
    r = compression_rules()
    if finding in r.get("exiting_findings", ()):
        return "exiting"
    if finding in r.get("traversing_findings", ()):
        return "traversing"
    if finding in r.get("canal_findings", ()):
        return "canal"
    if finding in r.get("slip_findings", ()):
        return "slip"
    if finding in r.get("zone_findings", ()):
        # paracentral is the default position of a disc lesion whose zone is not given
        return zone_position(zone) or "traversing"
    return None


def root_at(level: str | None, position: str, kb: KnowledgeBase) -> str | None:
    """The exiting or traversing root at a disc level."""
    lr = level_roots(level, kb)
    return lr.exiting if position == "exiting" else lr.traversing


def level_of_root(root: str, position: str, kb: KnowledgeBase) -> str | None:
    """The disc level where a root traverses (or exits), from the anatomy table."""
    for level in kb.levels:
        if root_at(level, position, kb) == root:
            return level
    return None


def in_root_order(roots: Iterable[str]) -> list[str]:
    """Roots sorted head to tail (T12 … S2); roots outside the table come last, by name."""
    order = compression_rules().get("root_order", [])
    rank = {r: i for i, r in enumerate(order)}
    return sorted(set(roots), key=lambda r: (rank.get(r, len(rank)), r))


def affected_roots(f: ImagingFinding, kb: KnowledgeBase) -> dict[str, str]:
    """Roots an imaging finding can compromise → how ('named', 'exiting', 'traversing', 'canal')."""
    out: dict[str, str] = {}
    if f.root:
        out[f.root] = "named"
    if f.negated:
        return out
    pos = root_position(f.finding, f.zone)
    lr = level_roots(f.level, kb)
    order = compression_rules().get("root_order", [])
    if pos == "exiting" and lr.exiting:
        out.setdefault(lr.exiting, "exiting")
    elif pos == "traversing" and lr.traversing:
        if f.finding == "nerve_root_compression" and f.root:
            return out
        out.setdefault(lr.traversing, "traversing")
        if f.migration == "caudal" and lr.traversing in order[:-1]:
            out.setdefault(order[order.index(lr.traversing) + 1], "migrated")
        if f.migration == "cranial" and lr.exiting:
            out.setdefault(lr.exiting, "migrated")
    elif pos in ("canal", "slip"):
        for root in roots_below(f.level, kb):
            out.setdefault(root, "canal")
        if pos == "slip" and lr.exiting:
            out.setdefault(lr.exiting, "exiting")
    return out


def side_concordant(image_side: str | None, clinical_side: str | None) -> bool:
    """True when an imaging side can explain symptoms on the clinical side."""
    if clinical_side is None or image_side is None:
        return True
    if image_side in ("central", "bilateral") or clinical_side == "bilateral":
        return True
    return image_side == clinical_side
