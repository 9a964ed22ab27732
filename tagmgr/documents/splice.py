"""Byte-range edits of reviewed text: only the characters in each span change, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (character offsets, as PyYAML's marks count) with ``text``."""

    start: int
    end: int
    text: str


def splice(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with every edit made; edits must not overlap. Two insertions at one place go in
    the reverse of their order in ``edits``. Joined once: a copy of the text per edit made a
    large file's edits quadratic."""
    pieces, end = [], len(text)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        pieces += [text[edit.end : end], edit.text]
        end = edit.start
    pieces.append(text[:end])
    return "".join(reversed(pieces))
