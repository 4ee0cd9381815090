"""Shared fixtures: the loaded knowledge base and paths to the shared development sets."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def kb():
    """The real knowledge base, loaded once per test session."""
    from spineguide.knowledge.loader import get_kb

    return get_kb()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder beside the project (skip tests that need it when absent)."""
    if not SHARED.exists():
        pytest.skip("../shared is not present in this checkout")
    return SHARED
