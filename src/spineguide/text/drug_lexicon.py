"""Drug and brand names from the `drug-named-entity-recognition` dictionary, as a compact index.

Importing that library builds trigram indexes for fuzzy matching over all 107,000 name variants
(seconds of start-up and ~360 MiB per process). We only need its exact look-up of one- and
two-word names, so the variants are read once from the library's own data file into a plain
name → generic-name table, written to the user cache as text, and read from there afterwards.
The look-up behaves like the library's `find_drugs(tokens, is_ignore_case=True)`.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.metadata
import importlib.util
import itertools
import logging
import marshal
import pickle
import sys
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

_PACKAGE = "drug_named_entity_recognition"
_DATA_FILE = "drug_ner_dictionary.pkl.bz2"
_MAX_WORDS = 2  # the library matches one- and two-token names only


def _data_path() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("drug-named-entity-recognition is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _DATA_FILE


def _build(path: Path) -> dict[str, str]:
    # The library's own packaged data file, read the way the library reads it.
    data = pickle.loads(bz2.decompress(path.read_bytes()))
    canon = data["drug_canonical_to_data"]
    table: dict[str, str] = {}
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        if not canonicals or variant.count(" ") >= _MAX_WORDS or not variant.isprintable():
            continue  # longer names never match; a tab or newline is a data artefact
        first = canonicals[0]
        name = str((canon.get(first) or {}).get("name") or first)
        table[variant.lower()] = name if name.isprintable() else first
    return table


def _cache_file(path: Path) -> Path | None:
    from spineguide.knowledge.loader import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    version = importlib.metadata.version("drug-named-entity-recognition")
    st = path.stat()
    # the marshal format is the interpreter's: its version is part of the key
    parts = f"{version}|{st.st_size}|{_MAX_WORDS}|{sys.version_info[:2]}"
    key = hashlib.sha256(parts.encode()).hexdigest()[:16]
    return folder / f"drug-names-{key}.marshal"


def _read(cache: Path) -> tuple[dict[str, str], list[str]] | None:
    """The cached table and two-word first words (None: absent, torn or another format)."""
    try:
        data = marshal.loads(cache.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None  # absent or torn: rebuild
    if not isinstance(data, tuple) or len(data) != 2 or not isinstance(data[0], dict):
        return None
    table, firsts = data
    return (table, firsts) if table and isinstance(firsts, list) else None


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, str], frozenset[str]]:
    """The name table and the first words of its two-word names, from the user cache if kept."""
    path = _data_path()
    cache = _cache_file(path)
    if cache is not None:
        got = _read(cache)
        if got is not None:
            return got[0], frozenset(got[1])
    table = _build(path)
    firsts = sorted({name.split(" ", 1)[0] for name in table if " " in name})
    if cache is not None:  # marshal: plain strings, read back without running code
        from spineguide.knowledge.loader import write_cache_file

        write_cache_file(cache, marshal.dumps((table, firsts)), "drug-name index")
    return table, frozenset(firsts)


def drug_names() -> dict[str, str]:
    """Lower-case one- and two-word drug or brand names → the dictionary's generic name."""
    return _lexicon()[0]


def _two_word_firsts() -> frozenset[str]:
    """First words of the two-word names (a pair is looked up only when its first word is one)."""
    return _lexicon()[1]


def drug_name_tokens(lowered: list[str]) -> list[int]:
    """Positions of the lower-case tokens that are a dictionary name or part of a two-word one."""
    table = drug_names()  # a token has no space: as a key it is a one-word name
    firsts = _two_word_firsts()
    out: set[int] = set()
    if not table.keys().isdisjoint(lowered):
        out.update(i for i, w in enumerate(lowered) if w in table)
    for i, (a, b) in enumerate(itertools.pairwise(lowered)):
        if a in firsts and f"{a} {b}" in table:
            out.update((i, i + 1))
    return sorted(out)


def find_drug_names(tokens: list[str]) -> list[tuple[str, int, int]]:
    """Drug names among `tokens`: (generic name, first token, end token), two-word names first."""
    table = drug_names()
    firsts = _two_word_firsts()
    lowered = [t.lower() for t in tokens]
    found: list[tuple[str, int, int]] = []
    used: set[int] = set()
    for i in range(len(lowered) - 1):
        if lowered[i] not in firsts:
            continue  # no two-word name starts with this word
        name = table.get(lowered[i] + " " + lowered[i + 1])
        if name is not None:
            found.append((name, i, i + 2))
            used.update((i, i + 1))
    for i, tok in enumerate(lowered):
        if i not in used:
            name = table.get(tok)
            if name is not None:
                found.append((name, i, i + 1))
                used.add(i)
    return found
