"""What to ask next: the unanswered findings whose answers would most change the assessment.

Value of information over the two models SpineGuide reasons with:
- urgency: a red-flag rule (red_flags.yaml) that is one finding short of firing, or a fired rule
  that one finding would escalate, gains (urgency levels it would add) / 3; a red-flag screen
  domain that stands between routine and self-care gains 1/3 for its answer "no";
- diagnosis: the likelihood ratios (differential.yaml) of the leading diagnoses — the larger of the
  yes/no outcomes of the total change in their probabilities, plus a bonus when the leader changes.
Then the clinician's view (knowledge/data/questions.yaml): near-duplicates are asked once, narrower
questions only after a yes to the broader one, nothing the note already answers, questions about
uncommon emergencies or blood tests only when the presentation makes them plausible; open red
flags come first, then history and examination, blood tests last. Wording lives there too.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class Number(BaseModel):
    """A number used in ranking, with where it comes from."""

    model_config = ConfigDict(extra="forbid")

    value: float
    sources: list[str] = Field(default_factory=list)
    expert_estimate: bool = False
    rationale: str = Field(min_length=10)

    @model_validator(mode="after")
    def _sourced(self) -> Number:
        if not self.sources and not self.expert_estimate:
            raise ValueError("needs a source id or expert_estimate: true")
        return self


class Settings(BaseModel):
    """The ranking numbers of questions.yaml."""

    model_config = ConfigDict(extra="forbid")

    max_questions: Number
    max_per_rule: Number
    screen_weight: Number
    other_weight: Number
    condition_weight: Number
    default_yes_probability: Number
    yes_probability_floor: Number
    yes_probability_ceiling: Number
    top_diagnoses: Number
    min_likelihood_ratio: Number
    leader_change_bonus: Number
    min_expected_gain: Number


class Gate(BaseModel):
    """Questions asked only when the presentation makes their condition plausible."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ask: list[str] = Field(min_length=1)
    any_present: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    min_probability: Number | None = None
    about: list[str] = Field(
        default_factory=list,
        description="the conditions this gate is about (default: `conditions`): a question a "
        "red-flag rule offers passes only the gates about that rule's condition, when it has any",
    )
    rationale: str = Field(min_length=10)

    @model_validator(mode="after")
    def _complete(self) -> Gate:
        if (self.min_probability is None) != (not self.conditions):
            raise ValueError(f"gate {self.name!r}: conditions and min_probability go together")
        if not self.conditions and not self.any_present:
            raise ValueError(f"gate {self.name!r}: needs any_present or conditions")
        return self


