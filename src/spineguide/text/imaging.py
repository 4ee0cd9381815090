"""Imaging-report reader: free-text lumbar MRI/CT reports -> PRODUCT.md imaging findings.

Pipeline (pure, no I/O after the vocabulary loads once), one job per pipe:
document (sections incl. inline headings, sentences, words with offsets) -> vocab (phrases,
spelling tolerance) -> levels (level runs) -> attribution (level headings, carried levels,
pronouns) -> mentions (finding phrases) -> context (the shared engine in text/context.py) ->
modifiers (side, zone, grade) -> roots (the one anatomy rule in reasoning/anatomy.py) ->
reconcile (per-section de-duplication; the impression wins).

Conventions (documented, shared with the evaluation sets):
- Severity: ranges take the higher grade ("mild to moderate" -> moderate); small/minimal/slight
  -> mild; large/marked/high grade -> severe; negated -> none. Narrowing percentages (canal or
  foramen): <25 % mild, 25-50 % moderate, >50 % severe (expert estimate after the Lee 2010
  grading, source id lee-2010-foraminal); Lee grades 0-3 -> none/mild/moderate/severe.
  Fracture height loss (Genant semiquantitative): <=25 % mild, 25-40 % moderate, >40 % severe;
  not for a burst fracture (a traumatic injury graded by morphology, not by height loss).
  Spondylolisthesis Meyerding grade 1 -> mild, 2 -> moderate, 3-5 -> severe; slip % -> grade.
- Nerve roots: contact/abutment -> mild (Pfirrmann 2004 grade 1 "contact"); "compressing" takes
  the sentence's severity adverb ("severely narrowing ... and compressing"); displacement,
  impingement and mass effect stay unspecified unless a severity word is attached.
  Unnamed roots follow the one anatomy rule (`spineguide.reasoning.anatomy`, anatomy.yaml
  `compression_rules`), with root_inferred true.
- Sides: a disc finding with no side is central; foraminal, lateral-recess, facet, ligamentum
  flavum and nerve-root findings with no side are bilateral.
- Levels: a level heading ("L4-5:") governs its block; a sentence without a level takes the
  previous sentence's level within the paragraph (not for fracture, bone lesion,
  spondylolisthesis, collections or haematoma, which are often whole-spine statements);
  "multilevel" gives level null; "at each level" gives L1-L2..L5-S1; one lesion ("a bulge")
  after a sentence of several levels gets level null (the report does not say which).
- Negative statements that point elsewhere ("foramina otherwise patent", "remaining levels")
  produce no tuple.
- Normality is a negative (severity none): "alignment is normal" -> spondylolisthesis,
  "vertebral body heights are maintained" -> fracture, "marrow signal is normal" -> bone lesion,
  "the recesses are unremarkable" -> lateral recess stenosis; these whole-spine subjects never
  take a carried level. A preserved disc height alone says nothing about degeneration.
- Predominance ("worse on the left") keeps a paired structure bilateral and is no side for a
  midline one; "asymmetric to the left" is a side.
- Attribution: a sentence opening with "it", "this", "the fragment", ... completes the previous
  lesion's side and level, and its findings without a side take that lesion's side (confidence
  0.8); a definite repeat ("the herniation") is the same lesion; a level placing the conus is a
  landmark and is not carried; "[...]" elisions end the carried level.
- A collection or haematoma over more than two levels is one lesion (level null); negative
  collection/haematoma statements without a level of their own are whole-study (level null).
- Finding ids added after the first contract (discitis, aortic aneurysm/dissection, intradural
  mass, epidural lipomatosis, hip arthritis, iliopsoas haematoma, psoas abscess) are reported
  beside the contract reading where the contract has one (discitis and osteomyelitis also as
  bone_lesion when placed at a level, iliopsoas haematoma also as hematoma).
- Phrasing families: "pseudo-bulging" from a slip is no bulge; a circumferential or diffuse
  bulge is central; "protrusion/extrusion" is one herniation of undecided type; a herniation
  "partly calcified" is also a disc calcification on its side; in a report naming a septic facet
  joint, facet effusions are not arthropathy; "space-occupying lesion" is a mass, not stenosis.
- Every finding carries its span, the cue spans behind negated/uncertain/historical and a
  confidence (1.0 direct; 0.9 carried level or misspelling; 0.8 pronoun or inferred level).
  Significant wording without a finding id is returned in ``ImagingReport.uninterpreted``.
"""

