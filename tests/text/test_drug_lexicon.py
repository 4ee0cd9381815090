"""The compact drug-name index built from drug-named-entity-recognition's dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineguide.text import drug_lexicon


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPINEGUIDE_CACHE_DIR", str(tmp_path))
    drug_lexicon._lexicon.cache_clear()
    yield tmp_path
    drug_lexicon._lexicon.cache_clear()


def test_brand_and_generic_names_resolve_to_the_generic(fresh_cache: Path) -> None:
    tokens = ["She", "takes", "Eliquis", "daily", "and", "stopped", "warfarin", "last", "year"]
    found = {(name.lower(), tokens[a]) for name, a, _ in drug_lexicon.find_drug_names(tokens)}
    assert ("apixaban", "Eliquis") in found
    assert ("warfarin", "warfarin") in found
    assert not any(tok in ("daily", "year", "She") for _, tok in found)


def test_index_is_cached_and_reread(fresh_cache: Path) -> None:
    first = drug_lexicon.drug_names()
    files = list(fresh_cache.glob("drug-names-*.marshal"))
    assert len(files) == 1
    drug_lexicon._lexicon.cache_clear()
    assert drug_lexicon.drug_names() == first
    assert "apixaban" in first and drug_lexicon._two_word_firsts()


def test_a_torn_cache_file_is_rebuilt(fresh_cache: Path) -> None:
    drug_lexicon.drug_names()
    (cache,) = fresh_cache.glob("drug-names-*.marshal")
    whole = cache.read_bytes()
    cache.write_bytes(whole[: len(whole) // 2])  # a torn write
    drug_lexicon._lexicon.cache_clear()
    table = drug_lexicon.drug_names()
    assert len(table) > 10_000
    assert cache.read_bytes() == whole  # rewritten in full


def test_whole_note_pass_finds_the_words_of_single_and_two_word_names() -> None:
    one = set(drug_lexicon.drug_names())
    two = next(name for name in one if " " in name and name.split(" ")[1] not in one)
    first, second = two.split(" ", 1)
    assert drug_lexicon.drug_name_tokens(["on", "apixaban", "5", "mg"]) == [1]
    assert drug_lexicon.drug_name_tokens(["takes", first, second, "daily"])[-1] == 2
    assert drug_lexicon.drug_name_tokens(["back", "pain", "after", "lifting", "a", "box"]) == []


def test_only_sentences_naming_a_medicine_are_read_for_one() -> None:
    from spineguide.text.medications import find_medications

    note = (
        "Low back pain for 3 weeks after lifting. No leg symptoms. "
        "Stopped taking warfarin last year. Now on co-codamol and blood thinners."
    )
    found = [(m.name, m.negated, m.historical) for m in find_medications(note)]
    assert [f[0] for f in found] == ["warfarin", "co-codamol", "blood thinners"]
    assert found[0][1] or found[0][2]  # the stopped anticoagulant is not current


def test_a_note_without_medicines_has_no_mentions_and_one_with_them_keeps_them() -> None:
    from spineguide.text.medications import find_medications

    assert find_medications("Back pain for two weeks. No leg symptoms. Walks 2 miles.") == []
    found = find_medications("Sciatica. Takes Eliquis 5 mg twice daily; stopped naproxen.")
    assert [(m.name, m.negated) for m in found] == [("Eliquis", False), ("naproxen", True)]
