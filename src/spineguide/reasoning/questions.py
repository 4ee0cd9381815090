"""What to ask next: the unanswered findings whose answers would most change the assessment.

Value of information over the two models SpineGuide reasons with:
- urgency: a red-flag rule (red_flags.yaml) that is one finding short of firing, or a fired rule
  that one finding would escalate, gains (urgency levels it would add) / 3; a red-flag screen
  domain that stands between routine and self-care gains 1/3 for its answer "no";
- diagnosis: the likelihood ratios (differential.yaml) of the leading diagnoses — the larger of the
  yes/no outcomes of the total change in their probabilities, plus a bonus when the leader changes.
Wording lives in knowledge/data/questions.yaml.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import read_yaml
from spineguide.knowledge.schema import URGENCY_RANK, Urgency
from spineguide.reasoning.evidence import EvidenceSet
from spineguide.reasoning.fastmodel import build_model, field_names

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase
    from spineguide.reasoning.differential import DiagnosisResult
    from spineguide.reasoning.triage import Triage

DATA = Path(__file__).resolve().parents[1] / "knowledge" / "data"
QUESTIONS_PATH = DATA / "questions.yaml"
DERIVED_PATH = DATA / "findings" / "derived.yaml"
TOP_DIAGNOSES = 4
MIN_LR = 1.5
LEADER_CHANGE_BONUS = 0.25


class NextQuestion(BaseModel):
    """One follow-up question, ranked by how much its answer could change the assessment."""

    model_config = ConfigDict(extra="forbid")

    finding_id: str
    question: str = Field(
        description="plain clinician wording; answer yes (present) or no (absent)"
    )
    why: str
    changes: Literal["urgency", "diagnosis"]
    gain: float = Field(ge=0, le=1, description="value of information, 0-1")


_QUESTION_FIELDS = field_names(NextQuestion)


class QuestionBank(BaseModel):
    """knowledge/data/questions.yaml."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(min_length=1)
    skip_kinds: list[str] = Field(default_factory=list)
    max_questions: int = Field(6, ge=1, le=20)
    max_per_rule: int = Field(2, ge=1, le=10)
    screen_weight: float = Field(1.0, ge=0, le=1)
    other_weight: float = Field(0.6, ge=0, le=1)
    condition_weight: float = Field(2.0, ge=0)
    default_yes_probability: float = Field(0.2, gt=0, lt=1)
    rationale: str
    questions: dict[str, str]
    ask_instead: dict[str, list[str]] = Field(default_factory=dict)

    def referenced_ids(self) -> set[str]:
        """Finding ids the bank refers to."""
        ids = set(self.questions) | set(self.ask_instead)
        for alts in self.ask_instead.values():
            ids.update(alts)
        return ids


@lru_cache(maxsize=2)
def load_questions(path: Path = QUESTIONS_PATH) -> QuestionBank:
    """Read and validate questions.yaml (cached)."""
    try:
        return QuestionBank.model_validate(read_yaml(path))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot read ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KnowledgeBaseError(f"{path.name}: {where}: {first['msg']}") from exc


def check_questions(kb: KnowledgeBase) -> list[str]:
    """Problems with questions.yaml against the knowledge base (unknown finding or source ids)."""
    bank = load_questions()
    problems = [f"questions.yaml: unknown finding {f!r}" for f in sorted(bank.referenced_ids())
                if f not in kb.findings]  # fmt: skip
    problems += [
        f"questions.yaml: unknown source {s!r}" for s in bank.sources if s not in kb.sources
    ]
    return problems


@lru_cache(maxsize=1)
def _derived_ids() -> frozenset[str]:
    raw = read_yaml(DERIVED_PATH) or []
    return frozenset(entry["id"] for entry in raw if isinstance(entry, dict) and "id" in entry)


_ASKABLE: dict[tuple[str, str], list[str]] = {}


def _askable(fid: str, kb: KnowledgeBase, bank: QuestionBank) -> list[str]:
    """The askable finding ids that stand for `fid` (itself when askable; [] when not)."""
    key = (kb.version, fid)
    got = _ASKABLE.get(key)
    if got is None:
        got = _ASKABLE[key] = _askable_uncached(fid, kb, bank)
    return got