from __future__ import annotations

import re

from spineguide.errors import InputError, InputTooLargeError
from spineguide.text.context import NO_QUALIFIERS, Qualifiers
from spineguide.text.document import (
    EXTRACTED_SECTIONS,
    Sentence,
    lower_same_length,
    split_sections,
    split_sentences,
)
from spineguide.text.levels import LevelGroup
from spineguide.text.models import (
    ImagingFinding,
    ImagingReport,
    UninterpretedPhrase,
    empty_report,
    trusted_finding_from,
    trusted_section,
)
from spineguide.text.pipes.attribution import (
    State,
    finding_levels,
    is_anaphoric,
    read_heading,
    update_carry,
)
from spineguide.text.pipes.levels import level_groups as find_level_groups
from spineguide.text.pipes.levels import level_tokens as find_level_tokens
from spineguide.text.pipes.mentions import DISC_FINDINGS, Mention, find_mentions
from spineguide.text.pipes.modifiers import (
    SentenceModifiers,
    grade_mention,
    listhesis_direction,
    locative,
    max_severity,
    mention_side,
    modic_type,
    modifies_next,
    post_modifiers,
    resolve_side,
    settle_sides,
)
from spineguide.text.pipes.reconcile import reconcile
from spineguide.text.pipes.roots import infer_root, level_of_root, mention_roots
from spineguide.text.pipes.vocab import VOCABULARY_PATH, Item, Vocab, load_vocabulary, tag

__all__ = ["MAX_REPORT_CHARS", "VOCABULARY_PATH", "load_vocabulary", "parse_imaging_report"]

MAX_REPORT_CHARS = 200_000
"""Largest report accepted (characters). Real reports are 0.5-10 kB; bigger input is an error."""


_CLAUSE_ENDS = frozenset({",", ";", ":"})


def _points_away(m: Mention, items: list[Item], words: list[str]) -> bool:
    """A negative statement about other levels ("foramina otherwise patent") gives no tuple."""
    # the clause of the target ends after the first comma, semicolon or colon from it on
    end = len(words)
    for j in range(m.target, end):
        if words[j] in _CLAUSE_ENDS:
            end = j + 1
            break
    for it in items:  # items run in word order
        if it.i0 >= end:
            break
        roles = it.roles
        if roles and "away" in roles:
            return True
    return False


# roles that make a sentence worth reading (anything else is fillers and plain words)
_ACTIVE_ROLES = frozenset(
    {
        "find",
        "head",
        "softhead",
        "weakfind",
        "unint",
        "landmark",
        "alllv",
        "multilv",
        "fixlv",
        "side",
    }
)
_SENTENCE_MODIFIER_ROLES = frozenset({"sev", "mig", "zone"})  # see SentenceModifiers
_FLAG_ROLES = _ACTIVE_ROLES | _SENTENCE_MODIFIER_ROLES
_RARE_ROLES = frozenset({"landmark", "unint", "alllv", "multilv", "fixlv"})
_OPENER_ROLES = frozenset({"find", "weakfind", "head", "softhead"})
_PHRASE_LEVEL_ROLES = frozenset({"alllv", "multilv", "fixlv"})
_SPECIFIC_DISC = frozenset({"disc_protrusion", "disc_extrusion", "disc_sequestration"})

ANTECEDENT_FINDINGS = frozenset(
    {
        "disc_bulge",
        "disc_protrusion",
        "disc_extrusion",
        "disc_sequestration",
        "disc_herniation",
        "synovial_cyst",
        "epidural_collection",
        "hematoma",
        "bone_lesion",
        "fracture",
        "spondylolisthesis",
        "discitis",
        "intradural_mass",
        "psoas_abscess",
        "iliopsoas_hematoma",
    }
)