class QuestionBank(BaseModel):
    """knowledge/data/questions.yaml."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(min_length=1)
    skip_kinds: list[str] = Field(default_factory=list)
    never_ask: list[str] = Field(default_factory=list)
    last_kinds: list[str] = Field(default_factory=list)
    last_findings: list[str] = Field(default_factory=list)
    settings: Settings
    same_question: list[list[str]] = Field(default_factory=list)
    follow_up: dict[str, list[str]] = Field(default_factory=dict)
    answered_by: dict[str, list[str]] = Field(default_factory=dict)
    answered_by_absent: dict[str, list[str]] = Field(default_factory=dict)
    gates: list[Gate] = Field(default_factory=list)
    questions: dict[str, str]
    ask_instead: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> QuestionBank:
        s = self.settings
        if not 0 < s.yes_probability_floor.value <= s.yes_probability_ceiling.value < 1:
            raise ValueError("settings: need 0 < yes_probability_floor <= ceiling < 1")
        if s.max_questions.value < 1 or s.max_per_rule.value < 1 or s.top_diagnoses.value < 2:
            raise ValueError("settings: max_questions, max_per_rule >= 1 and top_diagnoses >= 2")
        if s.min_likelihood_ratio.value <= 1:
            raise ValueError("settings: min_likelihood_ratio must be above 1")
        seen: set[str] = set()
        for group in self.same_question:
            if len(group) < 2 or seen & set(group):
                raise ValueError(f"same_question: {group} (two or more ids, each in one group)")
            seen.update(group)
        return self

    def referenced_ids(self) -> set[str]:
        """Finding ids the bank refers to."""
        ids = set(self.questions) | set(self.ask_instead) | set(self.never_ask)
        ids.update(self.last_findings)
        for alts in self.ask_instead.values():
            ids.update(alts)
        for group in self.same_question:
            ids.update(group)
        for table in (self.follow_up, self.answered_by, self.answered_by_absent):
            ids.update(table)
            for alts in table.values():
                ids.update(alts)
        for gate in self.gates:
            ids.update(gate.ask)
            ids.update(gate.any_present)
            ids.update(gate.requires)
        return ids

    def referenced_sources(self) -> set[str]:
        """Source ids the bank cites."""
        out = set(self.sources)
        numbers = [getattr(self.settings, name) for name in Settings.model_fields]
        for n in numbers + [g.min_probability for g in self.gates if g.min_probability]:
            out.update(n.sources)
        return out


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
    problems += [f"questions.yaml: unknown source {s!r}"
                 for s in sorted(bank.referenced_sources()) if s not in kb.sources]  # fmt: skip
    diagnoses = (kb.raw.get("differential") or {}).get("diagnoses") or {}
    problems += [f"questions.yaml: gate {g.name!r}: unknown diagnosis {c!r}"
                 for g in bank.gates for c in g.conditions + g.about if c not in diagnoses]  # fmt: skip
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
        return [f for f in bank.ask_instead[fid] if f not in bank.never_ask]
    if fid in _derived_ids() or fid.startswith("img_") or fid.startswith("age_"):
        return []
    if fid in bank.never_ask:
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


class _Params(NamedTuple):
    """The settings of questions.yaml as plain numbers (read once per loaded bank)."""

    max_questions: int
    max_per_rule: int
    screen_weight: float
    other_weight: float
    condition_weight: float
    default_yes: float
    yes_floor: float
    yes_ceiling: float
    top_diagnoses: int
    min_lr: float
    leader_bonus: float
    min_gain: float


_PARAMS: dict[int, _Params] = {}


def _params(bank: QuestionBank) -> _Params:
    """The bank's ranking numbers (cached per loaded bank)."""
    got = _PARAMS.get(id(bank))
    if got is None:
        s = bank.settings
        got = _PARAMS[id(bank)] = _Params(
            int(s.max_questions.value), int(s.max_per_rule.value), s.screen_weight.value,
            s.other_weight.value, s.condition_weight.value, s.default_yes_probability.value,
            s.yes_probability_floor.value, s.yes_probability_ceiling.value,
            int(s.top_diagnoses.value), s.min_likelihood_ratio.value,
            s.leader_change_bonus.value, s.min_expected_gain.value,
        )  # fmt: skip
    return got


class _Policy(NamedTuple):
    """How one finding is asked: the clinician's view of questions.yaml, compiled per finding."""

    ask: str  # the question actually asked (the first of its same_question group)
    group: frozenset[str]  # the group's members: none is asked once any is answered
    premises: frozenset[str] | None  # asked only when one of these is present
    answered_by: frozenset[str]  # already answered when one of these is present
    answered_by_absent: frozenset[str]  # already answered when one of these is absent
    gates: tuple[int, ...]  # asked only when one of these gates is open (none: always)
    about: dict[str, tuple[int, ...]]  # condition → those of `gates` about it


# gate number → (findings that open it, findings all needed with them, conditions that open it,
# their minimum probability)
_GateSpec = tuple[frozenset[str], frozenset[str], tuple[str, ...], float]
# finding id → policy (findings without one are asked as they are), the gates, the findings
# whose questions come last (blood tests)
_Policies = tuple[dict[str, _Policy], list[_GateSpec], frozenset[str]]
_POLICIES: dict[tuple[str, int], _Policies] = {}


def _policies(kb: KnowledgeBase, bank: QuestionBank) -> _Policies:
    """The per-finding policies of questions.yaml (cached per knowledge base and bank)."""
    key = (kb.version, id(bank))
    got = _POLICIES.get(key)
    if got is None:
        gates = [
            (
                frozenset(g.any_present),
                frozenset(g.requires),
                tuple(g.conditions),
                g.min_probability.value if g.min_probability else 1.0,
            )
            for g in bank.gates
        ]
        gates_of: dict[str, list[int]] = {}
        for i, g in enumerate(bank.gates):
            for fid in g.ask:
                gates_of.setdefault(fid, []).append(i)
        group_of = {fid: group for group in bank.same_question for fid in group}
        ids = set(group_of) | set(bank.follow_up) | set(gates_of)
        ids |= set(bank.answered_by) | set(bank.answered_by_absent)
        policy: dict[str, _Policy] = {}
        for fid in ids:
            group = group_of.get(fid, [fid])
            ask = group[0]  # the constraints that apply are those of the question asked
            premises = bank.follow_up.get(ask)
            own = tuple(gates_of.get(ask, ()))
            about: dict[str, tuple[int, ...]] = {}
            for i in own:
                for c in bank.gates[i].about or bank.gates[i].conditions:
                    about[c] = (*about.get(c, ()), i)
            policy[fid] = _Policy(
                ask,
                frozenset(group) if len(group) > 1 else frozenset(),
                frozenset(premises) if premises is not None else None,
                frozenset(bank.answered_by.get(ask, ())),
                frozenset(bank.answered_by_absent.get(ask, ())),
                own,
                about,
            )
        last = frozenset(
            fid for fid, f in kb.findings.items() if f.kind.value in bank.last_kinds
        ) | frozenset(bank.last_findings)
        got = _POLICIES[key] = (policy, gates, last)
    return got