def _askable_uncached(fid: str, kb: KnowledgeBase, bank: QuestionBank) -> list[str]:
    if fid in bank.ask_instead:
        return list(bank.ask_instead[fid])
    if fid in _derived_ids() or fid.startswith("img_") or fid.startswith("age_"):
        return []
    f = kb.findings.get(fid)
    if f is None or f.kind.value in bank.skip_kinds:
        return []
    return [fid]


def _wording(fid: str, kb: KnowledgeBase, bank: QuestionBank) -> str:
    if fid in bank.questions:
        return bank.questions[fid]
    f = kb.findings.get(fid)
    name = f.name if f else fid.replace("_", " ")
    return f"Is this present: {name[0].lower() + name[1:]}?"


_SCREEN_IDS: dict[int, frozenset[str]] = {}


def _screen_ids(screen: Any) -> frozenset[str]:
    """Finding ids the red-flag screen asks about (once per loaded thresholds object)."""
    got = _SCREEN_IDS.get(id(screen))
    if got is None:
        _SCREEN_IDS.clear()
        got = _SCREEN_IDS[id(screen)] = frozenset(f for d in screen.domains.values() for f in d.ask)
    return got


def _urgency_gains(
    es: EvidenceSet,
    stated: set[str],
    triage: Triage,
    differential: list[DiagnosisResult],
    kb: KnowledgeBase,
    bank: QuestionBank,
) -> dict[str, tuple[float, str]]:
    """finding id → (gain, why) for answers that would change the urgency."""
    from spineguide.reasoning.derive import load_thresholds

    screen = load_thresholds().red_flag_screen
    screen_ids = _screen_ids(screen)
    present = es.present_ids()
    current = URGENCY_RANK[triage.urgency]
    gains: dict[str, tuple[float, str]] = {}
    prob: dict[str, float] | None = None  # diagnosis id → probability, built on first need

    def offer(askable: list[str], rank: int, why: str, condition: str | None) -> None:
        nonlocal prob
        if rank <= current:
            return
        if prob is None:
            prob = {d.id: d.probability for d in differential}
        likely = bank.condition_weight * prob.get(condition or "", 0.0)
        count = 0
        for fid in askable:
            if fid in stated:
                continue
            if count >= bank.max_per_rule:
                break
            count += 1
            weight = bank.screen_weight if fid in screen_ids else bank.other_weight
            gain = (rank - current) / 3 * min(1.0, weight + likely)
            if gain > gains.get(fid, (0.0, ""))[0]:
                gains[fid] = (gain, why)

    rules, group_index, above = _compiled_rules(kb, bank)
    # Present findings per rule group, counted through the inverted index (finding → groups):
    # most rules share nothing with a presentation and are then settled without a set operation.
    hits: dict[int, list[int]] = {}
    for fid in present:
        for r, j in group_index.get(fid, ()):
            counts = hits.get(r)
            if counts is None:
                counts = hits[r] = [0] * len(rules[r].groups)
            counts[j] += 1
    for r, rule in above.get(current, ()):  # the rules that could raise the urgency
        counts = hits.get(r)
        if counts is None:
            if len(rule.groups) > 1:
                continue  # no finding in any of several groups: at least two short
            counts = [0]
        unmet = [
            (group, need - got)
            for group, got in zip(rule.groups, counts, strict=True)
            if got < (need := group[2])
        ]
        if len(unmet) == 1 and unmet[0][1] == 1:
            offer(unmet[0][0][1], rule.rank, rule.fire_why, rule.condition)
        elif not unmet and rule.esc_rank > rule.rank and rule.escalate.isdisjoint(present):
            offer(rule.escalate_askable, rule.esc_rank, rule.raise_why, rule.condition)
    # Answering "no" to the unanswered screen domains is what allows self-care.
    if triage.unanswered_red_flags and triage.urgency == Urgency.routine and not triage.red_flags:
        for dom in screen.domains.values():
            if dom.label not in triage.unanswered_red_flags:
                continue
            for fid in dom.ask[: bank.max_per_rule]:
                if fid in stated:
                    continue
                yes_gain, yes_why = gains.get(fid, (0.0, ""))
                why = f"part of the red-flag screen ({dom.label}): all 'no' allows self-care"
                gains[fid] = (min(1.0, yes_gain + 1 / 3), f"{yes_why}; {why}" if yes_why else why)
    return gains


