"""A root named with a position word ("the adjacent L5 root", "the ipsilateral S1 root") is still
the root a lesion compresses: the qualifier sits between the verb and the root name."""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _roots(text: str) -> set[tuple[str | None, str | None, str | None]]:
    found = extract(text, "report").imaging
    return {(f.level, f.side, f.root) for f in found if f.finding == "nerve_root_compression"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Left lateral recess lesion at L4-L5 compressing the adjacent L5 root.", ("L4-L5", "left", "L5")),
        ("Disc protrusion at L4-L5 abutting the nearby left L5 nerve root.", ("L4-L5", "left", "L5")),
        ("Right paracentral extrusion at L5-S1 displacing the ipsilateral S1 root.", ("L5-S1", "right", "S1")),
        ("Left foraminal protrusion at L3-L4 contacting the neighbouring exiting L3 root.", ("L3-L4", "left", "L3")),
    ],
)  # fmt: skip
def test_qualified_root_is_read(text: str, expected: tuple[str, str, str]) -> None:
    """The compressed root, its level and side are read through the qualifier."""
    assert expected in _roots(text)


def test_negated_contact_stays_negative() -> None:
    """'No contact with the adjacent S1 root' is not a compression."""
    found = extract("At L5-S1 a small bulge without contact with the adjacent S1 root.", "report")
    assert not [f for f in found.imaging if f.finding == "nerve_root_compression" and not f.negated]