_UNSET: Any = object()  # "not resolved yet" in the resolver's memo (None means "do not ask")


class _Resolver:
    """Which question, if any, stands for a finding in this presentation (memoised per call)."""

    __slots__ = ("gates", "memo", "memo_ungated", "open", "policy", "present", "prob", "stated")

    def __init__(
        self, policies: _Policies, present: set[str], stated: set[str], prob: dict[str, float]
    ) -> None:
        self.policy, self.gates, _ = policies
        self.present = present
        self.stated = stated
        self.prob = prob
        self.memo: dict[str, str | None] = {}
        self.memo_ungated: dict[str, str | None] = {}
        self.open: dict[int, bool] = {}

    def __call__(self, fid: str, gated: bool = True) -> str | None:
        """The finding to ask about for `fid`, or None when it should not be asked.

        `gated=False` skips the plausibility gates (for a red-flag rule that has already fired).
        """
        memo = self.memo if gated else self.memo_ungated
        got = memo.get(fid, _UNSET)
        if got is not _UNSET:
            return got
        got = memo[fid] = self._resolve(fid, gated)
        return got

    def _resolve(self, fid: str, gated: bool) -> str | None:
        stated = self.stated
        if fid in stated:
            return None
        pol = self.policy.get(fid)
        if pol is None:
            return fid
        ask, group, premises, answered_by, answered_by_absent, gates, _ = pol
        present = self.present
        if group and not group.isdisjoint(stated):
            return None  # the same question has been answered under another id
        if premises is not None and premises.isdisjoint(present):
            return None  # a follow-up without the yes it follows
        if answered_by and not answered_by.isdisjoint(present):
            return None
        if answered_by_absent and not answered_by_absent.isdisjoint(stated - present):
            return None
        if gated and gates:
            for i in gates:
                if self._open(i):
                    return ask
            return None
        return ask

    def plausible(self, q: str, condition: str | None) -> bool:
        """Whether gated question `q` passes its gates when a rule about `condition` offers it.

        Only the gates about that condition count when there are any (a blood-pressure question
        offered by the aneurysm rule needs the aortic gate open, not the sepsis one).
        """
        pol = self.policy[q]
        return any(self._open(i) for i in pol.about.get(condition or "", pol.gates))

    def _open(self, i: int) -> bool:
        got = self.open.get(i)
        if got is None:
            findings, requires, conditions, min_p = self.gates[i]
            prob, present = self.prob, self.present
            got = self.open[i] = (
                not findings.isdisjoint(present) and requires.issubset(present)
            ) or any(prob.get(c, 0.0) >= min_p for c in conditions)
        return got


_SCREEN_IDS: dict[int, frozenset[str]] = {}


def _screen_ids(screen: Any) -> frozenset[str]:
    """Finding ids the red-flag screen asks about (once per loaded thresholds object)."""
    got = _SCREEN_IDS.get(id(screen))
    if got is None:
        _SCREEN_IDS.clear()
        got = _SCREEN_IDS[id(screen)] = frozenset(f for d in screen.domains.values() for f in d.ask)
    return got