class _Rule:
    """A red-flag rule precompiled for fast "one finding short?" checks."""

    __slots__ = ("condition", "esc_rank", "escalate", "escalate_askable", "fire_why", "groups",
                 "raise_why", "rank")  # fmt: skip

    def __init__(self, rule: dict[str, Any], kb: KnowledgeBase, bank: QuestionBank) -> None:
        def askable(ids: list[str]) -> list[str]:
            # the askable findings standing for each id, in order (what a question offers)
            return [fid for raw in ids for fid in _askable(raw, kb, bank)]

        urgency = Urgency(rule["urgency"])
        self.rank = URGENCY_RANK[urgency]
        self.condition: str | None = rule.get("condition")
        # (the group's findings, the askable findings for them, its minimum)
        self.groups = [
            (frozenset(g["any"]), askable(g["any"]), int(g.get("min", 1))) for g in rule["all"]
        ]
        esc = rule.get("escalated_urgency")
        self.esc_rank = URGENCY_RANK[Urgency(esc)] if esc else self.rank
        escalate = list(rule.get("escalate_with", ()))
        self.escalate_askable = askable(escalate)
        self.escalate = frozenset(escalate)
        self.fire_why = f"a yes would fire '{rule['name']}' ({urgency.value})"
        self.raise_why = f"a yes would raise '{rule['name']}' to {esc}" if esc else ""


# rules, finding id → [(rule number, group number)], urgency rank → [(rule number, rule) whose
# urgency, plain or escalated, is above it] (in file order)
_Compiled = tuple[list[_Rule], dict[str, list[tuple[int, int]]], dict[int, list[tuple[int, _Rule]]]]
_RULES: dict[tuple[str, int], _Compiled] = {}


def _compiled_rules(kb: KnowledgeBase, bank: QuestionBank) -> _Compiled:
    """The red-flag rules precompiled, with finding id → [(rule number, group number)]."""
    key = (kb.version, id(bank))
    cached = _RULES.get(key)
    if cached is None:
        rules = [_Rule(r, kb, bank) for r in (kb.raw.get("red_flags") or {}).get("rules", [])]
        index: dict[str, list[tuple[int, int]]] = {}
        for r, rule in enumerate(rules):
            for j, group in enumerate(rule.groups):
                for fid in group[0]:
                    index.setdefault(fid, []).append((r, j))
        above = {
            rank: [
                (r, rule) for r, rule in enumerate(rules) if max(rule.rank, rule.esc_rank) > rank
            ]
            for rank in set(URGENCY_RANK.values())
        }
        cached = _RULES[key] = (rules, index, above)
    return cached


_LR_CACHE: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}


def _lr_table(kb: KnowledgeBase) -> dict[str, dict[str, tuple[float, float]]]:
    """diagnosis id → {finding id: (LR if present, LR if absent)} from differential.yaml."""
    cached = _LR_CACHE.get(kb.version)
    if cached is not None:
        return cached
    model = kb.raw.get("differential") or {}
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for dx_id, spec in (model.get("diagnoses") or {}).items():
        table: dict[str, tuple[float, float]] = {}
        for feat in spec.get("features") or ():
            fid = feat.get("finding") if isinstance(feat, dict) else getattr(feat, "finding", None)
            lr = feat.get("lr") if isinstance(feat, dict) else getattr(feat, "lr", None)
            lr_abs = (
                feat.get("lr_absent")
                if isinstance(feat, dict)
                else getattr(feat, "lr_absent", None)
            )
            if fid and isinstance(lr, (int, float)):
                table[fid] = (float(lr), float(lr_abs) if isinstance(lr_abs, (int, float)) else 1.0)
        out[dx_id] = table
    _LR_CACHE[kb.version] = out
    return out


def _informative(lr: float) -> bool:
    """A likelihood ratio far enough from 1 to be worth asking about (beyond 1.5 or 1/1.5)."""
    return lr >= MIN_LR or lr <= 1 / MIN_LR


# (model finding, askable finding, LR present, LR absent, sensitivity implied by both LRs or
# None when they do not imply one): the per-feature part of the value of information, computed
# once per knowledge-base version
_AskableLR = tuple[str, str, float, float, float | None]
_ASKABLE_LRS: dict[str, dict[str, list[_AskableLR]]] = {}
# one answer's effect on one leading diagnosis: (its number, LR+, LR-, sensitivity or None)
_Effect = tuple[int, float, float, float | None]


