"""Load and validate the knowledge base from YAML (once per process), with cross-reference checks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from spineguide import __version__
from spineguide.errors import KnowledgeBaseError, UnknownCodeError
from spineguide.knowledge.schema import (
    SECTION_KEYS,
    ArticleStatement,
    Condition,
    DiagnosticTest,
    Drug,
    Finding,
    LevelAnatomy,
    Omission,
    RedFlagRule,
    RootAnatomy,
    Source,
    Therapy,
)

DATA_DIR = Path(__file__).parent / "data"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (YAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    """Read one YAML file, turning parse errors into a KnowledgeBaseError naming the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: YAML parse error: {exc}") from exc


def _validate_list(model: type[BaseModel], raw: Any, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise KnowledgeBaseError(f"{where}: expected a list of entries")
    out = []
    for i, entry in enumerate(raw):
        try:
            out.append(model.model_validate(entry))
        except ValidationError as exc:
            ident = entry.get("id") if isinstance(entry, dict) else None
            raise KnowledgeBaseError(f"{where} entry {i} ({ident}): {exc}") from exc
    return out


_NORM_RE = re.compile(r"[^a-z0-9]+")


def normalize_name(text: str) -> str:
    """Lower-case a name and collapse punctuation to single spaces (for alias look-ups)."""
    return _NORM_RE.sub(" ", text.lower()).strip()


@dataclass
class KnowledgeBase:
    """The loaded, validated knowledge base with look-up indexes."""

    sources: dict[str, Source] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)
    roots: dict[str, RootAnatomy] = field(default_factory=dict)
    levels: dict[str, LevelAnatomy] = field(default_factory=dict)
    tests: dict[str, DiagnosticTest] = field(default_factory=dict)
    therapies: dict[str, Therapy] = field(default_factory=dict)
    drugs: dict[str, Drug] = field(default_factory=dict)
    conditions: dict[str, Condition] = field(default_factory=dict)
    omissions: list[Omission] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # other data files (red flags, model…)
    version: str = ""

    # -- look-ups -----------------------------------------------------------------------------

    def condition(self, condition_id: str) -> Condition:
        """Return a condition by id or raise UnknownCodeError."""
        try:
            return self.conditions[condition_id]
        except KeyError:
            raise UnknownCodeError(
                f"unknown condition id {condition_id!r}",
                "run `spineguide kb list conditions` to see the valid ids",
            ) from None

    def drug(self, name_or_id: str) -> Drug | None:
        """Find a drug by id, name or alias (case/punctuation-insensitive)."""
        key = normalize_name(name_or_id)
        return self._drug_index().get(key)

    def _drug_index(self) -> dict[str, Drug]:
        idx = self.raw.get("_drug_index")
        if idx is None:
            idx = {}
            for d in self.drugs.values():
                for n in (d.id, d.name, *d.aliases):
                    idx.setdefault(normalize_name(n), d)
            self.raw["_drug_index"] = idx
        return idx

    def statements_for_source(self, source_id: str) -> list[tuple[str, str, ArticleStatement]]:
        """All (collection, entry id, statement) triples citing one article."""
        out: list[tuple[str, str, ArticleStatement]] = []
        for coll, items in (("tests", self.tests), ("therapies", self.therapies)):
            for ident, entry in items.items():
                out += [(coll, ident, s) for s in entry.article_statements if s.source == source_id]
        for ident, drug in self.drugs.items():
            out += [("drugs", ident, s) for s in drug.article_statements if s.source == source_id]
        return out

    def seed_condition(self, source_id: str) -> Condition | None:
        """The condition (or topic) a seed article describes."""
        src = self.sources.get(source_id)
        if src and src.condition:
            return self.conditions.get(src.condition)
        return None


def _collect_refs(obj: Any, found: list[tuple[str, str]]) -> None:
    """Walk a model tree and collect (kind, id) cross-references to check."""
    if isinstance(obj, BaseModel):
        data = obj
        for name in type(data).model_fields:
            value = getattr(data, name)
            if name == "sources" and isinstance(value, list):
                found += [("source", v) for v in value]
            elif name in ("source", "guideline") and isinstance(value, str):
                found.append(("source", value))
            elif name == "finding" and isinstance(value, str):
                found.append(("finding", value))
            elif name in ("findings", "sensory_findings", "pain_findings") and isinstance(
                value, list
            ):
                found += [("finding", v) for v in value]
            elif name == "reflex_finding" and value:
                found.append(("finding", value))
            elif (
                name == "section"
                and isinstance(value, str)
                and isinstance(data, (ArticleStatement,))
            ):
                if value not in SECTION_KEYS:
                    found.append(("section", value))
            else:
                _collect_refs(value, found)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _collect_refs(v, found)
    elif isinstance(obj, dict):
        for v in obj.values():
            _collect_refs(v, found)


def _files(pattern: str, data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob(pattern))