def _side_from_antecedent(state: State, made: list[ImagingFinding]) -> None:
    """ "The L4 root is flattened" after a right-sided L4-5 extrusion: the right root."""
    if not state.antecedent:
        return
    ante = state.antecedent[0]
    if ante.side not in ("left", "right") or not state.antecedent_stated:
        return
    for f in made:
        if not f.negated and f.side == "bilateral" and f.level == ante.level:
            f.side = ante.side
            f.confidence = min(f.confidence, 0.8)


def _resolve_anaphor(
    state: State, items: list[Item], mentions: list[Mention], groups: list[LevelGroup]
) -> str | None:
    """A sentence about the previous lesion ("It lies to the right", "It arises from L5-S1")
    completes the antecedent's side and level; returns the side later findings may take."""
    spans = [(m.i0, m.i1) for m in mentions]
    free_sides = [
        it.roles["side"]
        for idx, it in enumerate(items)
        if it.roles
        and "side" in it.roles
        and not any(a <= it.i0 < b for a, b in spans)
        and (not modifies_next(items, idx) or locative(items, idx))
    ]
    antecedent = state.antecedent
    if free_sides and not state.antecedent_stated:
        side = resolve_side(settle_sides(free_sides, False), None)
        if side in ("left", "right", "bilateral"):
            for f in antecedent:
                f.side = side
                f.confidence = min(f.confidence, 0.85)
            state.antecedent_stated = True
    if groups and all(f.level is None for f in antecedent):
        levels = groups[0].levels_for(state.antecedent_kind)
        if levels and levels[0] is not None:
            for f in antecedent:
                f.level = levels[0]
                f.confidence = min(f.confidence, 0.85)
    side = antecedent[0].side if antecedent else None
    if side in ("left", "right"):
        return side
    return state.prev_side


def _uninterpreted(
    vocab: Vocab,
    sent: Sentence,
    text: str,
    items: list[Item],
    mentions: list[Mention],
    out: list[UninterpretedPhrase],
) -> None:
    """Report significant wording no finding took (a lesion word with no finding id)."""
    spans = [(m.i0, m.i1) for m in mentions]
    found = [it for it in items if not any(a <= it.i0 < b for a, b in spans)]
    if not found:
        return
    qs = vocab.context.qualify_tokens(sent.words, [it.i0 for it in found], sent.starts, sent.ends)
    for it, q in zip(found, qs, strict=True):
        if q.negated:
            continue
        start, end = sent.starts[it.i0], sent.ends[it.i1 - 1]
        out.append(
            UninterpretedPhrase(text=text[start:end], span=(start, end), reason=it.roles["unint"])
        )


