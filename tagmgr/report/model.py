"""What every reporter renders: a command's results as one ``Report``, whatever the format.

A command group's module in this package turns its results into a ``Report`` (the records a
JSON document holds, the counts, the lines a person reads, the cells of a Markdown table, the
problems and where they are); the formats in ``formats`` render any ``Report``. So a command
never formats, and every format says the same things.

Named tuples, not dataclasses: ``validate`` renders one of these on every commit (see
``tests/unit/commands/test_light_imports.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from tagmgr.errors import Location


class Place(NamedTuple):
    """Where something is: the location record every report uses. Parts not known are None."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    @classmethod
    def at(cls, location: Location, field: str | None = None) -> Place:
        return cls(location.file, location.line, location.column, field)

    def record(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "field": self.field}

    def __str__(self) -> str:
        """``file:line:column: field``, each part only when known."""
        where = ":".join(str(part) for part in (self.file, self.line, self.column) if part)
        return ": ".join(part for part in (where, self.field) if part)


class Located(NamedTuple):
    """A problem and the place it is about: ``file:line:column: field: message``."""

    place: Place
    message: str

    def record(self) -> dict[str, Any]:
        return {**self.place.record(), "message": self.message}

    def __str__(self) -> str:
        where = str(self.place)
        return f"{where}: {self.message}" if where else self.message


class Row(NamedTuple):
    """One item of a report: its text lines and its Markdown table cells (either may be empty).

    ``change`` is False for an item that changes nothing and is no problem (a tag present, a
    locked tag unchanged): ``--quiet`` leaves those out and counts them by ``kind``.
    """

    text: str
    cells: tuple[str, ...] = ()
    change: bool = True
    kind: str = ""


class Report(NamedTuple):
    """One command's results, ready for any format.

    ``results`` are the JSON document's own keys (between ``command`` and ``summary``);
    ``summary`` counts everything it counts, zeros included. ``summary_line`` is the text's last
    line (``plan: 1 to create, ...``) after the command's name, and the Markdown's first;
    ``headline`` stands in for it in Markdown when the text has none. ``warnings`` go to
    stderr whatever the format. ``step_summary`` is False for output that is data for a
    program (a schema, shell variables), which a CI job summary has no use for.
    """

    command: str
    results: dict[str, Any]
    summary: dict[str, int]
    rows: tuple[Row, ...] = ()
    columns: tuple[str, ...] = ()
    summary_line: str | None = None
    headline: str = ""
    problems: tuple[Located, ...] = ()
    warnings: tuple[str, ...] = ()
    step_summary: bool = True


class Options(NamedTuple):
    """How to render: ``--output``, ``--quiet``, ``--verbose``."""

    format: str = "text"
    quiet: bool = False
    verbose: int = 0


TEXT = Options()


def many(count: int, noun: str, nouns: str = "") -> str:
    """``1 image``, ``2 images``; ``nouns`` for a plural that is not ``noun + s``."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def counted(names: Iterable[object], values: Iterable[object]) -> dict[str, int]:
    """A count for every name in ``names`` (zeros included), of the names in ``values``."""
    counts = dict.fromkeys(map(str, names), 0)
    for value in values:
        counts[str(value)] += 1
    return counts
