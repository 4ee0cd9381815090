"""Parsed YAML is cached under the hash of the file's bytes: a changed file is read afresh, a bad
file still fails with a clear error, and caching can be turned off."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineguide.errors import KnowledgeBaseError
from spineguide.knowledge.loader import read_yaml


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(folder))
    monkeypatch.delenv("SPINEGUIDE_KB_CACHE", raising=False)
    return folder


def test_second_read_comes_from_the_cache_and_matches(cache: Path, tmp_path: Path) -> None:
    """The cached value equals the parsed one."""
    f = tmp_path / "v.yaml"
    f.write_text("terms: [bulge, protrusion]\nlimit: 2.5\nnested: {a: 1, b: null}\n")
    first = read_yaml(f)
    assert len(list(cache.glob("yaml-*.marshal"))) == 1
    assert (
        read_yaml(f)
        == first
        == {
            "terms": ["bulge", "protrusion"],
            "limit": 2.5,
            "nested": {"a": 1, "b": None},
        }
    )


def test_an_edited_file_is_never_read_stale(cache: Path, tmp_path: Path) -> None:
    """Changing one value gives the new value at once."""
    f = tmp_path / "v.yaml"
    f.write_text("threshold: 50\n")
    assert read_yaml(f) == {"threshold": 50}
    f.write_text("threshold: 100\n")
    assert read_yaml(f) == {"threshold": 100}


def test_duplicate_keys_still_fail_and_are_not_cached(cache: Path, tmp_path: Path) -> None:
    """A duplicate key is a KnowledgeBaseError naming the file, every time."""
    f = tmp_path / "dup.yaml"
    f.write_text("a: 1\na: 2\n")
    for _ in range(2):
        with pytest.raises(KnowledgeBaseError, match=r"dup\.yaml.*duplicate key"):
            read_yaml(f)
    assert not list(cache.glob("yaml-*.marshal"))


def test_non_plain_values_are_read_but_not_cached(cache: Path, tmp_path: Path) -> None:
    """A YAML date cannot be cached as a plain value; it is still read correctly."""
    f = tmp_path / "d.yaml"
    f.write_text("reviewed: 2024-03-01\n")
    assert str(read_yaml(f)["reviewed"]) == "2024-03-01"
    assert not list(cache.glob("yaml-*.marshal"))


def test_cache_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPINEGUIDE_KB_CACHE=0 parses every time and writes no file."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(folder))
    monkeypatch.setenv("SPINEGUIDE_KB_CACHE", "0")
    f = tmp_path / "v.yaml"
    f.write_text("x: 1\n")
    assert read_yaml(f) == {"x": 1}
    assert not folder.exists()