def _analyse_sentence(
    vocab: Vocab,
    sent: Sentence,
    text: str,
    section: str,
    state: State,
    out: list[ImagingFinding],
    unknown: list[UninterpretedPhrase] | None = None,
    defaulted: set[int] | None = None,
) -> None:
    """Run the sentence pipes and append the sentence's findings to `out`."""
    state.antecedent_age += 1
    words, corrected = vocab.correct_words(sent.words)
    words = vocab.side_letters(words)
    sent.words = words
    tokens = find_level_tokens(words, sent.levels) if sent.levels else {}
    items = tag(vocab, words, tokens)
    sentence_side: str | None = None
    landmark = False
    unint: list[Item] = []
    phrase_levels: list[Item] = []  # "multilevel", "at each level", "lumbosacral"
    openers: list[int] = []  # items that may open a finding mention
    active = False
    modifier_at: list[int] = []  # items with a severity, migration or zone role
    for idx, it in enumerate(items):  # one pass for the sentence-wide flags
        r = it.roles
        if r is None or _FLAG_ROLES.isdisjoint(r):
            continue
        if not _SENTENCE_MODIFIER_ROLES.isdisjoint(r):
            modifier_at.append(idx)
        if _ACTIVE_ROLES.isdisjoint(r):
            continue
        active = True
        if not _OPENER_ROLES.isdisjoint(r):
            openers.append(idx)
        if sentence_side is None and "side" in r:
            side = r["side"].rstrip("+")
            if side in ("left", "right"):
                sentence_side = side  # for "The appearance is typical of ..."
        if _RARE_ROLES.isdisjoint(r):
            continue
        if "landmark" in r:
            landmark = True
        if "unint" in r:
            unint.append(it)
        if not _PHRASE_LEVEL_ROLES.isdisjoint(r):
            phrase_levels.append(it)
    if not tokens and not active:
        # nothing to read ("Technique: sagittal T1 and T2."): keep the paragraph state only
        read_heading(sent, items, [], state)
        state.prev_side = None
        state.anaphoric = False
        return
    # the level pipe reads level tokens and the level phrases (only those items carry them)
    groups, root_groups = find_level_groups(words, tokens, phrase_levels)
    content_from, groups = read_heading(sent, items, groups, state)
    mentions = find_mentions(vocab, items, words, content_from, root_groups, openers)
    fallback_side = None
    state.anaphoric = bool(state.antecedent or state.prev_side) and is_anaphoric(words)
    if state.anaphoric:
        fallback_side = _resolve_anaphor(state, items, mentions, groups)
    if unint and unknown is not None:
        _uninterpreted(vocab, sent, text, unint, mentions, unknown)
    if landmark:
        groups = [g for g in groups if g.role == "all"]  # "the conus ends at L1": a landmark
    if not mentions:
        update_carry(state, groups)
        state.prev_side = sentence_side
        return
    carried = state.carry
    if carried is not None and not groups and _singular_of_many(mentions, words, carried, state):
        state.carry = None  # "a disc bulge" after "at L4-5 and L5-S1": which one is not said
    context = vocab.context
    cues = context.rules.match(words)
    if cues:
        targets: list[list[int]] = []
        for m in mentions:
            targets.append([m.target, *m.anchor_words])
        qualifiers = context.qualify_tokens(
            words,
            targets,
            sent.starts,
            sent.ends,
            cues,
            lenient_lists=True,
        )
    else:
        qualifiers = [NO_QUALIFIERS] * len(mentions)  # no cue word in the sentence
    # read-only downstream: a sentence without such words shares one empty set of modifiers
    sentence_mods = SentenceModifiers(items, modifier_at) if modifier_at else _NO_MODIFIERS
    mention_starts: list[int] = []
    for m in mentions:
        if m.item_index not in mention_starts:
            mention_starts.append(m.item_index)
    mention_starts.sort()
    focal: list[tuple[list[ImagingFinding], bool, str]] = []
    specific = False
    for m, q in zip(mentions, qualifiers):  # noqa: B905 (one per mention; strict= costs a dict)
        if m.finding in _SPECIFIC_DISC and not q.negated:
            specific = True
            break
    findings = vocab.findings
    for m, q in zip(mentions, qualifiers):  # noqa: B905 (one per mention; strict= costs a dict)
        if specific and m.finding == "disc_herniation" and not q.negated:
            continue  # "two herniations, a left and a right extrusion": the umbrella word
        props = findings[m.finding]
        made, stated = _emit(
            vocab,
            props,
            sent,
            text,
            section,
            state,
            out,
            m,
            q,
            items,
            groups,
            mentions,
            mention_starts,
            sentence_mods,
            defaulted,
        )
        if corrected and any(m.i0 <= i < m.i1 for i in corrected):
            for f in made:
                f.confidence = min(f.confidence, 0.9)  # read through a misspelling
        if fallback_side and not stated:
            for f in made:
                if (
                    f.side in ("central", "bilateral")
                    and vocab.findings[f.finding]["fixed_side"] is None
                ):
                    f.side = fallback_side  # type: ignore[assignment]
                    f.confidence = 0.8
        if made and m.finding in ANTECEDENT_FINDINGS and not made[0].negated:
            focal.append((made, stated, props["kind"]))
        if made and not made[0].negated and not props["inherit"]:
            # kept for later sentences that name the same lesion without a level (only
            # findings that do not inherit a carried level read it)
            levels = [f.level for f in made if f.level is not None and f.finding == m.finding]
            if levels:
                state.seen_levels[m.finding] = levels
        if m.finding == "nerve_root_compression" and not stated and not fallback_side:
            _side_from_antecedent(state, made)
    if focal:
        state.antecedent, state.antecedent_stated, state.antecedent_kind = focal[-1]
        state.antecedent_age = 0
    state.prev_side = sentence_side
    if state.carry is None:
        state.carry = carried  # the levels stay for the sentences after
    update_carry(state, groups)


