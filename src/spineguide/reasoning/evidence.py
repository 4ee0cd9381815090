"""Evidence items: the typed input every reasoning step consumes (Infermedica-style)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from spineguide.reasoning.fastmodel import build_model


class Choice(StrEnum):
    """Whether a finding is present, explicitly absent, or unknown."""

    present = "present"
    absent = "absent"
    unknown = "unknown"


class Evidence(BaseModel):
    """One finding about the patient: `{id, choice, side, value, span}` with provenance."""

    model_config = ConfigDict(extra="forbid")

    id: str
    choice: Choice = Choice.present
    side: str | None = None  # left | right | bilateral
    value: float | None = None  # numeric value (age, lab, MRC grade, SLR angle, days…)
    span: tuple[int, int] | None = None  # character span in the source text
    text: str | None = None  # the words that produced it
    source: str = "structured"  # text | structured | imaging | fhir
    history: bool = False  # past, not current (e.g. "back pain years ago")
    # character spans of the context cues that made it negated, uncertain or historical
    cue_spans: list[tuple[int, int]] = []
    confidence: float | None = None  # reader confidence when a reader states one

    @field_validator("side")
    @classmethod
    def _side(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        if value in ("both", "bilaterally"):
            return "bilateral"
        if value not in ("left", "right", "bilateral"):
            raise ValueError("side must be left, right or bilateral")
        return value


_FIELDS = frozenset(Evidence.model_fields)
_SIDES = {"left": "left", "right": "right", "bilateral": "bilateral", "both": "bilateral",
          "bilaterally": "bilateral"}  # fmt: skip


def trusted_evidence(
    fid: str,
    choice: Choice,
    side: str | None = None,
    value: float | None = None,
    span: tuple[int, int] | None = None,
    text: str | None = None,
    source: str = "structured",
    cue_spans: list[tuple[int, int]] | None = None,
) -> Evidence:
    """An Evidence item from fields a reader or rule already typed, without a validation pass.

    For hot paths (the note reader, derived findings). The side is normalised by the same rules
    as the model's validator, and an unknown side still fails.
    """
    if side is not None:
        norm = _SIDES.get(side.lower())
        if norm is None:
            raise ValueError(f"side must be left, right or bilateral, not {side!r}")
        side = norm
    return build_model(
        Evidence,
        {
            "id": fid,
            "choice": choice,
            "side": side,
            "value": None if value is None else float(value),
            "span": span,
            "text": text,
            "source": source,
            "history": False,
            "cue_spans": [] if cue_spans is None else cue_spans,
            "confidence": None,
        },
        _FIELDS,
    )


_NO_SIDES: frozenset[str] = frozenset()


class EvidenceSet:
    """All evidence for one case, indexed once for fast "is this present?" questions."""

    __slots__ = ("_absent", "_present", "_sided", "_values", "items")

    def __init__(self, items: list[Evidence] | None = None) -> None:
        self.items: list[Evidence] = list(items or [])
        present: dict[str, list[Evidence]] = {}
        absent: set[str] = set()
        for e in self.items:
            if e.choice == Choice.present:
                present.setdefault(e.id, []).append(e)
            elif e.choice == Choice.absent:
                absent.add(e.id)
        self._present = present
        self._absent = absent - set(present)
        # memos: the set is read, never changed, after init
        self._values: dict[str, float | None] | None = None
        self._sided: dict[str, frozenset[str]] | None = None

    def present(self, finding_id: str) -> bool:
        """True when any item with this id is present (and current)."""
        return finding_id in self._present

    def absent(self, finding_id: str) -> bool:
        """True when the finding is explicitly absent and never present."""
        return finding_id in self._absent

    def absent_ids(self) -> set[str]:
        """Ids explicitly absent and never present."""
        return set(self._absent)

    def get(self, finding_id: str) -> list[Evidence]:
        """All items with this id."""
        return [e for e in self.items if e.id == finding_id]

    def first_present(self, finding_id: str) -> Evidence | None:
        """The first present item with this id (None when the finding is not present)."""
        items = self._present.get(finding_id)
        return items[0] if items else None

    def value(self, finding_id: str) -> float | None:
        """The first numeric value recorded for a finding, if any."""
        values = self._values
        if values is None:
            values = {}
            for e in self.items:
                if e.value is not None and e.id not in values:
                    values[e.id] = e.value
            self._values = values
        return values.get(finding_id)

    def present_ids(self) -> set[str]:
        """Ids of every present finding."""
        return set(self._present)

    def sides(self, finding_id: str) -> frozenset[str]:
        """Sides recorded for a present finding."""
        return self.sided().get(finding_id, _NO_SIDES)

    def sided(self) -> dict[str, frozenset[str]]:
        """Present finding id → its recorded sides, for the findings that have any (read-only)."""
        got = self._sided
        if got is None:
            got = {}
            for fid, items in self._present.items():
                if len(items) == 1:  # the usual case, without a generator
                    side = items[0].side
                    if side:
                        got[fid] = frozenset((side,))
                    continue
                sides = frozenset(e.side for e in items if e.side)
                if sides:
                    got[fid] = sides
            self._sided = got
        return got

    def any_present(self, finding_ids: Iterable[str]) -> bool:
        """True when any of these findings is present."""
        return not self._present.keys().isdisjoint(finding_ids)

    def count_absent(self, finding_ids: frozenset[str] | set[str]) -> int:
        """How many of these findings are explicitly absent (and never present)."""
        return len(self._absent & finding_ids)

    def sides_of(self, finding_ids: frozenset[str] | set[str]) -> set[str]:
        """Every side recorded for the present findings among these ids."""
        out: set[str] = set()
        for fid, sides in self.sided().items():
            if fid in finding_ids:
                out |= sides
        return out
