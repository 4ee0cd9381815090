"""Shared fixtures for the ingestion tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
ARTICLES = ROOT / "tests" / "data" / "articles"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The real seed articles; tests using it skip when the folder is absent."""
    if not SEEDS.is_dir() or not list(SEEDS.glob("*.txt")):
        pytest.skip("../shared/seeds is not available")
    return SEEDS


@pytest.fixture(scope="session")
def articles_dir() -> Path:
    """Synthetic articles written for these tests."""
    return ARTICLES
