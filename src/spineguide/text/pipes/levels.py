"""Levels pipe: level tokens of a sentence and the runs they form (text/levels.py grammar)."""

from __future__ import annotations

from collections.abc import Sequence

from spineguide.text.levels import (
    LUMBAR_DISC_LEVELS,
    LevelGroup,
    LevelToken,
    group_level_tokens,
    parse_level_token,
)
from spineguide.text.pipes.vocab import Item


def level_tokens(
    words: Sequence[str], candidates: Sequence[int] | None = None
) -> dict[int, LevelToken]:
    """Word index -> parsed level token for every level-looking word ("l4-5", "l5").

    `candidates` (optional) are the indices of the level-looking words when the tokeniser
    already knows them (``Sentence.levels``); other words are then not looked at."""
    out: dict[int, LevelToken] = {}
    n = len(words)
    for i in range(n) if candidates is None else candidates:
        w = words[i]
        if len(w) > 1 and w[0] in "tls" and w[1].isdigit():
            if i + 2 < n and words[i + 1] in "-–—/" and words[i + 2] in ("t", "l", "s"):
                continue  # "L3–L" cut short: which level is meant is unknown
            if (
                i + 1 < n
                and words[i + 1] in ("t", "l", "s")
                and (i + 2 >= n or not words[i + 2][:1].isdigit())
                and not any(j in w for j in "-–/")
            ):
                continue  # the same, with the dash read as a joiner (a whole disc level such as
                # "l4/5" or "l3-l4" is not cut short: "L4/5 L disc" is the left side)
            tok = parse_level_token(w)
            if tok is not None:
                out[i] = tok
    return out


_RANGE_TO = frozenset({"to", "until", "till", "through", "thru"})


def _open_range_end(words: Sequence[str], start: int) -> bool:
    """True when the level closes a range whose opening end is not a level we read."""
    if start == 0 or words[start - 1] not in _RANGE_TO:
        k = start - 1
        if not (k > 0 and words[k] == "the" and words[k - 1] in _RANGE_TO):
            return False
    for j in range(max(0, start - 7), start):
        if words[j] == "from":
            return not any(
                len(w) > 1 and w[0] in "tls" and w[1].isdigit() and parse_level_token(w)
                for w in words[j + 1 : start]
            )
    return False


def _group_start(g: LevelGroup) -> int:
    return g.start


def level_groups(
    words: Sequence[str], tokens: dict[int, LevelToken], items: Sequence[Item]
) -> tuple[list[LevelGroup], dict[int, LevelGroup]]:
    """Return (level runs, root runs by start word) including phrase levels ("multilevel")."""
    groups = group_level_tokens(words, tokens) if tokens else []
    for it in items:
        r = it.roles
        if not r:
            continue
        if "alllv" in r:
            groups.append(LevelGroup(it.i0, it.i1, list(LUMBAR_DISC_LEVELS), [], "all"))
        elif "multilv" in r:
            groups.append(LevelGroup(it.i0, it.i1, [], [], "multi"))
        elif "fixlv" in r:
            groups.append(LevelGroup(it.i0, it.i1, [r["fixlv"]], [], "junction"))
    if items:
        groups.sort(key=_group_start)  # level runs come in order; phrases may fall between
    for g in groups:
        if g.role in ("level", "body") and _open_range_end(words, g.start):
            g.role = "multi"  # "from the upper thoracic spine to L2": one end unread
    kept: list[LevelGroup] = []
    roots: dict[int, LevelGroup] = {}
    for g in groups:
        if g.role == "root":
            roots[g.start] = g
        else:
            kept.append(g)
    return kept, roots
