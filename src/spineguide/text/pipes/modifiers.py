"""Modifiers pipe: side, zone, severity words, grades, percentages, Modic type, slip direction."""

from __future__ import annotations

from collections.abc import Sequence

from spineguide.text.models import SEVERITY_ORDER
from spineguide.text.pipes.mentions import BOUNDARY, DISC_FINDINGS, Mention
from spineguide.text.pipes.vocab import ROMAN, Item, Vocab

_POST_STOPS = frozenset({"with", "and", "but", "while", "without", "whereas", "however"})
_SEV_BEFORE = frozenset({",", "(", "as", "of", "a", "is", "are", "to", "be", "being"})
_SEV_AFTER = frozenset({"in", "degree", "severity", ")", ".", "extent", "grade", ",", ";"})


def modifies_next(items: list[Item], j: int) -> bool:
    """True when the word at j modifies a following finding or anatomy word ("both S1 roots")."""
    for k in range(j + 1, min(len(items), j + 4)):
        r = items[k].roles
        if r is None:
            return False
        if "find" in r or "head" in r or "anchor" in r:
            return True
        if str(r.get("side", "")).endswith("+"):
            return True  # "a little worse on the left": grades the predominance
        if "lvl" in r or "filler" in r or "side" in r or "zone" in r:
            continue
        return False
    return False


_LOCATIVE = frozenset(
    {"in", "within", "into", "on", "at", "toward", "towards", "occupying", "from", "to", "adjacent"}
)


def locative(items: list[Item], j: int) -> bool:
    """True when the side word says where the finding lies ("lies in the right recess")."""
    k = j - 1
    if k >= 0 and items[k].word in ("the", "a"):
        k -= 1
    return k >= 0 and items[k].word in _LOCATIVE


def post_window(items: list[Item], k: int, stop: int) -> list[int]:
    """Item indices after item k up to the next mention, a boundary, 'with' or 'and'."""
    out = []
    j = k + 1
    while j < stop and j < k + 20:
        it = items[j]
        if (it.word in BOUNDARY and it.word not in "()") or it.word in _POST_STOPS:
            break
        out.append(j)
        j += 1
    return out


def max_severity(sevs: list[str]) -> str | None:
    best = None
    for s in sevs:
        if best is None or SEVERITY_ORDER[s] > SEVERITY_ORDER[best]:
            best = s
    return best


def percent_severity(p: float) -> str:
    # canal/foraminal narrowing: <25 % mild, 25-50 % moderate, >50 % severe (lee-2010-foraminal;
    # cut-offs are an expert estimate mapping area loss onto the Lee grades)
    if p < 25:
        return "mild"
    if p <= 50:
        return "moderate"
    return "severe"


def genant_severity(p: float) -> str:
    # Genant semiquantitative grading of vertebral height loss: grade 1 20-25 %, grade 2 25-40 %,
    # grade 3 >40 %
    if p <= 25:
        return "mild"
    if p <= 40:
        return "moderate"
    return "severe"


def grade_severity(grade: int) -> str:
    return "mild" if grade <= 1 else "moderate" if grade == 2 else "severe"


def meyerding(percent: float) -> int:
    if percent <= 25:
        return 1
    if percent <= 50:
        return 2
    if percent <= 75:
        return 3
    if percent <= 100:
        return 4
    return 5


def settle_sides(sides: list[str], paired: bool) -> list[str]:
    """Resolve predominance ("left+" = worse on the left): bilateral for paired structures."""
    if not sides:
        return sides
    for s in sides:
        if s == "both" or s.endswith("+"):
            break
    else:
        return sides
    out = []
    for s in sides:
        if s == "both" or s.endswith("+"):
            if paired:
                out.append("bilateral")
        else:
            out.append(s)
    return out


def resolve_side(sides: list[str], zone: str | None) -> str | None:
    """One side from the sides written (left and right -> bilateral), else the zone's."""
    if sides:
        if len(sides) == 1:
            return "bilateral" if sides[0] == "bilateral" else sides[0]
        if "bilateral" in sides or ("left" in sides and "right" in sides):
            return "bilateral"
        return sides[0]
    if zone == "central":
        return "central"
    return None


def nearest_disc_side(mentions: list[Mention], m: Mention, vocab: Vocab) -> str | None:
    best = None
    for other in mentions:
        if other is m or other.finding not in DISC_FINDINGS:
            continue
        s = resolve_side(settle_sides(other.sides, False), None)
        if s and s != "central" and (best is None or abs(other.i0 - m.i0) < best[0]):
            best = (abs(other.i0 - m.i0), s)
    return best[1] if best else None


