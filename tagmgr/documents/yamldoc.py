"""YAML text to plain values with locations, refusing whatever YAML would silently change.

What gets through is mappings with text keys, lists and text: every scalar stays the text that was
written. A plain scalar that YAML would turn into a number, boolean, date or null (read as YAML 1.1
by PyYAML, or as YAML 1.2 by editors and other tools) is a problem, and so are duplicate keys,
anchors, aliases, explicit tags and a second document. This works on parser events and never
builds a node graph: aliases are never expanded, and nesting is refused before it costs recursion.

The events come from libyaml's C parser when PyYAML was built with it (as PyPI's wheels are), else
from PyYAML's pure-Python one, about ten times slower; both give the same events and marks, so every
check above holds with either (the tests run under both).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol, TypeGuard, cast

import yaml
from yaml.error import MarkedYAMLError
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from tagmgr.documents.explain import clip
from tagmgr.documents.hidden import hidden_character
from tagmgr.documents.located import FieldPath, LocatedDocument, Mark
from tagmgr.documents.yamltraps import (
    YAML_READINGS_START,
    YAML_TAG_PREFIX,
    is_null,
    plain_scalar_trap,
)
from tagmgr.errors import Location

MAX_DEPTH = 16
"""Collections nested deeper than this are refused; a manifest needs four levels."""

ANY_INDEX = -1
"""In a ``nullable`` path, any list index: ``("images", ANY_INDEX, "version")``."""

_NOT_YAML_CHARS = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _EventParser(Protocol):
    """What PyYAML's ``Parser`` and libyaml's ``CParser`` both offer, untyped in PyYAML."""

    def get_event(self) -> Event: ...
    def peek_event(self) -> Event: ...
    def check_event(self, *choices: type[Event]) -> bool: ...


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's reading, scanning and parsing, without resolver, composer or constructor."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


PARSERS: dict[str, Callable[[str], _EventParser]] = {"pure": _PureParser}
if yaml.__with_libyaml__:
    from yaml._yaml import CParser  # what yaml.cyaml offers, from where its stub declares it

    # Its stub says events may be None; they are not before the stream ends, where reading stops.
    PARSERS["libyaml"] = lambda text: cast(_EventParser, CParser(text))
PARSER = "libyaml" if "libyaml" in PARSERS else "pure"
"""The name of the parser ``parse_yaml`` uses: the fastest one installed."""


def parse_yaml(
    file: str,
    text: str,
    *,
    nullable: frozenset[FieldPath] = frozenset(),
    noun: str = "manifest",
) -> LocatedDocument:
    """Read ``text``; a plain null (empty, ``~``, ``null``) is allowed only at ``nullable`` paths.

    A null allowed there becomes None in the data; anywhere else it is a problem. ``noun`` names
    the file in messages.
    """
    doc = LocatedDocument(file)
    try:
        _check_characters(file, text)
        _Builder(doc, text, nullable, noun).build()
    except _Fatal as fatal:
        _fail(doc, fatal.location, str(fatal))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        _fail(doc, _location(file, mark), _syntax_message(error, text))
    return doc


class _Fatal(Exception):
    """A problem after which the rest of the file cannot be read."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location


def _fail(doc: LocatedDocument, location: Location, message: str) -> None:
    doc.data = None
    doc.reject(location, (), message)


def _check_characters(file: str, text: str) -> None:
    found = _NOT_YAML_CHARS.search(text)
    if not found:
        return
    offset = found.start()
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    if found.group() == "\0":
        message = "the file contains a NUL byte; it looks binary, not like YAML text"
    else:
        message = f"control character U+{ord(found.group()):04X} is not allowed in YAML"
    raise _Fatal(Location(file, line, column), message)