def _urgency_gains(
    present: set[str],
    resolve: _Resolver,
    triage: Triage,
    prob: dict[str, float],
    kb: KnowledgeBase,
    bank: QuestionBank,
    par: _Params,
) -> dict[str, tuple[float, str]]:
    """Question id → (gain, why) for answers that would change the urgency."""
    from spineguide.reasoning.derive import load_thresholds

    screen = load_thresholds().red_flag_screen
    screen_ids = _screen_ids(screen)
    current = URGENCY_RANK[triage.urgency]
    gains: dict[str, tuple[float, str]] = {}
    max_per_rule, screen_weight, other_weight = (
        par.max_per_rule,
        par.screen_weight,
        par.other_weight,
    )
    condition_weight = par.condition_weight
    policy, stated, memo = resolve.policy, resolve.stated, resolve.memo_ungated

    def offer(askable: list[str], rank: int, why: str, condition: str | None, fired: bool) -> None:
        if rank <= current:
            return
        likely = condition_weight * prob.get(condition or "", 0.0)
        asked: list[str] = []  # the questions this rule offers (two findings can share one)
        for fid in askable:
            if fid in stated:
                continue
            if fid in policy:  # most findings have none: asked as they are
                q = memo.get(fid, _UNSET)  # (the memo read in line: this loop is hot)
                if q is _UNSET:
                    q = memo[fid] = resolve._resolve(fid, False)
                if q is None:
                    continue
                # (a rule that has fired has made its escalators plausible: no gate then)
                if not fired and policy[q].gates and not resolve.plausible(q, condition):
                    continue
            else:
                q = fid
            if q in asked:
                continue
            if len(asked) >= max_per_rule:
                break
            asked.append(q)
            weight = screen_weight if fid in screen_ids else other_weight
            gain = (rank - current) / 3 * min(1.0, weight + likely)
            if gain > gains.get(q, (0.0, ""))[0]:
                gains[q] = (gain, why)

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
        # the one group still short, by exactly one finding (a plain loop: no list per rule)
        short: tuple[frozenset[str], list[str], int] | None = None
        for group, got in zip(rule.groups, counts, strict=True):
            if got < group[2]:
                if short is not None or group[2] - got > 1:
                    break  # two findings or more short: no one answer fires it
                short = group
        else:
            if short is not None:
                offer(short[1], rule.rank, rule.fire_why, rule.condition, False)
            elif rule.esc_rank > rule.rank and rule.escalate.isdisjoint(present):
                offer(rule.escalate_askable, rule.esc_rank, rule.raise_why, rule.condition, True)
    # Answering "no" to the unanswered screen domains is what allows self-care.
    if triage.unanswered_red_flags and triage.urgency == Urgency.routine and not triage.red_flags:
        for dom in screen.domains.values():
            if dom.label not in triage.unanswered_red_flags:
                continue
            for fid in dom.ask[:max_per_rule]:
                q = resolve(fid)
                if q is None:
                    continue
                yes_gain, yes_why = gains.get(q, (0.0, ""))
                why = f"part of the red-flag screen ({dom.label}): all 'no' allows self-care"
                gains[q] = (min(1.0, yes_gain + 1 / 3), f"{yes_why}; {why}" if yes_why else why)
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


def _informative(lr: float, min_lr: float) -> bool:
    """A likelihood ratio far enough from 1 to be worth asking about (beyond min_lr or 1/min_lr)."""
    return lr >= min_lr or lr <= 1 / min_lr


# (model finding, askable finding, LR present, LR absent, sensitivity implied by both LRs or
# None when they do not imply one): the per-feature part of the value of information, computed
# once per knowledge-base version
_AskableLR = tuple[str, str, float, float, float | None]
_ASKABLE_LRS: dict[tuple[str, int], dict[str, list[_AskableLR]]] = {}
# one answer's effect on one leading diagnosis: (its number, LR+, LR-, sensitivity or None)
_Effect = tuple[int, float, float, float | None]


def _sensitivity(lr: float, lr_abs: float) -> float | None:
    """Sensitivity implied by LR+ = sens/(1-spec) and LR- = (1-sens)/spec, clamped to 0-1."""
    if lr > 1 > lr_abs or lr < 1 < lr_abs:
        return min(max((1 - lr_abs) * lr / (lr - lr_abs), 0.0), 1.0)
    return None


def _askable_lrs(kb: KnowledgeBase, bank: QuestionBank) -> dict[str, list[_AskableLR]]:
    """diagnosis id → [(model finding, askable finding, LR+, LR-, sensitivity)] (cached)."""
    key = (kb.version, id(bank))
    cached = _ASKABLE_LRS.get(key)
    if cached is None:
        min_lr = _params(bank).min_lr
        cached = {
            dx: [
                (raw, fid, lr, lr_abs, _sensitivity(lr, lr_abs))
                for raw, (lr, lr_abs) in feats.items()
                if _informative(lr, min_lr) or _informative(lr_abs, min_lr)
                for fid in _askable(raw, kb, bank)
            ]
            for dx, feats in _lr_table(kb).items()
        }
        _ASKABLE_LRS[key] = cached
    return cached