def clauses(words: list[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = [(0, 0)] * len(words)
    start = 0
    for i, w in enumerate(words):
        if w in (",", ";", ":") or i == len(words) - 1:
            end = i + 1
            for j in range(start, end):
                out[j] = (start, end)
            start = end
    return out


def find_grade(items: list[Item], words: list[str], m: Mention) -> int | None:
    """The grade number written next to a mention ("grade 1", "grade II")."""
    if "grade" not in words:
        return None
    lo, hi = max(0, m.i0 - 4), min(len(words), m.i1 + 4)
    for i in range(lo, hi - 1):
        if words[i] == "grade":
            w = words[i + 1]
            if w.isdigit():
                return int(w)
            if w in ROMAN:
                return ROMAN[w]
    return None


def find_percent(items: list[Item], words: list[str]) -> float | None:
    for i, w in enumerate(words[:-1]):
        if w[0].isdigit() and words[i + 1] in ("%", "percent"):
            window = words[max(0, i - 5) : i + 6]
            if any(x in ("height", "loss", "collapse", "compression", "wedging") for x in window):
                try:
                    return float(w)
                except ValueError:
                    return None
    return None


def modic_type(items: list[Item], words: list[str], m: Mention) -> int | None:
    lo, hi = max(0, m.i0 - 4), min(len(words), m.i1 + 4)
    for i in range(lo, hi - 1):
        w = words[i]
        if w in ("type", "modic"):
            nxt = words[i + 1]
            if nxt.isdigit() and nxt in ("1", "2", "3"):
                return int(nxt)
            if nxt in ("i", "ii", "iii"):
                return ROMAN[nxt]
    for i in range(lo, hi):
        if words[i] == "fatty":
            return 2
    return None


def listhesis_direction(items: list[Item], m: Mention) -> str | None:
    for it in items:
        if it.i0 >= m.i0 and it.i1 <= m.i1 and it.roles and "ldir" in it.roles:
            return it.roles["ldir"]
    for it in items:
        if it.roles and "ldir" in it.roles and abs(it.i0 - m.i0) <= 3:
            return it.roles["ldir"]
    return None


_SENTENCE_ROLES = frozenset({"sev", "mig", "zone"})


class SentenceModifiers:
    """Sentence-wide modifiers: severity adverbs before a verb, migration words, zone words."""

    __slots__ = ("adverb_sev", "migration", "zones")

    def __init__(self, items: list[Item], candidates: Sequence[int] | None = None) -> None:
        """Collect the modifiers from the tagged words of one sentence (`candidates`, when
        given, are the indices of the items with a severity, migration or zone role)."""
        self.adverb_sev: list[tuple[int, str]] = []
        self.migration: list[tuple[int, str]] = []
        self.zones: list[tuple[int, str]] = []
        n_items = len(items)
        for idx in range(n_items) if candidates is None else candidates:
            it = items[idx]
            r = it.roles
            if not r or _SENTENCE_ROLES.isdisjoint(r):
                continue
            if "sev" in r and idx + 1 < n_items and it.word.endswith("ly"):
                nr = items[idx + 1].roles
                if nr and "head" in nr:
                    self.adverb_sev.append((it.i0, r["sev"]))
            if "mig" in r:
                lo, hi = max(0, idx - 3), min(n_items, idx + 4)
                if any(
                    items[j].roles and "migverb" in items[j].roles
                    for j in range(lo, hi)
                    if j != idx
                ):
                    self.migration.append((it.i0, r["mig"]))
            if "zone" in r:
                self.zones.append((it.i0, r["zone"]))


def post_modifiers(
    m: Mention, items: list[Item], words: list[str], stop: int
) -> tuple[list[str], list[str], list[tuple[float, str]]]:
    """Sides, severities and numbers of a mention, including those after it ("on the right").

    The lists returned may be the mention's own (when nothing follows it): read them only."""
    sides = m.sides
    sevs = m.sevs
    nums = m.nums
    k = m.item_index
    for j in range(k + 1, min(stop, k + 20)):  # the post window (see `post_window`)
        it = items[j]
        w = it.word
        if (w in BOUNDARY and w not in "()") or w in _POST_STOPS:
            break
        r = it.roles
        if not r:
            continue
        if "side" in r and not sides:
            if modifies_next(items, j) and not locative(items, j):
                continue  # "close to both S1 roots": the side belongs to the roots
            if (
                w == "bilaterally"
                or w.endswith("sided")
                or " " in w
                or (j > 0 and items[j - 1].word in ("on", "to", "the", "of", "in", "at"))
            ):
                sides = [r["side"]]  # the list was empty
        if "sev" in r and not sevs and not modifies_next(items, j):
            prev = items[j - 1]
            after = items[j + 1].word if j + 1 < len(items) else "."
            if (
                w.endswith("ly")
                or (prev.roles or {}).get("copula")
                or prev.word in _SEV_BEFORE
                or after in _SEV_AFTER
            ):
                sevs = [r["sev"]]  # the list was empty
        if "num" in r:
            unit = words[it.i1] if it.i1 < len(words) else ""
            nums = [*nums, (r["num"], unit)]
    return sides, sevs, nums


class Grading:
    """Severity and the numbers behind it for one mention."""

    __slots__ = ("grade", "negated", "percent", "severity", "size_mm")

    def __init__(self) -> None:
        """Start ungraded."""
        self.severity = "unspecified"
        self.negated = False
        self.grade: int | None = None
        self.percent: float | None = None
        self.size_mm: float | None = None


_STENOSES = ("canal_stenosis", "foraminal_stenosis", "lateral_recess_stenosis")


def grade_mention(
    m: Mention,
    props: dict[str, object],
    items: list[Item],
    words: list[str],
    sevs: list[str],
    nums: list[tuple[float, str]],
    negated: bool,
    adverb_sev: list[tuple[int, str]],
) -> Grading:
    """Severity (words, grades, percentages, adverbs) of a mention; negated -> none."""
    g = Grading()
    g.negated = negated
    for val, unit in nums or ():
        if unit in ("%", "percent"):
            g.percent = val
        elif unit == "mm":
            g.size_mm = max(g.size_mm or 0.0, val)
        elif unit == "cm":
            g.size_mm = max(g.size_mm or 0.0, val * 10)
    fid = m.finding
    if fid == "spondylolisthesis" or fid in _STENOSES:
        g.grade = find_grade(items, words, m)
    if fid == "fracture" and g.percent is None:
        g.percent = find_percent(items, words)
    if negated:
        g.severity = "none"
        return g
    if not props["graded"]:
        return g
    s = max_severity(sevs)
    if fid == "spondylolisthesis":
        if g.grade is None and g.percent is not None:
            g.grade = meyerding(g.percent)
        if g.grade is not None:
            s = grade_severity(g.grade)
    elif fid in _STENOSES:
        if s is None and g.grade is not None:
            s = ("none", "mild", "moderate", "severe")[min(g.grade, 3)]
            if s == "none":
                g.negated = True
        if s is None and g.percent is not None:
            s = percent_severity(g.percent)
    elif fid == "fracture" and g.percent is not None and s is None and "burst" not in words:
        # Genant grades osteoporotic (wedge/compression) deformity; a burst fracture is a
        # traumatic injury graded by its morphology (AO/TLICS), so its height loss is no grade
        s = genant_severity(g.percent)
    if s is None and m.default_sev:
        s = m.default_sev
    if s is None and adverb_sev:
        if fid == "nerve_root_compression" and m.head_word.startswith("compress"):
            s = max_severity([v for _, v in adverb_sev])
        elif fid in DISC_FINDINGS:
            s = max_severity([v for pos, v in adverb_sev if pos > m.i0])
    g.severity = s or "unspecified"
    return g


FOCAL_DISC_FINDINGS = frozenset(
    {"disc_protrusion", "disc_extrusion", "disc_sequestration", "disc_herniation"}
)


def _side_of_structure(m: Mention, mentions: list[Mention]) -> str | None:
    """A focal disc lesion with no side lies on the side of the structure it occupies or
    compresses next ("fragment ... occupying the left lateral recess")."""
    nxt = None  # the first mention starting after this one (the earliest listed on a tie)
    for o in mentions:
        if o.i0 >= m.i1 and o is not m and (nxt is None or o.i0 < nxt.i0):
            nxt = o
    if nxt is None:
        return None
    if nxt.anchor_words and nxt.sides and nxt.polarity == "positive":
        side = resolve_side(settle_sides(nxt.sides, False), None)
        return side if side in ("left", "right") else None
    return None


# Words that may join a lesion and the alternative reading of it ("right foraminal protrusion,
# possibly an extrusion", "extrusion, probably a sequestered fragment").
_ALTERNATIVE_LINK = frozenset(
    {
        ",",
        "possibly",
        "probably",
        "likely",
        "perhaps",
        "or",
        "an",
        "a",
        "versus",
        "vs",
        "?",
        "query",
        "more",
        "in",
        "keeping",
        "with",
        "representing",
        "which",
        "may",
        "be",
        "is",
        "could",
        "consistent",
        "suggestive",
        "of",
        "presumably",
        "maybe",
        "(",
    }
)


_NARROWED_BY_LESION = frozenset({"lateral_recess_stenosis", "foraminal_stenosis"})


def _side_of_lesion(m: Mention, mentions: list[Mention]) -> str | None:
    """ "a left extruded fragment and lateral stenosis": the recess narrowed by a one-sided
    lesion named earlier in the sentence is on that side."""
    for o in mentions:
        if o.i1 <= m.i0 and o.finding in FOCAL_DISC_FINDINGS:
            side = resolve_side(settle_sides(o.sides, False), None)
            if side in ("left", "right"):
                return side
    return None


def _alternative_side(m: Mention, mentions: list[Mention], items: list[Item] | None) -> str | None:
    """A disc lesion named as the alternative reading of the one before it shares its side."""
    if items is None:
        return None
    prev = None  # the disc mention ending last before this one (the earliest listed on a tie)
    for o in mentions:
        if (
            o.i1 <= m.i0
            and o.finding in DISC_FINDINGS
            and o is not m
            and (prev is None or o.i1 > prev.i1)
        ):
            prev = o
    if prev is None:
        return None
    side = resolve_side(settle_sides(prev.sides, False), None)
    if side not in ("left", "right"):
        return None
    between = [it.word for it in items if prev.i1 <= it.i0 < m.i0]
    if between and all(w in _ALTERNATIVE_LINK for w in between):
        return side
    return None


_CIRCUMFERENTIAL = frozenset(
    {
        "circumferential",
        "circumferentially",
        "diffuse",
        "diffusely",
        "generalised",
        "generalized",
        "concentric",
        "global",
        "globally",
    }
)


def _circumferential(m: Mention, items: list[Item]) -> bool:
    """True when the words just before a bulge call it circumferential or diffuse."""
    return any(it.word in _CIRCUMFERENTIAL for it in items[max(0, m.item_index - 3) : m.item_index])


def _zone_after(m: Mention, items: list[Item]) -> str | None:
    """A zone word written right after a disc lesion, past fillers only ("..., central")."""
    for it in items[m.item_index + 1 : m.item_index + 6]:
        r = it.roles
        if it.i0 < m.i1 or it.word in (",", "complex"):
            continue  # the mention's own words; "protrusion-extrusion complex, central"
        if not r:
            return None
        if "zone" in r and "find" not in r and "head" not in r:
            return str(r["zone"])
        if "filler" not in r:
            return None
    return None


def mention_side(
    m: Mention,
    props: dict[str, object],
    sides: list[str],
    negated: bool,
    mentions: list[Mention],
    vocab: Vocab,
    items: list[Item] | None = None,
) -> tuple[str | None, str]:
    """Return (zone, side) of a mention, with the finding's default side when none is stated."""
    fid = m.finding
    zone = m.zones[0] if m.zones else None
    if zone is None and not sides and items is not None and fid in DISC_FINDINGS:
        zone = _zone_after(m, items)  # "a disc extrusion, posteriorly central, ..."
    sides = settle_sides(sides, props["default_side"] == "bilateral")
    side = resolve_side(sides, zone if fid in DISC_FINDINGS else None)
    if props["fixed_side"]:
        side = str(props["fixed_side"])
    elif fid == "disc_bulge" and items is not None and _circumferential(m, items):
        # "circumferential bulging extending into both foramina": the whole disc margin, one
        # midline finding (the foramina it reaches are not its side)
        side = "central"
    if side is None and fid == "nerve_root_compression" and not negated:
        side = nearest_disc_side(mentions, m, vocab)
    if side is None and fid in DISC_FINDINGS and not negated:
        side = _alternative_side(m, mentions, items)
    if side is None and fid in FOCAL_DISC_FINDINGS and not negated:
        side = _side_of_structure(m, mentions)
    if side is None and fid in _NARROWED_BY_LESION and not negated:
        side = _side_of_lesion(m, mentions)
    if side is None:
        side = str(props["negated_side"] if negated else props["default_side"])
    return zone, side
