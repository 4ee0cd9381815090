"""Attribution pipe: the level a finding belongs to (its own, a heading's, or the carried one)."""

from __future__ import annotations

from typing import Any

from spineguide.text.document import Sentence
from spineguide.text.levels import LevelGroup
from spineguide.text.pipes.mentions import Mention
from spineguide.text.pipes.vocab import Item

WHOLE_SPINE_SUBJECTS = frozenset(
    {
        "disc spaces",
        "disk spaces",
        "intervertebral disc spaces",
        "intervertebral disk spaces",
        "disc heights",
        "disk heights",
        "interspaces",
        "discs",
        "disks",
        "vertebral body heights",
        "vertebral heights",
    }
)


class State:
    __slots__ = ("carry", "heading", "heading_line_content", "heading_strong")

    def __init__(self) -> None:
        self.heading: LevelGroup | None = None
        self.heading_strong = False
        self.heading_line_content = False
        self.carry: LevelGroup | None = None


def update_carry(state: State, level_groups: list[LevelGroup]) -> None:
    concrete = [g for g in level_groups if g.role != "multi"]
    discs = [g for g in concrete if g.discs]
    if discs:
        state.carry = discs[-1]
    elif concrete:
        state.carry = concrete[-1]


def finding_levels(
    m: Mention, props: dict[str, Any], groups: list[LevelGroup], state: State
) -> list[str | None]:
    kind = props["kind"]
    # "the fragment migrates to the level of the L5 pedicles": a landmark, not the level
    if (
        kind in ("disc", "listhesis")
        and groups
        and all(g.role == "body" for g in groups)
        and (state.heading is not None or (state.carry is not None and props["inherit"]))
    ):
        groups = []
    if groups:
        best: tuple[float, LevelGroup] | None = None
        for g in groups:
            if g.end <= m.i0:
                dist = m.i0 - g.end
            elif g.start >= m.i1:
                dist = g.start - m.i1 + 0.5
            else:
                dist = 0
            if kind == "body" and g.discs and g.role != "body" and len(g.bodies) > 1:
                dist += 20  # a disc level is a weak home for a fracture or lesion
            if kind in ("disc", "listhesis") and g.role == "body" and any(h.discs for h in groups):
                dist += 50  # "posterior to the L4 body, originating from the L3-4 disc"
            if best is None or dist < best[0]:
                best = (dist, g)
        assert best is not None
        return best[1].levels_for(kind)
    if state.heading is not None and (state.heading_strong or props["inherit"]):
        return state.heading.levels_for(kind)
    if state.carry is not None and props["inherit"]:
        if m.anchor_phrase in WHOLE_SPINE_SUBJECTS:
            return [None]  # "disc spaces are preserved": a statement about every level
        return state.carry.levels_for(kind)
    return [None]


def read_heading(
    sent: Sentence, items: list[Item], level_groups: list[LevelGroup], state: State
) -> tuple[int, list[LevelGroup]]:
    """Track level headings ("L4-5:") and subheadings; return (first content word, groups)."""
    words = sent.words
    if sent.para_break:
        state.heading = None
        state.carry = None
    elif sent.new_line and state.heading is not None and state.heading_line_content:
        state.heading_strong = False
    if sent.line_start and level_groups and level_groups[0].start == 0:
        g0 = level_groups[0]
        k = g0.end
        if k < len(words) and words[k] == "level":
            k += 1
        if k < len(words) and words[k] in (":", "-", "–", "—"):
            state.heading = g0
            state.heading_strong = True
            state.heading_line_content = k + 1 < len(words)
            state.carry = g0
            return k + 1, level_groups[1:]
    elif sent.line_start and len(words) > 1:
        # a non-level subheading ("Alignment:", "Conus:") ends the level block
        for k in range(1, min(5, len(words))):
            if words[k] == ":":
                head_items = [it for it in items if it.i1 <= k]
                if not any(
                    it.roles and ("anchor" in it.roles or "find" in it.roles or "head" in it.roles)
                    for it in head_items
                ):
                    state.heading = None
                    state.carry = None
                break
            if not words[k].isalpha():
                break
    return 0, level_groups
