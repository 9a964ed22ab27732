"""A parsed file's data together with where each value and key was written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from tagmgr.documents.explain import clip
from tagmgr.errors import Location, Problem

FieldPath = tuple[str | int, ...]
"""Keys and list indexes from the top of a document, e.g. ``("images", 1, "tag")``."""


class Mark(Protocol):
    """Where a YAML parser saw something start; line and column count from 0."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


def located(file: str, mark: Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class Locations(Mapping[str, Location]):
    """Field names to where they were written, each made a ``Location`` only when asked for:
    a large manifest has tens of thousands of them, and a message needs one."""

    def __init__(self, file: str, marks: Mapping[str, Mark]) -> None:
        self._file = file
        self._marks = marks

    def __getitem__(self, name: str) -> Location:
        return located(self._file, self._marks[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._marks)

    def __len__(self) -> int:
        return len(self._marks)


class LocatedDocument:
    """One file's data, where each value and key was written, and the problems found so far.

    ``values`` and ``keys`` hold the parser's marks, made locations only when a message needs one.
    ``reported`` holds paths already explained by a problem; schema errors at or under them would
    only repeat it in worse words.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.data: object = None
        self.values: dict[FieldPath, Mark] = {}
        self.keys: dict[FieldPath, Mark] = {}
        self.problems: list[Problem] = []
        self.reported: set[FieldPath] = set()

    def problem(self, location: Location, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(location, render_path(path), message))

    def reject(self, location: Location, path: FieldPath, message: str) -> None:
        """A problem that makes the value at ``path`` meaningless to check any further."""
        self.problem(location, path, message)
        self.reported.add(path)

    def is_reported(self, path: FieldPath) -> bool:
        return any(path[:length] in self.reported for length in range(len(path) + 1))

    def location(self, path: FieldPath) -> Location:
        """Where the value at ``path`` was written, else its nearest ancestor (what an alias repeats
        is located at the alias), else the start of the file."""
        values = self.values
        for length in range(len(path), -1, -1):
            mark = values.get(path[:length])
            if mark is not None:
                return located(self.file, mark)
        return Location(self.file, 1, 1)

    def key_location(self, path: FieldPath) -> Location | None:
        mark = self.keys.get(path)
        return None if mark is None else located(self.file, mark)

    def marks(self, path: FieldPath, names: Iterable[str], prefix: str = "") -> dict[str, Mark]:
        """Where the value at ``path`` ("", unless ``prefix``) and those of its keys ``names``
        (``prefix`` + name) start."""
        values = self.values
        if prefix:
            return {prefix + name: values[(*path, name)] for name in names}
        marks = {"": values[path]}
        for name in names:
            marks[name] = values[(*path, name)]
        return marks


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def render_path(path: FieldPath) -> str:
    """``("images", 1, "tag")`` -> ``images[1].tag``; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{clip(part)!r}]"
    return text
