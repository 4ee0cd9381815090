"""Mentions pipe: finding phrases (terms, anchor + head compounds) and the modifiers around them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from spineguide.text.levels import LevelGroup
from spineguide.text.pipes.vocab import Item, Vocab

CONJ = frozenset({"and", "or", "nor", ",", "&"})
BOUNDARY = frozenset({".", ";", ":", "!", "?", "(", ")", "[", "]"})
PREPOSITIONS = frozenset(
    {
        "of",
        "on",
        "upon",
        "in",
        "within",
        "into",
        "involving",
        "at",
        "along",
        "the",
        "a",
        "an",
        "both",
        "to",
        "from",
        "between",
        "through",
        "across",
        "via",
    }
)
DISC_FINDINGS = frozenset(
    {"disc_bulge", "disc_protrusion", "disc_extrusion", "disc_sequestration", "disc_herniation"}
)


_NOT_SET: list = []  # the shared empty value of the lists a mention replaces whole (read only)


class Mention:
    __slots__ = (
        "anchor_name",
        "anchor_phrase",
        "anchor_words",
        "confidence",
        "default_sev",
        "finding",
        "head_word",
        "i0",
        "i1",
        "item_index",
        "nums",
        "polarity",
        "rootpos",
        "roots",
        "sevs",
        "sides",
        "target",
        "zones",
    )

    def __init__(self, finding: str, i0: int, i1: int, target: int) -> None:
        self.finding = finding
        self.i0 = i0
        self.i1 = i1
        self.target = target
        self.sevs: list[str] = []
        self.sides: list[str] = []
        self.zones: list[str] = []
        self.roots: list[str] = _NOT_SET  # replaced (never appended to) when roots are named
        self.rootpos: str | None = None
        self.polarity = "positive"
        self.default_sev: str | None = None
        self.head_word = ""
        self.item_index = 0
        self.nums: list[tuple[float, str]] = []
        self.anchor_phrase = ""
        self.anchor_name = ""
        self.anchor_words: list[int] = _NOT_SET  # replaced, never appended to
        self.confidence = 1.0


_WALK_ROLES = frozenset(
    {
        "sev",
        "side",
        "zone",
        "filler",
        "anchor",
        "num",
        "lvl",
        "rootpos",
        "copula",
        "qty",
        "ldir",
        "mig",
        "migverb",
    }
)
_FINDING_ROLES = frozenset({"find", "head"})
_LIST_ROLES = frozenset({"sev", "side", "anchor", "zone", "lvl"})


def walkable(item: Item) -> bool:
    """True for a modifier word a finding phrase may extend over (grade, side, anatomy, ...)."""
    r = item.roles
    if r is None:
        return False
    keys = r.keys()
    return keys.isdisjoint(_FINDING_ROLES) and not keys.isdisjoint(_WALK_ROLES)


class Group:
    __slots__ = ("anchors", "lvls", "nums", "qty", "rootpos", "sevs", "sides", "zones")

    def __init__(self) -> None:
        self.anchors: list[int] = []
        self.sevs: list[str] = []
        self.sides: list[str] = []
        self.zones: list[str] = []
        self.lvls: list[int] = []
        self.rootpos: str | None = None
        self.nums: list[tuple[float, str]] = []
        self.qty: str | None = None


_ABSORBED_ROLES = frozenset({"sev", "side", "zone", "lvl", "rootpos", "qty", "num"})


def absorb(group: Group, items: list[Item], j: int, words: list[str]) -> None:
    """Add the modifiers of item j to a group."""
    it = items[j]
    r = it.roles
    if not r or _ABSORBED_ROLES.isdisjoint(r):
        return  # a filler, copula or anatomy word: nothing to add
    if "sev" in r:
        group.sevs.append(r["sev"])
    if "side" in r:
        group.sides.append(r["side"])
    if "zone" in r:
        group.zones.append(r["zone"])
    if "lvl" in r:
        group.lvls.append(it.i0)
    if "rootpos" in r and group.rootpos is None:
        group.rootpos = r["rootpos"]
    if "qty" in r:
        group.qty = r["qty"]
    if "num" in r:
        unit = words[it.i1] if it.i1 < len(words) else ""
        group.nums.append((r["num"], unit))


def walk_back(
    items: list[Item], k: int, words: list[str], anchor_ok: frozenset[str] | None
) -> list[Group]:
    """Collect modifier groups left of item k; anchors in `anchor_ok` become group anchors."""
    cur = Group()
    groups = [cur]
    j = k - 1
    steps = 0
    while j >= 0 and steps < 14:
        steps += 1
        it = items[j]
        r = it.roles
        if r is None:
            w = it.word
            if w in CONJ:
                if j >= 1:
                    prev = items[j - 1]
                    pr = prev.roles
                    if pr is None:
                        if prev.word in CONJ:
                            j -= 1  # ", or" / ", and": one conjunction
                            continue
                    elif walkable(prev):
                        if not pr.keys().isdisjoint(_LIST_ROLES):
                            if "sev" in pr and "side" not in pr and not (cur.anchors or cur.sides):
                                # "mild and moderate" without sides: one range, not two groups
                                j -= 1
                                continue
                            cur = Group()
                            groups.append(cur)
                            j -= 1
                            continue
                        if cur.sevs == []:
                            # "moderate posterior and lateral bulging": coordinated filler words
                            j -= 1
                            continue
                break
            if w in ("to", "-", "/", "%") or w == "mm" or w == "cm":
                j -= 1
                continue
            break
        keys = r.keys()
        if not keys.isdisjoint(_FINDING_ROLES):
            break
        if "anchor" in r and anchor_ok is not None:
            if r["anchor"] & anchor_ok:
                cur.anchors.append(j)
                absorb(cur, items, j, words)
                j -= 1
                continue
            if "filler" not in r and "zone" not in r:
                break
        if keys.isdisjoint(_WALK_ROLES):  # not a modifier word (see `walkable`)
            break
        if not keys.isdisjoint(_ABSORBED_ROLES):  # a filler or copula adds nothing
            absorb(cur, items, j, words)
        j -= 1
    if len(groups) == 1:
        return groups  # one group, empty or not (an empty one stands for "no modifiers")
    groups.reverse()
    return [
        g
        for g in groups
        if g.anchors or g.sevs or g.sides or g.zones or g.lvls or g.nums or g.rootpos or g.qty
    ] or [Group()]


# verbs that place a bone finding in the vertebra named after them
_RELATION_WORDS = frozenset({"involving", "involves", "affecting", "affects", "involvement of"})


_SIZE_WORDS = frozenset({"larger", "smaller", "greater", "bigger", "than", "measuring", "sized"})


def walk_forward(
    items: list[Item], k: int, words: list[str], anchor_ok: frozenset[str]
) -> list[Group]:
    """Collect anchor groups right of head item k ("narrowing of the left foramen")."""
    groups = [Group()]
    j = k + 1
    n = len(items)
    steps = 0
    while j < n and steps < 12:
        steps += 1
        it = items[j]
        r = it.roles
        if r is None:
            w = it.word
            if w in PREPOSITIONS or w in ("%",):
                j += 1
                continue
            if w in _SIZE_WORDS and "vertebral_body" in anchor_ok:
                j += 1  # "lesions larger than 5 mm involving the L2 body": a size aside
                continue
            if w == "(":
                # a short aside ("(arrow)", "(purple)") does not end the phrase
                close = next((x for x in range(j + 1, min(n, j + 5)) if items[x].word == ")"), None)
                if close is not None:
                    j = close + 1
                    continue
            if w in CONJ and groups[-1].anchors:
                groups.append(Group())
                j += 1
                continue
            if w in CONJ and not groups[-1].anchors and j + 1 < n and items[j + 1].roles:
                j += 1  # "contact between disc and S1 roots": the list before the anchor
                continue
            break
        if "find" in r or "head" in r:
            if it.word in _RELATION_WORDS and "vertebral_body" in anchor_ok:
                j += 1  # "lesions involving the L2 and L3 vertebral bodies"
                continue
            break
        if "anchor" in r:
            if r["anchor"] & anchor_ok:
                groups[-1].anchors.append(j)
                absorb(groups[-1], items, j, words)
                j += 1
                continue
            if "filler" not in r and "zone" not in r:
                j += 1  # an unrelated anatomy word ("the thecal sac and the L5 root")
                continue
        if not walkable(it):
            break
        if not _ABSORBED_ROLES.isdisjoint(r):  # a filler or copula adds nothing
            absorb(groups[-1], items, j, words)
        j += 1
    if len(groups) == 1:
        return groups if (groups[0].anchors or groups[0].lvls) else []
    return [g for g in groups if g.anchors or g.lvls]


def group_start(g: Group, items: list[Item], default: int) -> int:
    if not g.anchors:
        return default
    return min([items[a].i0 for a in g.anchors])


def fill(m: Mention, g: Group) -> None:
    m.sevs.extend(g.sevs)
    m.sides.extend(g.sides)
    m.zones.extend(g.zones)
    m.nums.extend(g.nums)
    if g.rootpos and not m.rootpos:
        m.rootpos = g.rootpos
    if g.qty and not m.sevs:
        m.sevs.append(g.qty)


def split_side_groups(groups: list[Group]) -> list[Group]:
    """Coordinated sides ("severe right and moderate left") become one group per side."""
    if len(groups) == 1:
        return groups  # nothing to split or merge
    with_side = [g for g in groups if g.sides]
    if len(with_side) < 2:
        merged = Group()
        for g in groups:
            merged.sevs.extend(g.sevs)
            merged.sides.extend(g.sides)
            merged.zones.extend(g.zones)
            merged.nums.extend(g.nums)
            merged.lvls.extend(g.lvls)
            merged.anchors.extend(g.anchors)
            merged.rootpos = merged.rootpos or g.rootpos
            merged.qty = merged.qty or g.qty
        return [merged]
    out: list[Group] = []
    pending: list[Group] = []
    for g in groups:
        pending.append(g)
        if g.sides:
            merged = Group()
            for p in pending:
                merged.sevs.extend(p.sevs)
                merged.sides.extend(p.sides)
                merged.zones.extend(p.zones)
                merged.nums.extend(p.nums)
            out.append(merged)
            pending = []
    if pending and out:
        for p in pending:
            out[-1].sevs.extend(p.sevs)
            out[-1].zones.extend(p.zones)
    # shared severity: "severe right and left" -> both severe
    shared = [s for g in out for s in g.sevs]
    for g in out:
        if not g.sevs and shared:
            g.sevs = [shared[0]]
    return out


def make_compound(
    vocab: Vocab,
    items: list[Item],
    words: list[str],
    idx: int,
    heads: frozenset[str],
    groups: list[Group],
    mentions: list[Mention],
    pre: Group | None,
    root_groups: dict[int, LevelGroup] | None = None,
) -> bool:
    made = False
    head = items[idx]
    seen: set[tuple[str, int, int]] = set()
    for g in groups:
        anchors = list(g.anchors)
        # "compressing the exiting L3": a root named without the word "root"
        if (
            not anchors
            and g.lvls
            and root_groups is not None
            and any(i in root_groups for i in g.lvls)
            and heads & {"effect", "contact"}
        ):
            anchors = [-1]
        for a in anchors:
            if a >= 0:
                anchor_item = items[a]
                names = anchor_item.roles["anchor"]  # type: ignore[index]
                excluded = vocab.exclusions.get(anchor_item.word)
                if excluded and head.word in excluded:
                    continue
            else:
                anchor_item = None
                names = frozenset({"root"})
            for name, specs in _compound_specs(vocab, names, heads):
                for finding, polarity, default_sev in specs:
                    key = (finding, a, id(g))
                    if key in seen:
                        continue
                    seen.add(key)
                    a_i0 = anchor_item.i0 if anchor_item else head.i0
                    a_i1 = anchor_item.i1 if anchor_item else head.i1
                    i0 = min(a_i0, head.i0)
                    i1 = max(a_i1, head.i1)
                    m = Mention(finding, i0, i1, head.i0)
                    m.anchor_words = [items[x].i0 for x in g.anchors if x >= 0]
                    m.anchor_phrase = anchor_item.word if anchor_item else ""
                    m.anchor_name = name
                    m.polarity = polarity
                    m.default_sev = default_sev
                    m.head_word = head.word
                    m.item_index = idx
                    fill(m, g)
                    if pre is not None:
                        if not m.sevs:
                            m.sevs.extend(pre.sevs)
                        if not m.sevs and pre.qty:
                            m.sevs.append(pre.qty)
                        m.nums.extend(pre.nums)
                        if not m.sides:
                            m.sides.extend(pre.sides)
                    if finding == "nerve_root_compression":
                        m.roots = roots_of(g, root_groups or {}, items, words)
                    mentions.append(m)
                    made = True
                    break
    return made


@lru_cache(maxsize=4096)
def _compound_specs(
    vocab: Vocab, names: frozenset[str], heads: frozenset[str]
) -> tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...]:
    """(anchor name, [compound specs in head order]) for the anchor names and heads of a
    vocabulary phrase pair, names and heads in sorted order (cached per pair of role sets)."""
    out = []
    for name in sorted(names):
        specs = tuple(
            vocab.compounds[(name, h)] for h in sorted(heads) if (name, h) in vocab.compounds
        )
        if specs:
            out.append((name, specs))
    return tuple(out)


def roots_of(
    g: Group, root_groups: dict[int, LevelGroup], items: list[Item], words: list[str]
) -> list[str]:
    roots: list[str] = []
    for i in g.lvls:
        rg = root_groups.get(i)
        if rg is not None:
            for b in rg.bodies:
                if b not in roots and b[0] in "LS":
                    roots.append(b)
        else:
            # second member of a root run ("L5 and S1 nerve roots")
            for rg2 in root_groups.values():
                if rg2.start <= i < rg2.end:
                    for b in rg2.bodies:
                        if b not in roots and b[0] in "LS":
                            roots.append(b)
    return roots


def find_mentions(
    vocab: Vocab,
    items: list[Item],
    words: list[str],
    content_from: int,
    root_groups: dict[int, LevelGroup],
    candidates: Sequence[int] | None = None,
) -> list[Mention]:
    """Every finding mention of a sentence: plain terms and anchor + head compounds.

    `candidates` (optional) are the indices of the items that carry a finding, weak finding or
    head role, in order, when the caller already knows them; other items are not looked at."""
    mentions: list[Mention] = []
    compounds = vocab.compounds
    for idx in range(len(items)) if candidates is None else candidates:
        it = items[idx]
        if it.i0 < content_from:
            continue
        r = it.roles
        if not r:
            continue
        if "find" in r:
            _term_mentions(vocab, items, words, idx, r["find"], mentions)
        elif "weakfind" in r:
            need = vocab.findings[r["weakfind"]]["weak_need"]
            if not need.isdisjoint(words):
                _term_mentions(vocab, items, words, idx, r["weakfind"], mentions)
        elif "head" in r or "softhead" in r:
            heads: frozenset[str] = r["head"] if "head" in r else r["softhead"]
            anchor_ok = vocab.anchors_for_heads.get(heads)
            if anchor_ok is None:
                anchor_ok = frozenset(a for (a, h) in compounds if h in heads)
                vocab.anchors_for_heads[heads] = anchor_ok
            _compound_mentions(vocab, items, words, idx, heads, anchor_ok, root_groups, mentions)
    if len(mentions) > 1:
        _merge_undecided_types(mentions, words)
    return mentions


# herniation types a report may leave undecided ("protrusion/extrusion", "protrusion versus
# extrusion", "protrusion-extrusion complex"): one herniation whose type is not settled
_TYPED_HERNIATIONS = frozenset({"disc_protrusion", "disc_extrusion"})
_UNDECIDED_JOINS = frozenset({"/", "or", "versus", "vs", "-"})


def _merge_undecided_types(mentions: list[Mention], words: list[str]) -> None:
    """Read two herniation types written as one lesion as one disc herniation (in place)."""
    for a in mentions:
        if a.finding not in _TYPED_HERNIATIONS:
            continue
        for b in mentions:
            if b.finding in _TYPED_HERNIATIONS and b.finding != a.finding and b.i0 >= a.i1:
                between = words[a.target + 1 : b.target]
                if len(between) <= 1 and _UNDECIDED_JOINS.issuperset(between):
                    a.finding = "disc_herniation"
                    a.i1 = max(a.i1, b.i1)
                    mentions.remove(b)
                    return


def _any_anchor(groups: list[Group]) -> bool:
    # a plain loop: cheaper than any() over a generator on this hot path
    for g in groups:  # noqa: SIM110
        if g.anchors:
            return True
    return False


def _term_mentions(
    vocab: Vocab, items: list[Item], words: list[str], idx: int, fid: str, out: list[Mention]
) -> None:
    it = items[idx]
    props = vocab.findings[fid]
    if props["skip_if"] and any(m.roles and m.roles.get("find") in props["skip_if"] for m in items):
        return
    near = props["skip_if_near"]
    if near and not near.isdisjoint(words[max(0, it.i0 - 4) : it.i1 + 5]):
        return  # "bulging of the posterior cortex": the same word about another structure
    elsewhere = props["elsewhere"]
    if elsewhere and not elsewhere[0].isdisjoint(words) and elsewhere[1].isdisjoint(words):
        fid = elsewhere[2]  # "phlegmon in the psoas": not epidural
    for g in split_side_groups(walk_back(items, idx, words, None)):
        m = Mention(fid, min(it.i0, group_start(g, items, it.i0)), it.i1, it.i0)
        fill(m, g)
        m.item_index = idx
        m.head_word = it.word
        out.append(m)


PRONOUNS = frozenset({"it", "them", "this", "these", "they", "those"})


def _pronoun_antecedent(items: list[Item], idx: int, anchor_ok: frozenset[str]) -> list[Group]:
    """ "... the S1 roots without displacing them": the pronoun stands for the nearest earlier
    anatomy word the head can apply to."""
    j = idx + 1
    while j < len(items) and items[j].word in PREPOSITIONS:
        j += 1
    if j >= len(items) or items[j].word not in PRONOUNS:
        return []
    return _nearest_anchor(items, idx - 1, anchor_ok)


def _nearest_anchor(
    items: list[Item], last: int, anchor_ok: frozenset[str], side: str | None = None
) -> list[Group]:
    """The nearest anatomy word at or before `last` that the head can apply to, as one group."""
    for k in range(last, -1, -1):
        r = items[k].roles
        if r and "anchor" in r and r["anchor"] & anchor_ok:
            g = Group()
            g.anchors.append(k)
            if side is not None:
                g.sides.append(side)
            return [g]
    return []


# words between "the left one" and what is said of it ("the left one being kinked and ...")
_ONE_GAP = frozenset({",", "and", "being", "is", "was", "appears", "also", "clearly"})


def _one_of_them(items: list[Item], idx: int, anchor_ok: frozenset[str]) -> list[Group]:
    """ "The S1 roots are seen, the left one being displaced": "one" names one of the anatomy
    words before it, on the side written with it."""
    k = idx - 1
    while k > 0 and k > idx - 8:
        it = items[k]
        if it.word in ("one", "ones"):
            break
        r = it.roles
        if not (it.word in _ONE_GAP or (r and ("head" in r or "copula" in r or "sev" in r))):
            return []
        k -= 1
    else:
        return []
    side = items[k - 1].roles.get("side") if items[k - 1].roles else None  # type: ignore[union-attr]
    if side not in ("left", "right"):
        return []
    return _nearest_anchor(items, k - 2, anchor_ok, side)


_OBJECT_OPENERS = frozenset({"the", "both", "a", "an", "its", "their", "this", "these"})


def _object_follows(items: list[Item], idx: int) -> bool:
    """True when a verb-like head is followed by its object ("narrowing the left foramen")."""
    if idx + 1 >= len(items):
        return False
    nxt = items[idx + 1]
    return nxt.word in _OBJECT_OPENERS or bool(nxt.roles and "side" in nxt.roles)


def _compound_mentions(
    vocab: Vocab,
    items: list[Item],
    words: list[str],
    idx: int,
    heads: frozenset[str],
    anchor_ok: frozenset[str],
    root_groups: dict[int, LevelGroup],
    mentions: list[Mention],
) -> None:
    it = items[idx]
    made = False
    pre: list[Group] | None = None  # the modifiers before the head (read only), when needed
    if it.word.endswith("ing") and _object_follows(items, idx):
        # "... and narrowing both exit foramina": a participle takes the anatomy after it
        fwd = walk_forward(items, idx, words, anchor_ok)
        if fwd:
            pre = walk_back(items, idx, words, None)
            made = make_compound(
                vocab, items, words, idx, heads, fwd, mentions, pre[-1], root_groups
            )
    groups_b = walk_back(items, idx, words, anchor_ok) if not made else []
    if _any_anchor(groups_b):
        # groups without an anchor share the anchor of the group to their right
        last_anchor: list[int] = []
        for g in reversed(groups_b):
            if g.anchors:
                last_anchor = g.anchors
            elif last_anchor:
                g.anchors = list(last_anchor)
        carry_sev: list[str] = []
        for g in groups_b:
            if g.sevs:
                carry_sev = g.sevs
            elif carry_sev:
                g.sevs = list(carry_sev)
        made = make_compound(vocab, items, words, idx, heads, groups_b, mentions, None, root_groups)
    if not made:
        fwd = walk_forward(items, idx, words, anchor_ok)
        if not fwd:
            fwd = _pronoun_antecedent(items, idx, anchor_ok)
        if fwd:
            if pre is None:
                pre = walk_back(items, idx, words, None)
            made = make_compound(
                vocab, items, words, idx, heads, fwd, mentions, pre[-1], root_groups
            )
    if not made:
        one = _one_of_them(items, idx, anchor_ok)
        if one:
            made = make_compound(vocab, items, words, idx, heads, one, mentions, None, root_groups)
    if not made and "calcify" in heads:
        # "calcified right paracentral herniation": the herniation is the anchor
        for j in range(idx + 1, min(len(items), idx + 5)):
            rj = items[j].roles
            if rj and rj.get("find") in DISC_FINDINGS:
                m = Mention("disc_calcification", it.i0, items[j].i1, it.i0)
                # "calcified right paracentral herniation": the herniated part's side
                between = [items[x].roles.get("side") for x in range(idx + 1, j)]  # type: ignore[union-attr]
                side = next((sd for sd in between if sd in ("left", "right")), "central")
                m.sides.append(side)
                m.head_word = it.word
                m.item_index = idx
                mentions.append(m)
                made = True
                break
            if rj is None or not walkable(items[j]):
                break
    if not made and it.word in ("stenosis", "stenoses", "stenotic") and "narrowing" in heads:
        if pre is None:
            pre = walk_back(items, idx, words, None)
        m = Mention("canal_stenosis", it.i0, it.i1, it.i0)
        fill(m, pre[-1])
        m.head_word = it.word
        m.item_index = idx
        mentions.append(m)
