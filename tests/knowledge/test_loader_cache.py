"""Knowledge-base loading: libyaml parser with the duplicate-key check, and the validated cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge import loader
from spineguide.knowledge.loader import (
    DATA_DIR,
    cache_dir,
    cache_key,
    load_cached,
    load_knowledge_base,
    read_yaml,
)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped data, safe to edit."""
    dst = tmp_path / "data"
    shutil.copytree(DATA_DIR, dst)
    return dst


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache at a fresh folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(folder))
    monkeypatch.delenv("SPINEGUIDE_KB_CACHE", raising=False)
    return folder


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("kb-*.pickle"))


def _forbid_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(data_dir: Path | None = None) -> None:
        raise AssertionError("expected a cache hit, got a full YAML load")

    monkeypatch.setattr(loader, "load_knowledge_base", boom)


def test_libyaml_parser_is_used_when_available() -> None:
    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(loader._UniqueKeyLoader, yaml.CSafeLoader)
    assert issubclass(loader._UniqueKeyLoader, (yaml.SafeLoader, getattr(yaml, "CSafeLoader", ())))


def test_duplicate_keys_rejected_with_the_c_loader(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        "- id: cauda_equina\n  name: Cauda equina syndrome\n  name: Second name\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError, match="duplicate key 'name'"):
        read_yaml(path)
    nested = tmp_path / "nested.yaml"
    nested.write_text("a:\n  b: 1\n  c: 2\n  b: 3\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="duplicate key 'b'"):
        read_yaml(nested)


def test_safe_loader_refuses_python_tags(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("x: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="YAML parse error"):
        read_yaml(path)


def test_cache_hit_equals_a_fresh_load(
    data_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_knowledge_base(data_copy)
    first = load_cached(data_copy)  # miss: builds and writes the cache
    files = _cache_files(cache)
    assert len(files) == 1
    assert oct(files[0].stat().st_mode & 0o777) == oct(0o600)
    _forbid_full_load(monkeypatch)
    second = load_cached(data_copy)  # hit
    assert second is not first
    for kb in (first, second):
        assert kb.version == fresh.version
        assert kb.conditions == fresh.conditions
        assert kb.findings == fresh.findings
        assert kb.drugs == fresh.drugs
        assert kb.raw.keys() == fresh.raw.keys()
    assert (
        second.condition("cauda-equina-syndrome").name
        == fresh.conditions["cauda-equina-syndrome"].name
    )


def test_changing_any_data_file_invalidates_the_cache(data_copy: Path, cache: Path) -> None:
    before = load_cached(data_copy)
    key_before = cache_key(data_copy)
    path = data_copy / "conditions" / "cauda-equina-syndrome.yaml"
    text = path.read_text(encoding="utf-8")
    old_name = before.conditions["cauda-equina-syndrome"].name
    assert f"name: {old_name}" in text
    path.write_text(text.replace(f"name: {old_name}", "name: Cauda equina (edited)", 1), "utf-8")
    assert cache_key(data_copy) != key_before
    after = load_cached(data_copy)
    assert after.conditions["cauda-equina-syndrome"].name == "Cauda equina (edited)"
    assert after.version != before.version
    assert len(_cache_files(cache)) == 1  # the stale entry was replaced, not kept


def test_a_new_data_file_changes_the_key(data_copy: Path) -> None:
    key = cache_key(data_copy)
    (data_copy / "omissions" / "zz_extra.yaml").write_text("[]\n", encoding="utf-8")
    assert cache_key(data_copy) != key


def test_invalid_data_is_never_served_from_cache(data_copy: Path, cache: Path) -> None:
    load_cached(data_copy)
    path = data_copy / "red_flags.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nrules: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="duplicate key"):
        load_cached(data_copy)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # torn write
        lambda b: b[:200] + bytes(x ^ 0xFF for x in b[200:260]) + b[260:],  # flipped bytes
        lambda b: b"not a cache at all",
        lambda b: b"",
    ],
)
def test_corrupt_cache_is_ignored_and_rebuilt(
    data_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, damage
) -> None:
    good = load_cached(data_copy)
    (path,) = _cache_files(cache)
    path.write_bytes(damage(path.read_bytes()))
    rebuilt = load_cached(data_copy)
    assert rebuilt.conditions == good.conditions
    _forbid_full_load(monkeypatch)
    assert load_cached(data_copy).version == good.version  # the rebuilt file is valid again


def test_unwritable_cache_location_still_loads(
    data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    kb = load_cached(data_copy)
    assert kb.conditions and not (blocker / "cache").exists()


def test_cache_writable_by_others_is_not_trusted(
    data_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_cached(data_copy)
    (path,) = _cache_files(cache)
    os.chmod(path, 0o666)
    calls = []
    real = loader.load_knowledge_base

    def counting(data_dir: Path | None = None):
        calls.append(data_dir)
        return real(data_dir)

    monkeypatch.setattr(loader, "load_knowledge_base", counting)
    load_cached(data_copy)
    assert calls == [data_copy]  # full load instead of unpickling a file others could write


def test_cache_can_be_switched_off(
    data_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPINEGUIDE_KB_CACHE", "0")
    assert cache_dir() is None
    assert load_cached(data_copy).conditions
    assert not cache.exists()


def test_atomic_write_leaves_no_temp_files(data_copy: Path, cache: Path) -> None:
    load_cached(data_copy)
    names = [p.name for p in cache.iterdir()]
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]  # no torn writes
    # the cache holds the knowledge base and the parsed files it was built from, nothing else
    assert all(
        n.startswith("kb-") or (n.startswith("yaml-") and n.endswith(".marshal")) for n in names
    )
    assert any(n.startswith("kb-") for n in names)