def _sensitivity(lr: float, lr_abs: float) -> float | None:
    """Sensitivity implied by LR+ = sens/(1-spec) and LR- = (1-sens)/spec, clamped to 0-1."""
    if lr > 1 > lr_abs or lr < 1 < lr_abs:
        return min(max((1 - lr_abs) * lr / (lr - lr_abs), 0.0), 1.0)
    return None


def _askable_lrs(kb: KnowledgeBase, bank: QuestionBank) -> dict[str, list[_AskableLR]]:
    """diagnosis id → [(model finding, askable finding, LR+, LR-, sensitivity)] (cached)."""
    cached = _ASKABLE_LRS.get(kb.version)
    if cached is None:
        cached = {
            dx: [
                (raw, fid, lr, lr_abs, _sensitivity(lr, lr_abs))
                for raw, (lr, lr_abs) in feats.items()
                if _informative(lr) or _informative(lr_abs)
                for fid in _askable(raw, kb, bank)
            ]
            for dx, feats in _lr_table(kb).items()
        }
        _ASKABLE_LRS[kb.version] = cached
    return cached


def _diagnosis_gains(
    stated: set[str], differential: list[DiagnosisResult], kb: KnowledgeBase, bank: QuestionBank
) -> dict[str, tuple[float, Any]]:
    """finding id → (gain, why) for answers that would change the leading diagnoses."""
    top = [d for d in differential[:TOP_DIAGNOSES] if 0 < d.probability < 1]
    if len(top) < 2:
        return {}
    table = _askable_lrs(kb, bank)
    odds = [d.probability / (1 - d.probability) for d in top]
    probs = [d.probability for d in top]
    leader = probs.index(max(probs))  # the first highest
    # finding → [(diagnosis number, LR+, LR-, sensitivity)] over the unanswered findings
    candidates: dict[str, list[_Effect]] = {}
    for i, d in enumerate(top):
        for raw, fid, lr, lr_abs, sens in table.get(d.id, ()):
            if fid in stated or raw in stated:
                continue
            candidates.setdefault(fid, []).append((i, lr, lr_abs, sens))
    gains: dict[str, tuple[float, Any]] = {}
    default_yes = bank.default_yes_probability
    # for each leading diagnosis, the first-highest of the others: with it the new leader after
    # an answer that moves one diagnosis (most questions) is one comparison, not a list copy
    # (the leader is the first highest, so it is every other diagnosis's rival; the leader's own
    # rival is the first highest of the rest)
    runner_up = -1
    for j, p in enumerate(probs):
        if j != leader and (runner_up < 0 or p > probs[runner_up]):
            runner_up = j
    rival = [leader] * len(probs)
    rival[leader] = runner_up
    for fid, effects in candidates.items():
        if len(effects) == 1:
            i, lr, lr_abs, sens = effects[0]
            before, o, r = probs[i], odds[i], rival[i]
            # the same arithmetic as _p_yes for one effect
            p_yes = default_yes if sens is None else min(0.95, max(0.05, before * sens / before))
            o_yes = o * lr
            p = o_yes / (1 + o_yes)
            shift_yes = abs(p - before)
            leader_yes = _leader(i, p, r, probs[r])
            o_no = o * lr_abs
            p = o_no / (1 + o_no)
            shift_no = abs(p - before)
            leader_no = _leader(i, p, r, probs[r])
        else:
            p_yes = _p_yes(effects, probs, default_yes)
            # both answers in one pass over the effects: the new probabilities after a yes and
            # after a no, and the total change each makes (halved below: its shift)
            new_yes = probs[:]
            new_no = probs[:]
            shift_yes = shift_no = 0.0
            for i, lr, lr_abs, _ in effects:
                before, o = probs[i], odds[i]
                o_yes = o * lr
                new_yes[i] = p = o_yes / (1 + o_yes)
                shift_yes += abs(p - before)
                o_no = o * lr_abs
                new_no[i] = p = o_no / (1 + o_no)
                shift_no += abs(p - before)
            leader_yes = new_yes.index(max(new_yes))  # the first highest
            leader_no = new_no.index(max(new_no))
        shift_yes *= 0.5
        shift_no *= 0.5
        if leader_yes != leader:
            shift_yes += LEADER_CHANGE_BONUS
        if leader_no != leader:
            shift_no += LEADER_CHANGE_BONUS
        weighted_yes = p_yes * shift_yes
        weighted_no = (1 - p_yes) * shift_no
        expected = weighted_yes + weighted_no
        if expected >= 0.02:
            # the answer that moves most tells the story (yes on a tie), worded only when shown
            if weighted_no > weighted_yes or not weighted_yes > 0.0:
                outcome, new_leader = (1, leader_no) if weighted_no > 0.0 else (0, leader)
            else:
                outcome, new_leader = 0, leader_yes
            gains[fid] = (min(1.0, expected), _Why(top, effects, outcome, new_leader, leader))
    return gains


