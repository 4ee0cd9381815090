"""Password policy: a minimum length, no common or easily guessed password, not the username."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
MAX_LENGTH = 1024
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def _is_sequence(text: str) -> bool:
    """True for one repeated character or a straight run like abcdef / 987654."""
    if len(set(text)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def password_problems(
    password: str, username: str | None = None, min_length: int = 12
) -> list[str]:
    """Why a password is refused (empty list: acceptable)."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"use at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"use at most {MAX_LENGTH} characters")
    if "\x00" in password or any(0xD800 <= ord(c) <= 0xDFFF for c in password):
        problems.append("remove NUL or invalid characters")
    lowered = password.lower().strip()
    stem = _TRAILING.sub("", lowered)
    listed = common_passwords()
    if lowered in listed or stem in listed or (len(stem) >= 4 and _is_sequence(stem)):
        problems.append("this password is too common or too easy to guess; choose another")
    elif _is_sequence(lowered) or not stem:
        problems.append("do not use only digits, a repeated character or a straight sequence")
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append("do not include the username in the password")
    return problems
