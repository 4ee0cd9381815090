"""A literal index read back from the user cache answers exactly as the one built from the
patterns, and a different pattern list never reads another list's index."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineguide.text.prefilter import LiteralIndex

PATTERNS = [
    r"saddle (?:numbness|an(?:a)?esthesia)",
    r"(?:urinary|urine) retention",
    r"weak(?:ness)? (?:of|in) (?:both|the) legs",
    r"fever|febrile|pyrexi\w+",
    r"\d+ ?kg weight loss",
]
NOTES = [
    "new saddle numbness and urinary retention since this morning",
    "febrile 38.9 with weakness of both legs",
    "lost 6 kg weight loss over two months; no fever",
    "mechanical back pain only",
]


def test_cached_index_answers_like_the_built_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build (and cache), then read back: the same candidates and positions for every note."""
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SPINEGUIDE_KB_CACHE", raising=False)
    built = LiteralIndex(PATTERNS)
    assert list(tmp_path.glob("prefilter-index-*.marshal"))
    cached = LiteralIndex(PATTERNS)
    for note in NOTES:
        low = note.lower()
        assert cached.candidates(low) == built.candidates(low)
        hits_a, hits_b = built.hits(low), cached.hits(low)
        assert hits_a.candidates == hits_b.candidates
        for i in range(len(PATTERNS)):
            assert hits_a.starts(i) == hits_b.starts(i)
    assert 0 in cached.candidates(NOTES[0]) and 3 in cached.candidates(NOTES[1])


def test_another_pattern_list_builds_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changing one pattern changes the key, so the old index is not reused."""
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(tmp_path))
    LiteralIndex(PATTERNS)
    changed = [*PATTERNS[:-1], r"night sweats"]
    index = LiteralIndex(changed)
    assert 4 in index.candidates("drenching night sweats")
    assert 4 not in index.candidates("lost 6 kg weight loss")
    assert len(list(tmp_path.glob("prefilter-index-*.marshal"))) == 2
