"""Attribution pipe: the level a finding belongs to (its own, a heading's, or the carried one)."""

from __future__ import annotations

import itertools
from typing import Any

from spineguide.text.document import Sentence
from spineguide.text.levels import LevelGroup, disc_between
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


# Anchors whose statements describe the whole spine ("alignment is normal", "marrow signal is
# normal", "vertebral body heights are maintained"): they never take a carried level.
WHOLE_SPINE_ANCHORS = frozenset({"alignment", "body_height", "marrow"})


class State:
    """What one sentence leaves to the next: heading, carried level, antecedent finding."""

    __slots__ = (
        "anaphoric",
        "antecedent",
        "antecedent_age",
        "antecedent_kind",
        "antecedent_stated",
        "carry",
        "heading",
        "heading_line_content",
        "heading_strong",
        "prev_side",
        "seen_levels",
    )

    def __init__(self) -> None:
        """Start a section with nothing carried."""
        self.heading: LevelGroup | None = None
        self.heading_strong = False
        self.heading_line_content = False
        self.carry: LevelGroup | None = None
        self.antecedent: list[Any] = []  # findings of the last focal lesion (ImagingFinding)
        self.antecedent_kind = "disc"
        self.antecedent_stated = True
        self.prev_side: str | None = None
        self.anaphoric = False
        self.antecedent_age = 0  # sentences since the antecedent was named
        self.seen_levels: dict[
            str, list[str]
        ] = {}  # finding -> levels of its last positive mention


# Words that open a sentence about the previous sentence's lesion ("It contacts ...",
# "The fragment lies ...", "On axial images it ...").
ANAPHOR_PRONOUNS = frozenset({"it", "this", "these", "they", "which"})
ANAPHOR_NOUNS = frozenset(
    {
        "fragment",
        "fragments",
        "extrusion",
        "protrusion",
        "herniation",
        "bulge",
        "disc",
        "disk",
        "collection",
        "abscess",
        "cyst",
        "lesion",
        "mass",
        "haematoma",
        "hematoma",
        "appearance",
        "appearances",
        "finding",
        "findings",
        "fracture",
        "sequestrum",
        "component",
    }
)


def is_anaphoric(words: list[str]) -> bool:
    """True when the sentence opens by pointing back at the previous lesion."""
    head = words[:6]
    if not head:
        return False
    if head[0] in ANAPHOR_PRONOUNS:
        return True
    if head[0] in ("the", "this", "these") and len(head) > 1 and head[1] in ANAPHOR_NOUNS:
        return True
    # "On axial images it lies ...", "On the sagittal images, it ..."
    return head[0] in ("on", "in", "at") and any(w in ("it", "this") for w in head[1:])


def update_carry(state: State, level_groups: list[LevelGroup]) -> None:
    """Carry the sentence's last level to the next sentence (written levels over junctions)."""
    written = written_disc = concrete = concrete_disc = None
    for g in level_groups:  # the last run of each kind, in one pass
        if g.role == "multi":
            continue
        concrete = g
        if g.discs:
            concrete_disc = g
        if g.role != "junction":
            written = g
            if g.discs:
                written_disc = g
    if written is not None:  # written levels win over junction words
        state.carry = written_disc if written_disc is not None else written
    elif concrete is not None:
        state.carry = concrete_disc if concrete_disc is not None else concrete


def _coordinated_bodies(
    best: LevelGroup, groups: list[LevelGroup], words: list[str], have: list[str | None]
) -> list[str | None]:
    """ "lesions of the L2 body and of the L4 pedicle": coordinated vertebrae."""
    out: list[str | None] = []
    last = best
    for g in groups:
        if g.start < last.end or g.role != "body":
            continue
        between = words[last.end : g.start]
        if len(between) > 6 or not any(w in ("and", ",") for w in between):
            break
        for b in g.bodies:
            if b not in have and b not in out:
                out.append(b)
        last = g
    return out


def _slip_pair(groups: list[LevelGroup]) -> str | None:
    """ "L3 slips forward on L4": two adjacent vertebrae named around a slip give its level."""
    singles = [g.bodies[0] for g in groups if len(g.bodies) == 1 and not g.discs]
    for a, b in itertools.pairwise(singles):
        disc = disc_between(a, b)
        if disc:
            return disc
    return None


def finding_levels(
    m: Mention,
    props: dict[str, Any],
    groups: list[LevelGroup],
    state: State,
    negated: bool = False,
    words: list[str] | None = None,
) -> list[str | None]:
    """The levels of a mention: its own level run, else the heading's, else the carried one."""
    kind = props["kind"]
    # "the fragment migrates to the level of the L5 pedicles": a landmark, not the level
    if (
        groups
        and kind in ("disc", "listhesis")
        and (state.heading is not None or (state.carry is not None and props["inherit"]))
    ):
        for g in groups:
            if g.role != "body":
                break
        else:
            groups = []
    if kind == "listhesis":
        pair = _slip_pair(groups)
        if pair is not None:
            return [pair]
    if groups:
        best: tuple[float, LevelGroup] | None = None
        for g in groups if len(groups) > 1 else ():  # one run is the best run
            if g.end <= m.i0:
                dist = m.i0 - g.end
            elif g.start >= m.i1:
                dist = g.start - m.i1 + 0.5
            else:
                dist = 0
            if kind == "body" and g.discs and g.role != "body" and len(g.bodies) != 1:
                dist += 20  # a disc level or junction is a weak home for a fracture or lesion
            if kind in ("disc", "listhesis") and g.role == "body" and any(h.discs for h in groups):
                dist += 50  # "posterior to the L4 body, originating from the L3-4 disc"
            if g.role == "multi" and any(h.role != "multi" for h in groups):
                dist += 30  # "multilevel ... from L2/3 to L5/S1": the written levels say which
            if best is None or dist < best[0]:
                best = (dist, g)
        chosen = best[1] if best is not None else groups[0]
        levels = chosen.levels_for(kind)
        if kind == "body" and chosen.role == "body" and words is not None:
            levels = levels + _coordinated_bodies(chosen, groups, words, levels)
        limit = props["range_max_levels"]
        if limit and len(levels) > limit:
            return [None]  # "collection from L5 up to L2": one lesion over many levels
        return levels
    if state.anaphoric and state.antecedent:
        level = state.antecedent[0].level
        if level is not None or state.antecedent_age <= 1:
            m.confidence = min(m.confidence, 0.8)  # "This is known as ...": the antecedent's level
            return [level]
    if state.heading is not None and (state.heading_strong or props["inherit"]):
        return state.heading.levels_for(kind)
    if (
        state.carry is not None
        and props["inherit"]
        and not (negated and props["inherit_positive_only"])
    ):
        if m.anchor_phrase in WHOLE_SPINE_SUBJECTS or m.anchor_name in WHOLE_SPINE_ANCHORS:
            return [None]  # "disc spaces are preserved": a statement about every level
        m.confidence = min(m.confidence, 0.9)
        return state.carry.levels_for(kind)
    if (
        m.anchor_name == "vertebral_body"
        and m.anchor_phrase in ("vertebral body", "vertebra")
        and state.carry is not None
        and len(state.carry.bodies) == 1
    ):
        # "oedema throughout the vertebral body": the vertebra named just before
        m.confidence = min(m.confidence, 0.8)
        return state.carry.levels_for(kind)
    if not negated and not props["inherit"] and m.finding in state.seen_levels:
        # "CT confirms the burst fracture": the same lesion as the one named with its level
        m.confidence = min(m.confidence, 0.8)
        return list(state.seen_levels[m.finding])
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