def _syntax_message(error: MarkedYAMLError, text: str) -> str:
    problem = error.problem or "cannot be parsed"
    mark, problem_mark = error.context_mark, error.problem_mark
    if "cannot start any token" in problem and problem_mark and _at(text, problem_mark) == "\t":
        return "YAML syntax error: a tab cannot start a token here; indent with spaces, not tabs"
    if "maximum nesting depth" in problem:  # libyaml's own limit, far above MAX_DEPTH
        return _too_deep()
    message = f"YAML syntax error: {problem}"
    if error.context and mark and problem_mark and mark.index != problem_mark.index:
        message += f" ({error.context} at line {mark.line + 1}, column {mark.column + 1})"
    return message


class _Mark(Protocol):
    line: int
    column: int
    index: int


def _at(text: str, mark: _Mark) -> str:
    return text[mark.index : mark.index + 1]


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; a manifest needs 4"


def _location(file: str, mark: _Mark | None) -> Location:
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def _is_plain(event: ScalarEvent) -> bool:
    """Unquoted and untagged: PyYAML's parser says style None for plain, libyaml's says ''."""
    return not event.style and event.tag is None


def _is_nothing(event: Event) -> bool:
    """The end of the stream, or a document that is only an empty plain scalar."""
    if isinstance(event, ScalarEvent):
        return event.value == "" and _is_plain(event) and event.anchor is None
    return isinstance(event, StreamEndEvent)


class _Builder:
    """Plain values from events; a location is made only for a problem."""

    def __init__(
        self, doc: LocatedDocument, text: str, nullable: frozenset[FieldPath], noun: str
    ) -> None:
        self.doc = doc
        parser = PARSERS[PARSER](text)
        self.next_event = parser.get_event
        self.upcoming = parser.peek_event
        self.check_event = parser.check_event
        self.nullable = nullable
        self.null_keys = {path[-1] for path in nullable if path}  # a cheap test for most values
        self.noun = noun
        self.values = doc.values

    def location(self, event: Event) -> Location:
        return _location(self.doc.file, event.start_mark)

    def build(self) -> None:
        self.next_event()  # StreamStartEvent
        if self.check_event(DocumentStartEvent):
            self.next_event()
        if _is_nothing(self.upcoming()):
            message = f"the file is empty; a {self.noun} is a mapping with an 'images:' list"
            self.doc.reject(Location(self.doc.file, 1, 1), (), message)
            return
        self.doc.data = self.node(self.next_event(), (), 0)
        self.next_event()  # DocumentEndEvent
        if self.check_event(DocumentStartEvent):
            self.doc.problem(
                self.location(self.upcoming()),
                (),
                f"a {self.noun} holds one YAML document, and a second one starts here;"
                " remove this '---' or split the file",
            )

    def node(self, event: Event, path: FieldPath, depth: int) -> object:
        """The value of ``event``, where the grammar expects a node: a scalar, an alias or a
        collection (whose events it reads to the end)."""
        self.values.setdefault(path, cast(Mark, event.start_mark))
        if isinstance(event, AliasEvent):
            anchor = clip(event.anchor or "")
            message = f"YAML alias '*{anchor}' is not allowed; write the value out"
            self.doc.reject(self.location(event), path, message)
            return None
        node = cast(ScalarEvent | CollectionStartEvent, event)
        if node.anchor is not None:
            self.refuse_anchor(node, path)
        if node.tag is not None:
            self.refuse_tag(node, path)
        if isinstance(node, ScalarEvent):
            if path and path[-1] in self.null_keys and self.allows_null(path, node):
                return None
            self.check_text(node, path, is_key=False)
            return node.value
        if depth >= MAX_DEPTH:
            raise _Fatal(self.location(event), _too_deep())
        if isinstance(node, SequenceStartEvent):
            return self.sequence(path, depth + 1)
        return self.mapping(path, depth + 1)

    def allows_null(self, path: FieldPath, event: ScalarEvent) -> bool:
        if not _is_plain(event) or not is_null(event.value):
            return False
        return tuple(ANY_INDEX if isinstance(step, int) else step for step in path) in self.nullable

    def sequence(self, path: FieldPath, depth: int) -> list[object]:
        items: list[object] = []
        next_event = self.next_event
        while type(event := next_event()) is not SequenceEndEvent:
            items.append(self.node(event, (*path, len(items)), depth))
        return items

    def mapping(self, path: FieldPath, depth: int) -> dict[str, object]:
        """The common scalar, clean text under a key that is never null, is taken here; anything
        else goes through ``key`` and ``node``, which check it."""
        result: dict[str, object] = {}
        keys, values, next_event = self.doc.keys, self.values, self.next_event
        while type(event := next_event()) is not MappingEndEvent:
            key = event.value if _is_clean_text(event) else self.key(event, path)
            child = (*path, key)
            value_event = next_event()
            if _is_clean_text(value_event) and key not in self.null_keys:
                values.setdefault(child, cast(Mark, value_event.start_mark))
                value: object = value_event.value
            else:
                value = self.node(value_event, child, depth)
            if key not in result:
                result[key] = value
                keys[child] = cast(Mark, event.start_mark)
            else:
                first = keys[child].line + 1
                message = f"duplicate key {clip(key)!r}; the first one is at line {first}"
                self.doc.problem(self.location(event), child, message)
        return result

    def key(self, event: Event, path: FieldPath) -> str:
        if not isinstance(event, ScalarEvent):
            raise _Fatal(
                self.location(event),
                "a mapping key must be plain text, not an alias, list or mapping",
            )
        if event.anchor is not None:
            self.refuse_anchor(event, (*path, event.value))
        if event.tag is not None:
            self.refuse_tag(event, (*path, event.value))
        self.check_text(event, (*path, event.value), is_key=True)
        return event.value

    def refuse_anchor(self, event: ScalarEvent | CollectionStartEvent, path: FieldPath) -> None:
        anchor = clip(event.anchor or "")
        message = f"YAML anchor '&{anchor}' is not allowed; write each value out"
        self.doc.problem(self.location(event), path, message)

    def refuse_tag(self, event: ScalarEvent | CollectionStartEvent, path: FieldPath) -> None:
        tag = event.tag or ""
        if tag.startswith(YAML_TAG_PREFIX):
            tag = "!!" + tag.removeprefix(YAML_TAG_PREFIX)
        message = f"YAML tag {clip(tag)!r} is not allowed; write plain values"
        self.doc.reject(self.location(event), path, message)

    def check_text(self, event: ScalarEvent, path: FieldPath, *, is_key: bool) -> None:
        message = _text_problem(event.value, _is_plain(event), is_key)
        if message:
            self.doc.reject(self.location(event), path, message)