def _diagnosis_gains(
    stated: set[str],
    resolve: _Resolver,
    differential: list[DiagnosisResult],
    kb: KnowledgeBase,
    bank: QuestionBank,
    par: _Params,
) -> dict[str, tuple[float, Any]]:
    """finding id → (gain, why) for answers that would change the leading diagnoses."""
    top = [d for d in differential[: par.top_diagnoses] if 0 < d.probability < 1]
    if len(top) < 2:
        return {}
    table = _askable_lrs(kb, bank)
    policy, memo = resolve.policy, resolve.memo
    odds = [d.probability / (1 - d.probability) for d in top]
    probs = [d.probability for d in top]
    leader = probs.index(max(probs))  # the first highest
    # finding → [(diagnosis number, LR+, LR-, sensitivity)] over the unanswered findings
    candidates: dict[str, list[_Effect]] = {}
    for i, d in enumerate(top):
        for raw, fid, lr, lr_abs, sens in table.get(d.id, ()):
            if fid in stated or raw in stated:
                continue
            if fid in policy:  # most findings have none: asked as they are
                q = memo.get(fid, _UNSET)  # (the memo read in line: this loop is hot)
                if q is _UNSET:
                    q = memo[fid] = resolve._resolve(fid, True)
                if q is None:
                    continue
            candidates.setdefault(fid, []).append((i, lr, lr_abs, sens))
    gains: dict[str, tuple[float, Any]] = {}
    default_yes, lo, hi = par.default_yes, par.yes_floor, par.yes_ceiling
    bonus, min_gain = par.leader_bonus, par.min_gain
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
            p_yes = default_yes if sens is None else min(hi, max(lo, before * sens / before))
            o_yes = o * lr
            p = o_yes / (1 + o_yes)
            shift_yes = abs(p - before)
            leader_yes = _leader(i, p, r, probs[r])
            o_no = o * lr_abs
            p = o_no / (1 + o_no)
            shift_no = abs(p - before)
            leader_no = _leader(i, p, r, probs[r])
        else:
            p_yes = _p_yes(effects, probs, default_yes, lo, hi)
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
            shift_yes += bonus
        if leader_no != leader:
            shift_no += bonus
        weighted_yes = p_yes * shift_yes
        weighted_no = (1 - p_yes) * shift_no
        expected = weighted_yes + weighted_no
        if expected >= min_gain:
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


def _p_yes(
    effects: list[_Effect], probs: list[float], default: float, lo: float, hi: float
) -> float:
    """Chance the answer is yes: sensitivity implied by LR+ and LR- where both are known."""
    weighted = total = 0.0
    for i, _, _, sens in effects:
        if sens is not None:
            weighted += probs[i] * sens
            total += probs[i]
    if total == 0:
        return default
    return min(hi, max(lo, weighted / total))


def next_questions(
    es: EvidenceSet, triage: Triage, differential: list[DiagnosisResult], kb: KnowledgeBase
) -> list[NextQuestion]:
    """Rank unanswered findings by how much their answers would change urgency or diagnosis."""
    bank = load_questions()
    par = _params(bank)
    policies = _policies(kb, bank)
    present = es.present_ids()
    stated = present | es.absent_ids()  # answered either way
    prob = {d.id: d.probability for d in differential}
    resolve = _Resolver(policies, present, stated, prob)
    urgency = _urgency_gains(present, resolve, triage, prob, kb, bank, par)
    diagnosis = _diagnosis_gains(stated, resolve, differential, kb, bank, par)
    # near-duplicates asked under one id: the best value of each kind for that question
    policy = policies[0]
    for fid in [f for f in diagnosis if f in policy and resolve(f) != f]:
        q, got = resolve(fid), diagnosis.pop(fid)
        if q is not None and got[0] > diagnosis.get(q, (0.0, ""))[0]:
            diagnosis[q] = got
    last = policies[2]
    # (blood test, not by urgency, -gain, finding): sorted as is: open red flags first, then
    # history and examination, blood tests last; highest gain first within each; by finding id
    # on a tie (unique, so the order is total)
    scored: list[tuple[bool, bool, float, str]] = []
    for fid in set(urgency) | set(diagnosis):
        u = urgency.get(fid, (0.0, ""))
        d = diagnosis.get(fid, (0.0, ""))
        by_urgency = u[0] >= d[0]
        gain = u[0] if by_urgency else d[0]
        scored.append((fid in last, not by_urgency, -round(min(1.0, gain), 3), fid))
    scored.sort()
    out = []
    for _, by_diagnosis, neg_gain, fid in scored[: par.max_questions]:
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
