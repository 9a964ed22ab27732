"""Path globs a team reviews (``--ignore FILE``): paths whose differences are not changes.

A pattern is matched against the whole normalised path (``usr/lib/x.pyc``: no leading ``/`` or
``./``), component by component:

- ``*`` matches any run of characters within one component, ``?`` one character, ``[abc]`` and
  ``[!abc]`` one character of (or not of) a set; none of them ever matches ``/``;
- ``**`` as a whole component matches zero or more components: ``var/log/**`` matches
  ``var/log`` and everything below it, ``**/__pycache__/**`` a ``__pycache__`` directory at any
  depth and everything below it, ``**/*.pyc`` every ``.pyc`` file; ``**`` inside a component
  (``a**``) is refused;
- a leading ``/`` or ``./`` is dropped: patterns are always anchored at the root.

One pattern per line; blank lines and lines starting with ``#`` are skipped, and a pattern with a
character a reviewer cannot see (``documents.hidden``) is refused, as in every reviewed file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tagmgr.documents.loader import DocumentKind, load_lines
from tagmgr.documents.yamldoc import YamlRules
from tagmgr.errors import IgnoreError, Problem

_ANY_COMPONENTS = "**"
MAX_IGNORE_BYTES = 1024 * 1024  # a list a team reviews; far more than any such list needs
IGNORE_FILE = DocumentKind(YamlRules(noun="ignore file"), IgnoreError, MAX_IGNORE_BYTES)


@dataclass(frozen=True)
class IgnoreRules:
    patterns: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = None

    def ignores(self, path: str) -> bool:
        return self._regex is not None and self._regex.fullmatch(path) is not None


def compile_patterns(patterns: list[str]) -> IgnoreRules:
    """Rules from patterns already checked (``pattern_problem`` gave None for each)."""
    if not patterns:
        return IgnoreRules()
    regex = "|".join(f"(?:{_translate(p)})" for p in patterns)
    return IgnoreRules(tuple(patterns), re.compile(regex, re.DOTALL))


def load_ignore_file(path: str) -> IgnoreRules:
    patterns, problems = [], []
    for where, pattern in load_lines(path, IGNORE_FILE):
        problem = pattern_problem(pattern)
        if problem:
            problems.append(Problem(where, "", problem))
        patterns.append(pattern)
    if problems:
        raise IgnoreError(problems)
    return compile_patterns(patterns)


def pattern_problem(pattern: str) -> str | None:
    for component in _components(pattern):
        if _ANY_COMPONENTS in component and component != _ANY_COMPONENTS:
            return f"{pattern!r}: '**' must be a whole path component, as in 'a/**/b'"
        if component.count("[") != component.count("]"):
            return f"{pattern!r}: a '[' without its ']'"
    if not _components(pattern):
        return f"{pattern!r}: names no path"
    return None


def _components(pattern: str) -> list[str]:
    pattern = pattern.removeprefix("./").lstrip("/")
    parts: list[str] = []
    for part in pattern.split("/"):
        repeated = part == _ANY_COMPONENTS and parts[-1:] == [_ANY_COMPONENTS]
        if part not in {"", "."} and not repeated:
            parts.append(part)
    return parts


def _translate(pattern: str) -> str:
    parts = _components(pattern)
    regex = ""
    for index, part in enumerate(parts):
        if part == _ANY_COMPONENTS:
            if len(parts) == 1:
                return ".+"
            # At the start: any components, each with its '/'; later: each with the '/' before it.
            regex += "(?:[^/]+/)*" if index == 0 else "(?:/[^/]+)*"
            continue
        after_leading_any = index == 1 and parts[0] == _ANY_COMPONENTS
        regex += ("" if index == 0 or after_leading_any else "/") + _component(part)
    return regex


def _component(part: str) -> str:
    regex, position = "", 0
    while position < len(part):
        char = part[position]
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "[":
            end = part.index("]", position + 1)
            members = part[position + 1 : end]
            negated = members.startswith("!")
            # Ranges (a-z) stay ranges; only what a regex class would read otherwise is escaped.
            members = re.sub(r"([\\\[\]^])", r"\\\1", members.removeprefix("!"))
            regex += f"[^/{members}]" if negated else f"(?!/)[{members}]"
            position = end
        else:
            regex += re.escape(char)
        position += 1
    return regex