_QUOTED_TEXT = re.compile(r"[\x20-\x7e]*")
"""Printable ASCII: no hidden character, so nothing to refuse in a quoted scalar."""
_PLAIN_TEXT = re.compile(rf"(?![{re.escape(YAML_READINGS_START)}])[\x21-\x7e][\x20-\x7e]*")
"""Printable ASCII that starts with no character a non-text reading of YAML starts with: text
in both YAML 1.1 and 1.2."""


def _is_clean_text(event: Event) -> TypeGuard[ScalarEvent]:
    """A scalar with nothing to refuse: no anchor, no tag, and text with no problem. Nearly every
    scalar of a manifest is one, told by ``_QUOTED_TEXT`` or ``_PLAIN_TEXT`` without asking the
    resolver, or else by the cache (keys such as ``name`` and ``tag`` start as ``no`` and
    ``true`` do)."""
    if type(event) is not ScalarEvent or event.anchor is not None or event.tag is not None:
        return False
    text, plain = event.value, not event.style
    if (_PLAIN_TEXT if plain else _QUOTED_TEXT).fullmatch(text):
        return True
    return _text_problem(text, plain, False) is None


@lru_cache(maxsize=4096)
def _text_problem(text: str, plain: bool, is_key: bool) -> str | None:
    """Hidden characters in any scalar; what YAML makes of a plain one (1.1 and 1.2).

    Cached: a manifest repeats its keys, and many of its values, thousands of times.
    """
    message = hidden_character(text)
    if message is None and plain:
        message = plain_scalar_trap(text, is_key)
    return message
