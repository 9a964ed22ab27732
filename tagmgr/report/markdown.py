"""Markdown pieces for cells and lines, GitHub-flavoured (a PR comment, a job summary).

What a registry, a file or a manifest says is text, never markup: ``plain`` escapes every
character Markdown or HTML would act on, so a message cannot add a link, an image or a tag to
a comment. References, digests and paths go in code spans (``code``), which render nothing.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>~&#!])")
_TICKS = re.compile(r"`+")


def plain(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("\n", "<br>")


def code(text: str) -> str:
    """``text`` as a code span, fenced with more backticks than any run inside it."""
    if not text:
        return ""
    if "`" not in text and "\n" not in text:
        return f"`{text}`"
    fence = "`" * (max((len(run) for run in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace(chr(10), ' ')}{pad}{fence}"


def table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """A table's lines; ``|`` in a cell is escaped, as GitHub splits cells before code spans."""

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(columns), "|" + "---|" * len(columns), *map(line, rows)]