_SINGULAR = frozenset({"a", "an", "one", "single", "solitary"})
# words that may stand between "a" and its finding ("a small left paracentral disc bulge")
_DET_GAP = 4


def _singular_of_many(
    mentions: list[Mention], words: list[str], carried: LevelGroup, state: State
) -> bool:
    """True when a sentence without a level names one lesion ("a disc bulge") after a
    sentence of several levels: the lesion is at one of them, and the report does not say which."""
    if state.heading is not None or state.anaphoric or len(carried.levels_for("disc")) < 2:
        return False
    first = min(mentions, key=lambda m: m.i0)
    if first.finding not in DISC_FINDINGS:
        return False
    for k in range(first.i0 - 1, max(-1, first.i0 - 1 - _DET_GAP), -1):
        w = words[k]
        if w in _SINGULAR:
            return True
        if not w.isalpha() or w in ("and", "or", "with", "the", "at", "of", "these", "both"):
            return False
    return False


_finding = trusted_finding_from  # one dict of every field instead of 22 keyword arguments
# every field of ImagingFinding, in the order the reader fills them (copied per finding)
_FINDING_TEMPLATE: dict[str, object] = dict.fromkeys(
    (
        "finding",
        "level",
        "side",
        "zone",
        "severity",
        "negated",
        "uncertain",
        "historical",
        "root",
        "root_inferred",
        "migration",
        "modic_type",
        "grade",
        "direction",
        "size_mm",
        "percent",
        "section",
        "span",
        "text",
        "cue_spans",
        "confidence",
        "canal_compromise",
    )
)


_NO_MODIFIERS = SentenceModifiers([], [])

_NO_ROOT: list[tuple[str | None, bool]] = [(None, False)]  # read only

_COMPROMISE_WORDS = frozenset({"retropulsion", "retropulsed", "retropulsing", "retropulses"})


def _canal_compromise(vocab: Vocab, sent: Sentence) -> bool | None:
    """A fracture sentence that states (True) or denies (False) retropulsion into the canal."""
    hits = [i for i, w in enumerate(sent.words) if w in _COMPROMISE_WORDS]
    if not hits:
        return None
    (q,) = vocab.context.qualify_tokens(sent.words, [hits], sent.starts, sent.ends)
    return not q.negated


_DEFINITE = frozenset({"the", "this", "that", "said"})


def _definite_repeat(
    m: Mention, items: list[Item], state: State, stated: bool, negated: bool
) -> ImagingFinding | None:
    """The antecedent when a mention is a definite repeat of it ("the herniation")."""
    if stated or negated or not state.antecedent or m.anchor_words:
        return None
    ante = state.antecedent[0]
    if ante.finding != m.finding or state.antecedent_age > 2:
        return None
    k = m.item_index - 1
    while (
        k >= 0 and items[k].roles and "filler" in items[k].roles and items[k].word not in _DEFINITE
    ):
        k -= 1
    return ante if k >= 0 and items[k].word in _DEFINITE else None