def load_knowledge_base(data_dir: Path | None = None) -> KnowledgeBase:
    """Load every YAML file under the data directory and validate the whole knowledge base."""
    data_dir = data_dir or DATA_DIR
    kb = KnowledgeBase()
    digest = hashlib.sha256()
    for path in sorted(data_dir.rglob("*.yaml")):
        digest.update(str(path.relative_to(data_dir)).encode())
        digest.update(path.read_bytes())
    kb.version = f"{__version__}+kb.{digest.hexdigest()[:12]}"

    def put(index: dict[str, Any], entries: list[Any], where: str) -> None:
        for e in entries:
            ident = getattr(e, "id", None) or getattr(e, "root", None) or e.level
            if ident in index:
                raise KnowledgeBaseError(f"{where}: duplicate id {ident!r}")
            index[ident] = e

    for path in _files("sources.yaml", data_dir) + _files("sources/*.yaml", data_dir):
        put(kb.sources, _validate_list(Source, read_yaml(path), path.name), path.name)
    for path in _files("findings/*.yaml", data_dir):
        put(kb.findings, _validate_list(Finding, read_yaml(path), path.name), path.name)
    anat = data_dir / "anatomy.yaml"
    if anat.exists():
        raw = read_yaml(anat) or {}
        put(kb.roots, _validate_list(RootAnatomy, raw.get("roots"), "anatomy.yaml"), "anatomy")
        put(kb.levels, _validate_list(LevelAnatomy, raw.get("levels"), "anatomy.yaml"), "anatomy")
    for path in _files("tests*.yaml", data_dir) + _files("tests/*.yaml", data_dir):
        put(kb.tests, _validate_list(DiagnosticTest, read_yaml(path), path.name), path.name)
    for path in _files("therapies/*.yaml", data_dir):
        put(kb.therapies, _validate_list(Therapy, read_yaml(path), path.name), path.name)
    for path in _files("drugs*.yaml", data_dir) + _files("drugs/*.yaml", data_dir):
        put(kb.drugs, _validate_list(Drug, read_yaml(path), path.name), path.name)
    for path in _files("conditions/*.yaml", data_dir):
        raw = read_yaml(path)
        entries = raw if isinstance(raw, list) else [raw]
        put(kb.conditions, _validate_list(Condition, entries, path.name), path.name)
    for path in _files("omissions/*.yaml", data_dir):
        kb.omissions += _validate_list(Omission, read_yaml(path), path.name)
    for name in ("red_flags", "differential", "localization", "workup", "plan", "interactions"):
        path = data_dir / f"{name}.yaml"
        if path.exists():
            kb.raw[name] = read_yaml(path)
    if "red_flags" in kb.raw:
        rules = _validate_list(RedFlagRule, kb.raw["red_flags"].get("rules"), "red_flags.yaml")
        kb.raw["red_flags"] = {"rules": [r.model_dump() for r in rules]}

    _check_references(kb)
    return kb


def _check_references(kb: KnowledgeBase) -> None:
    refs: list[tuple[str, str]] = []
    for coll in (kb.findings, kb.roots, kb.levels, kb.tests, kb.therapies, kb.drugs):
        for entry in coll.values():
            _collect_refs(entry, refs)
    for cond in kb.conditions.values():
        _collect_refs(cond, refs)
    _collect_refs(kb.omissions, refs)
    problems = []
    for kind, ident in refs:
        if kind == "source" and ident not in kb.sources:
            problems.append(f"unknown source id {ident!r}")
        elif kind == "finding" and ident not in kb.findings:
            problems.append(f"unknown finding id {ident!r}")
        elif kind == "section":
            problems.append(f"unknown section key {ident!r} (valid: {', '.join(SECTION_KEYS)})")
    rules = {r["id"] for r in (kb.raw.get("red_flags") or {}).get("rules", [])}
    for rule in (kb.raw.get("red_flags") or {}).get("rules", []):
        for group in rule["all"]:
            problems += [
                f"red flag {rule['id']}: unknown finding {f!r}"
                for f in group["any"]
                if f not in kb.findings
            ]
        for src in rule["sources"]:
            if src not in kb.sources:
                problems.append(f"red flag {rule['id']}: unknown source {src!r}")
    for cond in kb.conditions.values():
        for item in cond.when_to_see_doctor:
            if item.red_flag_rule and rules and item.red_flag_rule not in rules:
                problems.append(f"{cond.id}: unknown red-flag rule {item.red_flag_rule!r}")
        for test_id in cond.first_investigations:
            if kb.tests and test_id not in kb.tests:
                problems.append(f"{cond.id}: unknown diagnostic test {test_id!r}")
    if problems:
        uniq = sorted(set(problems))
        raise KnowledgeBaseError(
            f"knowledge base has {len(uniq)} broken reference(s): " + "; ".join(uniq[:25])
        )


@lru_cache(maxsize=1)
def get_kb() -> KnowledgeBase:
    """The process-wide knowledge base, loaded once."""
    return load_knowledge_base()
