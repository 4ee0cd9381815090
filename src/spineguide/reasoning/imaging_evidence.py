"""Imaging findings as reasoning input: level → roots, and concordance with the clinical picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.text.models import ImagingFinding

_ROOT_ORDER = ("T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2")


class LevelRoots(BaseModel):
    """The exiting and traversing roots at a disc level."""

    exiting: str | None
    traversing: str | None


def level_roots(level: str | None, kb: KnowledgeBase | None = None) -> LevelRoots:
    """Exiting and traversing roots for a disc level (from anatomy.yaml, else the naming rule)."""
    if not level or "-" not in level:
        return LevelRoots(exiting=None, traversing=None)
    if kb is not None and level in kb.levels:
        entry = kb.levels[level]
        return LevelRoots(exiting=entry.exiting_root, traversing=entry.traversing_root)
    upper, lower = level.split("-", 1)
    return LevelRoots(exiting=upper, traversing=lower)


def roots_below(level: str | None) -> set[str]:
    """Roots running through the canal at a level (the traversing root and every lower root)."""
    if not level or "-" not in level:
        return set()
    lower = level.split("-", 1)[1]
    if lower not in _ROOT_ORDER:
        return set()
    i = _ROOT_ORDER.index(lower)
    return set(_ROOT_ORDER[i:])


def affected_roots(f: ImagingFinding, kb: KnowledgeBase | None = None) -> dict[str, str]:
    """Roots an imaging finding can compromise → how ('named', 'exiting', 'traversing', 'canal')."""
    out: dict[str, str] = {}
    if f.root:
        out[f.root] = "named"
    lr = level_roots(f.level, kb)
    if f.finding in ("foraminal_stenosis",):
        if lr.exiting:
            out.setdefault(lr.exiting, "exiting")
    elif f.finding in ("lateral_recess_stenosis", "synovial_cyst"):
        if lr.traversing:
            out.setdefault(lr.traversing, "traversing")
    elif f.finding in (
        "disc_protrusion", "disc_extrusion", "disc_herniation", "disc_sequestration",
    ):  # fmt: skip
        if f.zone in ("foraminal", "extraforaminal"):
            if lr.exiting:
                out.setdefault(lr.exiting, "exiting")
        else:
            if lr.traversing:
                out.setdefault(lr.traversing, "traversing")
            if f.migration == "caudal" and lr.traversing in _ROOT_ORDER:
                nxt = _ROOT_ORDER[_ROOT_ORDER.index(lr.traversing) + 1]
                out.setdefault(nxt, "migrated")
            if f.migration == "cranial" and lr.exiting:
                out.setdefault(lr.exiting, "migrated")
    elif f.finding in ("canal_stenosis", "cauda_equina_compression", "spondylolisthesis"):
        for root in roots_below(f.level):
            out.setdefault(root, "canal")
        if f.finding == "spondylolisthesis" and lr.exiting:
            out.setdefault(lr.exiting, "exiting")
    elif f.finding == "nerve_root_compression" and not f.root and lr.traversing:
        out.setdefault(lr.traversing, "traversing")
    return out


def side_concordant(image_side: str | None, clinical_side: str | None) -> bool:
    """True when an imaging side can explain symptoms on the clinical side."""
    if clinical_side is None or image_side is None:
        return True
    if image_side in ("central", "bilateral") or clinical_side == "bilateral":
        return True
    return image_side == clinical_side