def _continued_sides(items: list[Item], m: Mention, side: str) -> list[tuple[str, str]]:
    """ "... on the right and mildly on the left": (grade, side) pairs continuing a finding."""
    out: list[tuple[str, str]] = []
    sev: str | None = None
    other: str | None = None

    def close() -> None:
        if sev and other and other != side and (sev, other) not in out:
            out.append((sev, other))

    for it in items[m.item_index + 1 : m.item_index + 16]:
        r = it.roles
        if r and ("find" in r or "head" in r or "anchor" in r):
            return out  # the segment names a finding of its own
        if it.word in (".", ";", ":"):
            break
        if it.word in ("and", ","):
            close()
            sev = other = None
            continue
        if r and "sev" in r:
            sev = r["sev"]
        if r and r.get("side") in ("left", "right"):
            other = r["side"]
    close()
    return out


def _respectively(
    m: Mention, items: list[Item], words: list[str], levels: list[str | None], negated: bool
) -> list[tuple[str, str]] | None:
    """ "Moderate and severe narrowing at L4-5 and L5-S1 respectively": pair grades or sides
    with levels in the order written; None when the sentence does not distribute."""
    if negated or len(levels) < 2 or "respectively" not in words:
        return None
    # the modifiers written before the finding, in text order ("moderate and severe ...")
    k = m.item_index
    while k > 0 and (items[k - 1].roles or items[k - 1].word in ("and", ",", "or")):
        r = items[k - 1].roles
        if r and ("find" in r or "head" in r):
            break
        k -= 1
    span = [it for it in items[k : m.item_index + 1] if it.roles]
    sevs = [it.roles["sev"] for it in span if "sev" in it.roles]  # type: ignore[index]
    sides = [it.roles["side"] for it in span if it.roles.get("side") in ("left", "right")]  # type: ignore[union-attr]
    if len(sevs) != len(levels) and len(sides) != len(levels):
        return None
    out = []
    for k in range(len(levels)):
        sev = sevs[k] if len(sevs) == len(levels) else (max_severity(sevs) or "unspecified")
        side = sides[k] if len(sides) == len(levels) else None
        out.append((sev, side))
    return out  # type: ignore[return-value]


