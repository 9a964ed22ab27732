"""YAML text to plain values with locations, refusing whatever YAML would silently change.

What gets through is mappings with text keys, lists and text: every scalar stays the text that was
written. A plain scalar that YAML would turn into a number, boolean, date or null (read as YAML 1.1
by PyYAML, or as YAML 1.2 by editors and other tools) is a problem, and so are duplicate keys,
anchors, aliases, explicit tags and a second document. This works on parser events and never
builds a node graph: aliases are never expanded, and nesting is refused before it costs recursion.
"""

from __future__ import annotations

import re
from typing import Protocol

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
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from tagmgr.errors import Location
from tagmgr.manifest.explain import clip
from tagmgr.manifest.hidden import hidden_character
from tagmgr.manifest.located import FieldPath, LocatedDocument
from tagmgr.manifest.yamltraps import YAML_TAG_PREFIX, plain_scalar_trap, yaml11_tag

NULL_TAG = f"{YAML_TAG_PREFIX}null"
MAX_DEPTH = 16
"""Collections nested deeper than this are refused; a manifest needs four levels."""

_NOT_YAML_CHARS = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse_yaml(
    file: str, text: str, *, noun: str = "manifest", nulls: frozenset[str] = frozenset()
) -> LocatedDocument:
    """``noun`` names the file in messages; keys in ``nulls`` may hold a plain null (None)."""
    doc = LocatedDocument(file)
    try:
        _check_characters(file, text)
        _Builder(doc, text, noun, nulls).build()
    except _Fatal as fatal:
        _fail(doc, fatal.location, str(fatal))
    except MarkedYAMLError as error:
        _fail(
            doc, _location(file, error.problem_mark or error.context_mark), _syntax_message(error)
        )
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


def _syntax_message(error: MarkedYAMLError) -> str:
    problem = error.problem or "cannot be parsed"
    if "'\\t'" in problem:
        return "YAML syntax error: a tab cannot start a token here; indent with spaces, not tabs"
    message = f"YAML syntax error: {problem}"
    mark, problem_mark = error.context_mark, error.problem_mark
    if error.context and mark and problem_mark and mark.index != problem_mark.index:
        message += f" ({error.context} at line {mark.line + 1}, column {mark.column + 1})"
    return message


class _Mark(Protocol):
    line: int
    column: int


def _location(file: str, mark: _Mark | None) -> Location:
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def _is_nothing(event: Event) -> bool:
    """The end of the stream, or a document that is only an empty plain scalar."""
    if isinstance(event, ScalarEvent):
        empty = event.value == "" and event.style is None
        return empty and event.tag is None and event.anchor is None
    return isinstance(event, StreamEndEvent)


class _Events(Reader, Scanner, Parser, Resolver):
    """PyYAML's reading, scanning, parsing and resolving, without composer or constructor."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Resolver.__init__(self)

    # Typed doors into PyYAML's untyped parser methods.
    def next_event(self) -> Event:
        event: Event = self.get_event()  # type: ignore[no-untyped-call]
        return event

    def next_node(self) -> AliasEvent | ScalarEvent | CollectionStartEvent:
        """The next event where the grammar expects a node."""
        event: AliasEvent | ScalarEvent | CollectionStartEvent = self.get_event()  # type: ignore[no-untyped-call]
        return event

    def upcoming(self) -> Event:
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        return event


class _Builder:
    def __init__(self, doc: LocatedDocument, text: str, noun: str, nulls: frozenset[str]) -> None:
        self.doc = doc
        self.events = _Events(text)
        self.noun = noun
        self.nulls = nulls

    def location(self, event: Event) -> Location:
        return _location(self.doc.file, event.start_mark)

    def build(self) -> None:
        self.events.next_event()  # StreamStartEvent
        if self.events.check_event(DocumentStartEvent):
            self.events.next_event()
        if _is_nothing(self.events.upcoming()):
            message = f"the file is empty; a {self.noun} is a mapping with an 'images:' list"
            self.doc.reject(Location(self.doc.file, 1, 1), (), message)
            return
        self.doc.data = self.node((), 0)
        self.events.next_event()  # DocumentEndEvent
        if self.events.check_event(DocumentStartEvent):
            self.doc.problem(
                self.location(self.events.upcoming()),
                (),
                f"a {self.noun} holds one YAML document, and a second one starts here;"
                " remove this '---' or split the file",
            )

    def node(self, path: FieldPath, depth: int) -> object:
        event = self.events.next_node()
        location = self.location(event)
        self.doc.values.setdefault(path, location)
        if isinstance(event, AliasEvent):
            anchor = clip(event.anchor or "")
            self.doc.reject(
                location, path, f"YAML alias '*{anchor}' is not allowed; write the value out"
            )
            return None
        self.check_anchor_and_tag(event, path, location)
        if isinstance(event, ScalarEvent):
            if self.is_allowed_null(event, path):
                return None
            self.check_text(event, path, location, is_key=False)
            return event.value
        if depth >= MAX_DEPTH:
            raise _Fatal(location, f"nested more than {MAX_DEPTH} levels deep; a manifest needs 4")
        if isinstance(event, SequenceStartEvent):
            return self.sequence(path, depth + 1)
        return self.mapping(path, depth + 1)

    def is_allowed_null(self, event: ScalarEvent, path: FieldPath) -> bool:
        plain = event.style is None and event.tag is None
        key = path[-1] if path else None
        return plain and key in self.nulls and yaml11_tag(event.value) == NULL_TAG

    def sequence(self, path: FieldPath, depth: int) -> list[object]:
        items: list[object] = []
        while not self.events.check_event(SequenceEndEvent):
            items.append(self.node((*path, len(items)), depth))
        self.events.next_event()
        return items

    def mapping(self, path: FieldPath, depth: int) -> dict[str, object]:
        result: dict[str, object] = {}
        while not self.events.check_event(MappingEndEvent):
            key, location = self.key(path)
            child = (*path, key)
            value = self.node(child, depth)
            first = self.doc.keys.setdefault(child, location)
            if key not in result:
                result[key] = value
            else:
                message = f"duplicate key {clip(key)!r}; the first one is at line {first.line}"
                self.doc.problem(location, child, message)
        self.events.next_event()
        return result

    def key(self, path: FieldPath) -> tuple[str, Location]:
        event = self.events.next_event()
        location = self.location(event)
        if not isinstance(event, ScalarEvent):
            raise _Fatal(
                location, "a mapping key must be plain text, not an alias, list or mapping"
            )
        child = (*path, event.value)
        self.check_anchor_and_tag(event, child, location)
        self.check_text(event, child, location, is_key=True)
        return event.value, location

    def check_anchor_and_tag(
        self, event: ScalarEvent | CollectionStartEvent, path: FieldPath, location: Location
    ) -> None:
        if event.anchor is not None:
            anchor = clip(event.anchor)
            self.doc.problem(
                location, path, f"YAML anchor '&{anchor}' is not allowed; write each value out"
            )
        if event.tag is not None:
            tag = event.tag
            if tag.startswith(YAML_TAG_PREFIX):
                tag = "!!" + tag.removeprefix(YAML_TAG_PREFIX)
            self.doc.reject(
                location, path, f"YAML tag {clip(tag)!r} is not allowed; write plain values"
            )

    def check_text(
        self, event: ScalarEvent, path: FieldPath, location: Location, *, is_key: bool
    ) -> None:
        """Hidden characters in any scalar; what YAML makes of a plain one."""
        message = hidden_character(event.value)
        if message is None and event.style is None and event.tag is None:
            message = plain_scalar_trap(event.value, is_key)
        if message:
            self.doc.reject(location, path, message)
