"""Load and validate the knowledge base from YAML (once per process), with cross-reference checks.

YAML is parsed with libyaml (``yaml.CSafeLoader``) when PyYAML was built with it, keeping the
duplicate-key check. :func:`get_kb` serves the validated knowledge base from an on-disk cache keyed
by the content hash of every data file and of the code that builds it, so a process starts in
milliseconds instead of parsing ~60 YAML files; see :func:`load_cached`.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import pickle
import platform
import re
import stat
import sys
import tempfile
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


log = logging.getLogger(__name__)

_BaseSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when available (~6x faster); the constructor is PyYAML's safe one either way."""


class _UniqueKeyLoader(_BaseSafeLoader):  # type: ignore[misc,valid-type]
    """Safe loader (libyaml parser) that rejects duplicate mapping keys (YAML keeps the last)."""

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
    """Read one YAML file, turning parse errors into a KnowledgeBaseError naming the file.

    The parsed value is kept in the user cache under the hash of the file's bytes (so it is
    never stale): a cold command then reads the vocabulary files without parsing them again.
    """
    raw = path.read_bytes()
    cached = _yaml_cache_path(raw)
    if cached is not None:
        try:
            return marshal.loads(cached.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            pass  # absent or torn: parse
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: YAML parse error: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    if cached is not None:
        _write_yaml_cache(cached, data)
    return data


_YAML_CACHE_FORMAT = b"yaml-marshal-1"


def _yaml_cache_path(raw: bytes) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    h = hashlib.sha256(_YAML_CACHE_FORMAT + sys.version.encode() + b"\x00" + raw)
    return folder / f"yaml-{h.hexdigest()[:24]}.marshal"


def _write_yaml_cache(path: Path, data: Any) -> None:
    """Keep a parsed file (plain values only; anything else is simply not cached)."""
    try:
        blob = marshal.dumps(data)
    except ValueError:  # a date or another non-plain value
        return
    write_cache_file(path, blob, "parsed YAML")


def write_cache_file(path: Path, blob: bytes, what: str) -> None:
    """Write a user-cache file atomically (temp file + rename); a failure only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:12]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except Exception as exc:  # read-only home, full disk: run uncached
        log.debug("%s not cached: %s", what, type(exc).__name__)


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
    kb.version = f"{__version__}+kb.{data_digest(data_dir)[:12]}"

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
    from spineguide.knowledge.reasoning_schema import validate_reasoning_models

    validate_reasoning_models(kb, data_dir)
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


def data_digest(data_dir: Path | None = None) -> str:
    """SHA-256 over every YAML data file (relative path and bytes): the knowledge-base content id."""
    data_dir = data_dir or DATA_DIR
    digest = hashlib.sha256()
    for path in sorted(data_dir.rglob("*.yaml")):
        digest.update(str(path.relative_to(data_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# -- validated cache ------------------------------------------------------------------------------

_CACHE_MAGIC = b"SGKB1\n"
_CODE_DIRS = ("knowledge", "reasoning")
"""Packages whose source is part of the cache key: the schema, this loader and any validator the
reasoning layer runs while loading. A change to any of them rebuilds the cache."""


def cache_dir() -> Path | None:
    """Where the knowledge-base cache lives, or None when caching is off (SPINEGUIDE_KB_CACHE=0)."""
    if os.environ.get("SPINEGUIDE_KB_CACHE", "1").strip().lower() in ("0", "off", "false", "no"):
        return None
    explicit = os.environ.get("SPINEGUIDE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spineguide"


def cache_key(data_dir: Path | None = None) -> str:
    """Hash of everything the cached knowledge base depends on: data files, code, interpreter."""
    data_dir = (data_dir or DATA_DIR).resolve()
    h = hashlib.sha256()
    h.update(data_digest(data_dir).encode())
    pkg = Path(__file__).resolve().parents[1]
    for sub in _CODE_DIRS:
        for path in sorted((pkg / sub).rglob("*.py")):
            h.update(str(path.relative_to(pkg)).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
    import pydantic

    h.update(
        "|".join(
            (
                __version__,
                pydantic.VERSION,
                yaml.__version__,
                platform.python_implementation(),
                sys.version,
                str(pickle.HIGHEST_PROTOCOL),
                str(data_dir),
            )
        ).encode()
    )
    return h.hexdigest()


def _private(st: os.stat_result) -> bool:
    """Owned by this user and not writable by group or others (a cache we may unpickle)."""
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return owner_ok and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_cache(path: Path, key: str) -> KnowledgeBase | None:
    """The cached knowledge base if the file is ours, intact and for this key; else None."""
    try:
        if not (_private(path.parent.stat()) and _private(path.stat())):
            log.warning("knowledge-base cache %s ignored: not private to this user", path)
            return None
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_CACHE_MAGIC)
    if not blob.startswith(_CACHE_MAGIC) or len(blob) < head + 128:
        return None
    stored_key = blob[head : head + 64].decode("ascii", "replace")
    stored_sum = blob[head + 64 : head + 128].decode("ascii", "replace")
    payload = blob[head + 128 :]
    if stored_key != key or hashlib.sha256(payload).hexdigest() != stored_sum:
        return None  # another version, or a torn/corrupt file: rebuild
    try:
        kb = pickle.loads(payload)  # our own file (checked above), verified by its checksum
    except Exception:  # a corrupt or incompatible cache is never fatal
        return None
    return kb if isinstance(kb, KnowledgeBase) and kb.version else None


def _write_cache(path: Path, key: str, kb: KnowledgeBase) -> None:
    """Write the cache atomically (temp file + rename); any failure only costs the next start."""
    try:
        payload = pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".kb-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_CACHE_MAGIC + key.encode() + hashlib.sha256(payload).hexdigest().encode())
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in path.parent.glob("kb-*.pickle"):  # keep only the current version
            if old != path:
                old.unlink(missing_ok=True)
    except Exception as exc:  # read-only home, full disk, …: run uncached
        log.debug("knowledge-base cache not written: %s", type(exc).__name__)


def load_cached(data_dir: Path | None = None) -> KnowledgeBase:
    """The validated knowledge base, from the cache when its key matches, else loaded and cached.

    The key covers the bytes of every data file, the loader/schema/reasoning source, and the
    Python, PyYAML and pydantic versions, so a cache is never used for different data or code.
    The cache file is written atomically, read only when owned by this user and not writable by
    others, and checked against a SHA-256 of its payload; anything wrong falls back to a full load.
    """
    folder = cache_dir()
    if folder is None:
        return load_knowledge_base(data_dir)
    try:
        key = cache_key(data_dir)
    except OSError:
        return load_knowledge_base(data_dir)
    path = folder / f"kb-{key[:32]}.pickle"
    kb = _read_cache(path, key)
    if kb is not None:
        return kb
    kb = load_knowledge_base(data_dir)
    _write_cache(path, key, kb)
    return kb


@lru_cache(maxsize=1)
def get_kb() -> KnowledgeBase:
    """The process-wide knowledge base, loaded once (from the validated cache when current)."""
    return load_cached()