def _emit(
    vocab: Vocab,
    props: dict,
    sent: Sentence,
    text: str,
    section: str,
    state: State,
    out: list[ImagingFinding],
    m: Mention,
    q: Qualifiers,
    items: list[Item],
    groups: list,
    mentions: list[Mention],
    mention_starts: list[int],
    mods: SentenceModifiers,
    defaulted: set[int] | None = None,
) -> tuple[list[ImagingFinding], bool]:
    """Resolve one mention into findings; return them and whether a side was stated."""
    words = sent.words
    negated = q.negated or m.polarity == "negative"
    uncertain = (q.uncertain or q.hypothetical) and not negated
    if negated and _points_away(m, items, words):
        return [], True
    stop = len(items)
    for start in mention_starts:  # sorted: the next mention ends this one's modifiers
        if start > m.item_index:
            stop = start
            break
    sides, sevs, nums = post_modifiers(m, items, words, stop)
    g = grade_mention(m, props, items, words, sevs, nums, negated, mods.adverb_sev)
    negated = g.negated
    fid = m.finding
    if fid == "epidural_collection" and not negated:
        relabel = _fat_signal_finding(vocab, words)
        if relabel is not None:
            fid = relabel  # "an epidural collection that suppresses on STIR": epidural fat
            props = vocab.findings[fid]
    zone, side = mention_side(m, props, sides, negated, mentions, vocab, items)
    levels = finding_levels(m, props, groups, state, negated, words)
    same = (
        _definite_repeat(m, items, state, bool(sides) or zone is not None, negated)
        if state.antecedent and not negated
        else None
    )
    if same is not None:
        # "... by the herniation": the lesion already described, with its side and level
        side = same.side
        if levels == [None] or not any(g.start < m.i0 for g in groups):
            levels = [same.level]
        m.confidence = min(m.confidence, 0.85)
    if len(levels) > 1:
        # the contract reads T12-L1 to L5-S1: thoracic levels above it are dropped from a run
        kept = [lv for lv in levels if lv is None or not lv.startswith(("T10", "T11"))]
        levels = kept or levels
    if fid == "nerve_root_compression" and all(lv in ("T10", "T11", "T12") for lv in levels):
        return [], True  # a thoracic nerve root: outside the lumbar root contract
    roots = (
        mention_roots(m, negated, mentions, mods.zones)
        if fid == "nerve_root_compression" and not negated
        else _NO_ROOT
    )
    migration_dir = mods.migration[0][1] if fid in DISC_FINDINGS and mods.migration else None
    modic = modic_type(items, words, m) if fid == "modic_change" else None
    direction = listhesis_direction(items, m) if fid == "spondylolisthesis" else None
    cstart = sent.starts[m.i0]
    cend = sent.ends[m.i1 - 1]
    cue_spans = [c.span for c in q.cues] if q.cues else []
    made: list[ImagingFinding] = []
    if levels == [None] and fid == "nerve_root_compression" and m.roots:
        # "no contact with the S1 roots": the level where the named root traverses
        levels = [level_of_root(m.roots[0], "traversing")]
        m.confidence = min(m.confidence, 0.8)
    compromise = _canal_compromise(vocab, sent) if fid == "fracture" and not negated else None
    per_level = (
        _respectively(m, items, words, levels, negated or not props["graded"])
        if len(levels) > 1
        else None
    )
    for li, level in enumerate(levels):
        severity_l, side_l = per_level[li] if per_level else (g.severity, side)
        side_l = side_l or side
        for root, inferred in roots:
            if root is not None and root.startswith("?"):
                root = infer_root(level, root[1:])
                if root is None:
                    inferred = False
            # values come from the vocabulary: no re-check (a copied template with each
            # field set is cheaper than a 22-key dict display)
            values = _FINDING_TEMPLATE.copy()
            values["finding"] = fid
            values["level"] = level
            values["side"] = side_l
            values["zone"] = zone
            values["severity"] = severity_l
            values["negated"] = negated
            values["uncertain"] = uncertain
            values["historical"] = q.historical
            values["root"] = root
            values["root_inferred"] = inferred and root is not None
            values["migration"] = migration_dir
            values["modic_type"] = modic
            values["grade"] = g.grade if fid == "spondylolisthesis" else None
            values["direction"] = direction
            values["size_mm"] = g.size_mm
            values["percent"] = g.percent
            values["section"] = section
            values["span"] = (cstart, cend)
            values["text"] = text[cstart:cend]
            values["cue_spans"] = list(cue_spans) if cue_spans else []
            values["confidence"] = m.confidence
            values["canal_compromise"] = compromise
            made.append(_finding(values))
    if made and not negated and side in ("left", "right"):
        for sev2, side2 in _continued_sides(items, m, side):
            # "moderately narrowed on the right and mildly on the left": the other side's grade
            made.extend(
                f.model_copy(update={"side": side2, "severity": sev2, "cue_spans": []})
                for f in list(made)
                if f.side == side
            )
    for also in props["also"]:
        # the same words under the 22-id contract (discitis is a bone lesion there); an
        # infection named with no level ("in keeping with spondylodiscitis") is a diagnosis,
        # not a lesion the contract can place: no bone lesion is reported for it
        made.extend(
            f.model_copy(update={"finding": also})
            for f in list(made)
            if f.finding == fid
            and (f.level is not None or f.negated or not props["also_at_level_only"])
        )
    if made and not negated and fid in _HERNIATION_TYPES and _calcified_after(words, m.i1):
        # "a right herniation, partially calcified": the calcified disc is the herniated part
        made.extend(
            f.model_copy(update={"finding": "disc_calcification", "severity": "unspecified"})
            for f in list(made)
            if f.finding == fid
        )
    stated = bool(sides) or zone is not None
    if not stated and defaulted is not None:
        for f in made:
            defaulted.add(id(f))
    out.extend(made)
    return made, stated


_HERNIATION_TYPES = frozenset(
    {"disc_herniation", "disc_protrusion", "disc_extrusion", "disc_sequestration"}
)
_CALCIFIED = frozenset({"calcified", "calcific", "ossified"})
_CALCIFIED_GAP = frozenset({",", "partially", "partly", "focally", "densely", "heavily", "and"})