def _leader(i: int, p: float, rival: int, p_rival: float) -> int:
    """The first highest after diagnosis `i` moves to `p` and the others stay (best: `rival`)."""
    if p > p_rival:
        return i
    if p < p_rival:
        return rival
    return min(i, rival)


class _Why(NamedTuple):
    """The reason a diagnosis question matters, worded on demand (a tuple: cheap to make)."""

    top: list[DiagnosisResult]
    effects: list[_Effect]
    outcome: int
    new_leader: int
    leader: int

    def __str__(self) -> str:
        answer = "yes" if self.outcome == 0 else "no"
        if self.new_leader != self.leader:
            return f"a {answer} would make {self.top[self.new_leader].name} the leading diagnosis"
        o = self.outcome
        i_max = max(self.effects, key=lambda e: abs(math.log(e[1 + o] or 1.0)))[0]
        direction = "raises" if effects_lr(self.effects, i_max, o) > 1 else "lowers"
        return f"a {answer} {direction} the odds of {self.top[i_max].name}"


def effects_lr(effects: list[_Effect], i: int, outcome: int) -> float:
    """The likelihood ratio one answer applies to diagnosis `i` (1 when it has none)."""
    for j, lr, lr_abs, _ in effects:
        if j == i:
            return lr if outcome == 0 else lr_abs
    return 1.0


def _p_yes(effects: list[_Effect], probs: list[float], default: float) -> float:
    """Chance the answer is yes: sensitivity implied by LR+ and LR- where both are known."""
    weighted = total = 0.0
    for i, _, _, sens in effects:
        if sens is not None:
            weighted += probs[i] * sens
            total += probs[i]
    if total == 0:
        return default
    return min(0.95, max(0.05, weighted / total))


def next_questions(
    es: EvidenceSet, triage: Triage, differential: list[DiagnosisResult], kb: KnowledgeBase
) -> list[NextQuestion]:
    """Rank unanswered findings by how much their answers would change urgency or diagnosis."""
    bank = load_questions()
    stated = es.present_ids() | es.absent_ids()  # answered either way
    urgency = _urgency_gains(es, stated, triage, differential, kb, bank)
    diagnosis = _diagnosis_gains(stated, differential, kb, bank)
    # (-gain, not by urgency, finding): sorted as is, highest gain first, urgency before
    # diagnosis on a tie, then by finding id (unique, so the order is total)
    scored: list[tuple[float, bool, str]] = []
    for fid in set(urgency) | set(diagnosis):
        u = urgency.get(fid, (0.0, ""))
        d = diagnosis.get(fid, (0.0, ""))
        by_urgency = u[0] >= d[0]
        gain = u[0] if by_urgency else d[0]
        scored.append((-round(min(1.0, gain), 3), not by_urgency, fid))
    scored.sort()
    out = []
    for neg_gain, by_diagnosis, fid in scored[: bank.max_questions]:
        u = urgency.get(fid, (0.0, ""))
        d = diagnosis.get(fid, (0.0, ""))
        first, other = (d, u) if by_diagnosis else (u, d)
        why = str(first[1])
        if u[0] and d[0]:
            why = f"{why}; also {other[1]}"
        out.append(
            build_model(  # values typed here: a gain rounded into 0-1, a literal label
                NextQuestion,
                {
                    "finding_id": fid,
                    "question": _wording(fid, kb, bank),
                    "why": why[0].upper() + why[1:],
                    "changes": "diagnosis" if by_diagnosis else "urgency",
                    "gain": -neg_gain,
                },
                _QUESTION_FIELDS,
            )
        )
    return out
