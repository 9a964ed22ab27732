"""What a team declares is not a change (``--ignore FILE``): paths, and configuration fields.

One rule per line; blank lines and lines starting with ``#`` are skipped, and a rule with a
character a reviewer cannot see (``documents.hidden``) is refused, as in every reviewed file.
A rule is ``KIND:PATTERN``, or a path pattern alone:

- ``PATTERN`` or ``path:PATTERN``: a path of the filesystem, matched against the whole
  normalised path (``usr/lib/x.pyc``: no leading ``/`` or ``./``), component by component.
  ``*`` matches any run of characters within one component, ``?`` one character, ``[abc]``,
  ``[a-z]`` and ``[!abc]`` one character of (or not of) a set; none of them ever matches ``/``.
  ``**`` as a whole component matches zero or more components (``var/log/**``: ``var/log`` and
  everything below it; ``**/*.pyc``: every ``.pyc`` file); inside a component (``a**``) it is
  refused. A leading ``/`` or ``./`` is dropped: patterns are anchored at the root.
- ``label:PATTERN``, ``env:PATTERN``, ``port:PATTERN``, ``volume:PATTERN``: a config label,
  environment variable, exposed port (``8080/tcp``) or volume by name; here ``*`` matches any
  run of characters, ``.`` and ``/`` included (``label:org.opencontainers.image.*``).
- ``config:FIELD``: a whole config field (``config:Healthcheck``, ``config:Labels``).

A ``WORD:`` that is none of these kinds is refused, so a misspelt kind never quietly becomes a
path; a path whose first component has a ``:`` is written ``path:a:b``. Each pattern is compiled
when the file is read (a bad one is reported at its line and column) and matched by
``changes.glob``, in time linear in the text matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tagmgr.changes.config import CONFIG_FIELDS
from tagmgr.changes.glob import (
    GlobError,
    Matcher,
    Node,
    Seq,
    Star,
    any_but,
    literal,
    one_or_more,
    parse_word,
)
from tagmgr.documents.loader import DocumentKind, load_lines
from tagmgr.documents.yamldoc import YamlRules
from tagmgr.errors import IgnoreError, Location, Problem

_ANY_COMPONENTS = "**"
PATH = "path"
CONFIG = "config"
NAME_KINDS = {"label": "Labels", "env": "Env", "port": "ExposedPorts", "volume": "Volumes"}
"""Each kind of name rule, and the config field (``config.NAMED_FIELDS``) whose names it matches."""
KINDS = (PATH, *NAME_KINDS, CONFIG)
_KIND = re.compile(r"([a-z][a-z-]*):(.*)", re.DOTALL)
MAX_IGNORE_BYTES = 1024 * 1024  # a list a team reviews; far more than any such list needs
# A pipe is read too: ``--ignore <(printf 'var/log/**\n')``.
IGNORE_FILE = DocumentKind(
    YamlRules(noun="ignore file"), IgnoreError, MAX_IGNORE_BYTES, regular_only=False
)


@dataclass(frozen=True)
class Rule:
    text: str  # as written, ``label:org.opencontainers.image.*``; what a report names
    kind: str
    pattern: str


class IgnoreRules:
    """Rules compiled into one matcher per kind; ``*_rule`` says which rule ignores a thing."""

    def __init__(self, rules: Sequence[Rule] = ()) -> None:
        self.rules = tuple(rules)
        self._matchers: dict[str, tuple[Matcher, list[Rule]]] = {}
        for kind in (PATH, *NAME_KINDS):
            chosen = [rule for rule in self.rules if rule.kind == kind]
            if chosen:
                nodes = [_compile(rule) for rule in chosen]
                self._matchers[kind] = (Matcher(nodes), chosen)
        self._fields = {rule.pattern: rule for rule in reversed(self.rules) if rule.kind == CONFIG}

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(rule.text for rule in self.rules)

    def path_rule(self, path: str) -> Rule | None:
        return self._first(PATH, path)

    def config_rule(self, field: str, name: str | None = None) -> str | None:
        """The rule (as written) that ignores config ``field``, or its entry ``name``."""
        rule = self._fields.get(field)
        if rule is None and name is not None:
            kind = next((k for k, named in NAME_KINDS.items() if named == field), None)
            rule = self._first(kind, name) if kind else None
        return rule.text if rule else None

    def _first(self, kind: str, text: str) -> Rule | None:
        found = self._matchers.get(kind)
        if found is None:
            return None
        matcher, rules = found
        index = matcher.first_match(text)
        return None if index is None else rules[index]


def compile_rules(lines: Sequence[str]) -> IgnoreRules:
    """Rules from lines already checked (``rule_problem`` gave None for each)."""
    return IgnoreRules([_rule(line) for line in lines])


def load_ignore_file(path: str) -> IgnoreRules:
    rules, problems = [], []
    for where, line in load_lines(path, IGNORE_FILE):
        problem = rule_problem(line)
        if problem:
            message, offset = problem
            located = Location(where.file, where.line, where.column + offset)
            problems.append(Problem(located, "", f"{line!r}: {message}"))
        else:
            rules.append(_rule(line))
    if problems:
        raise IgnoreError(problems)
    return IgnoreRules(rules)


def rule_problem(line: str) -> tuple[str, int] | None:
    """What is wrong with a rule, and at which character of the line; None if nothing is."""
    rule = _rule(line)
    offset = len(line) - len(rule.pattern)
    if rule.kind not in KINDS:
        kinds = ", ".join(f"{kind}:" for kind in KINDS)
        return f"unknown kind '{rule.kind}:'; one of {kinds} (or path:{line} for a path)", 0
    if rule.kind == CONFIG:
        if rule.pattern not in CONFIG_FIELDS:
            return f"no config field {rule.pattern!r}; one of {', '.join(CONFIG_FIELDS)}", offset
        return None
    if not rule.pattern:
        return "names nothing", offset
    try:
        _compile(rule)
    except GlobError as error:
        return str(error), offset + error.position
    return None


def _rule(line: str) -> Rule:
    found = _KIND.fullmatch(line)
    if found is None:
        return Rule(line, PATH, line)
    return Rule(line, found[1], found[2])


def _compile(rule: Rule) -> Node:
    if rule.kind == PATH:
        return _path_pattern(rule.pattern)
    return parse_word(rule.pattern)


def _path_pattern(pattern: str) -> Node:
    parts = _components(pattern)
    if not parts:
        raise GlobError("names no path")
    if [part for _, part in parts] == [_ANY_COMPONENTS]:
        return one_or_more(any_but(""))
    component = one_or_more(any_but("/"))
    nodes: list[Node] = []
    for index, (offset, part) in enumerate(parts):
        if part == _ANY_COMPONENTS:
            # At the start: any components, each with its '/'; later: each with the '/' before it.
            parts_of_one = (component, literal("/")) if index == 0 else (literal("/"), component)
            nodes.append(Star(Seq(parts_of_one)))
            continue
        if _ANY_COMPONENTS in part:
            where = offset + part.index(_ANY_COMPONENTS)
            raise GlobError("'**' must be a whole path component, as in 'a/**/b'", where)
        after_leading_any = index == 1 and parts[0][1] == _ANY_COMPONENTS
        if index > 0 and not after_leading_any:
            nodes.append(literal("/"))
        try:
            nodes.append(parse_word(part, "/"))
        except GlobError as error:
            raise GlobError(str(error), offset + error.position) from None
    return Seq(tuple(nodes))


def _components(pattern: str) -> list[tuple[int, str]]:
    """Each component and where it starts; empty and ``.`` components, a repeated ``**`` and so
    a leading ``/`` or ``./`` are left out."""
    parts: list[tuple[int, str]] = []
    offset = 0
    for part in pattern.split("/"):
        repeated = part == _ANY_COMPONENTS and [p for _, p in parts[-1:]] == [_ANY_COMPONENTS]
        if part not in {"", "."} and not repeated:
            parts.append((offset, part))
        offset += len(part) + 1
    return parts