def _calcified_after(words: list[str], end: int) -> bool:
    """True when a herniation is described as calcified right after it ("..., partly calcified")."""
    for w in words[end : end + 4]:
        if w in _CALCIFIED:
            return True
        if w not in _CALCIFIED_GAP:
            return False
    return False


_FAT_SIGNAL_CACHE: dict[int, tuple[str, tuple[str, ...]] | None] = {}


def _fat_signal_finding(vocab: Vocab, words: list[str]) -> str | None:
    """The finding an epidural collection reads as when its sentence gives it fat signal."""
    key = id(vocab)
    if key not in _FAT_SIGNAL_CACHE:
        spec = vocab.raw["findings"]["epidural_collection"].get("fat_signal")
        _FAT_SIGNAL_CACHE[key] = (
            (str(spec["finding"]), tuple(f" {p} " for p in spec["phrases"])) if spec else None
        )
    rule = _FAT_SIGNAL_CACHE[key]
    if rule is None:
        return None
    # word tokens only, so "(fat)" and "fat-suppressed" read as plain words
    joined = " " + " ".join(w for w in words if w[:1].isalnum()) + " "
    return rule[0] if any(p in joined for p in rule[1]) else None


# a report that names the facet joint infected: its facet effusions are the infection's, not
# degenerative arthropathy (one search per report, not per sentence)
_SEPTIC_FACET = re.compile(
    r"(?:septic|infected|infective|pyogenic)[\s-]+(?:facet|zygapophys[ei]al)"
    r"|facet[\s-]+(?:joints?[\s-]+)?(?:(?:is|are|appears?|looks?|seems?|likely|probably)\s+){0,2}"
    r"(?:septic|infection|infected|pyogenic)"
    r"|(?:septic|infective|pyogenic)[\s-]+arthritis[\s-]+of[\s-]+(?:[^\s.;]+\s+){0,3}facet"
)


_DENIALS = ("no ", "not ", "without ", "negative for ", "no evidence of ", "no sign of ")


def _septic_facet(low: str) -> bool:
    """True when the (lower-case) report affirms an infected facet joint."""
    for hit in _SEPTIC_FACET.finditer(low):
        before = low[max(0, hit.start() - 20) : hit.start()]
        if not any(d in before for d in _DENIALS):
            return True
    return False


def _infective_facet_effusion(f: ImagingFinding) -> bool:
    """A positive facet 'effusion' finding (read as arthropathy) in a septic-facet report."""
    return f.finding == "facet_arthropathy" and not f.negated and "effusion" in f.text.lower()


def parse_imaging_report(text: str) -> ImagingReport:
    """Extract imaging findings (level, side, severity, negation, uncertainty) from a report."""
    if not isinstance(text, str):
        raise InputError("imaging report text must be a string")
    if len(text) > MAX_REPORT_CHARS:
        raise InputTooLargeError(
            f"imaging report is {len(text):,} characters; the limit is {MAX_REPORT_CHARS:,}",
            "split the input into one report per call",
        )
    report = empty_report()
    if not text.strip():
        return report
    vocab = load_vocabulary()
    low = lower_same_length(text)
    findings: list[ImagingFinding] = []
    defaulted: set[int] = set()  # ids of findings whose side was not stated
    for name, hstart, cstart, end in split_sections(text):
        extracted = name in EXTRACTED_SECTIONS
        report.sections.append(trusted_section(name, (hstart, end), extracted))
        if not extracted:
            continue
        state = State()
        for sent in split_sentences(text, low, cstart, end):
            _analyse_sentence(
                vocab, sent, text, name, state, findings, report.uninterpreted, defaulted
            )
    if any(f.finding == "facet_arthropathy" for f in findings) and _septic_facet(low):
        findings = [f for f in findings if not _infective_facet_effusion(f)]
    report.findings = reconcile(findings, defaulted)
    if report.uninterpreted:
        report.warnings.append(
            f"{len(report.uninterpreted)} clinically significant phrase(s) not turned into findings"
        )
    return report
