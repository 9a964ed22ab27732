"""A parsed file's data together with where each value and key was written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tagmgr.errors import Location, Problem
from tagmgr.manifest.explain import clip

FieldPath = tuple[str | int, ...]
"""Keys and list indexes from the top of a document, e.g. ``("images", 1, "tag")``."""


@dataclass
class LocatedDocument:
    """One file's data, where each value and key was written, and the problems found so far.

    ``reported`` holds paths already explained by a problem; schema errors at or under them would
    only repeat it in worse words.
    """

    file: str
    data: object = None
    values: dict[FieldPath, Location] = field(default_factory=dict)
    keys: dict[FieldPath, Location] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    reported: set[FieldPath] = field(default_factory=set)

    def problem(self, location: Location, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(location, render_path(path), message))

    def reject(self, location: Location, path: FieldPath, message: str) -> None:
        """A problem that makes the value at ``path`` meaningless to check any further."""
        self.problem(location, path, message)
        self.reported.add(path)

    def is_reported(self, path: FieldPath) -> bool:
        return any(path[:length] in self.reported for length in range(len(path) + 1))

    def location(self, path: FieldPath) -> Location:
        return self.values.get(path) or self.values.get(()) or Location(self.file, 1, 1)


def render_path(path: FieldPath) -> str:
    """``("images", 1, "tag")`` -> ``images[1].tag``; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{clip(part)!r}]"
    return text
