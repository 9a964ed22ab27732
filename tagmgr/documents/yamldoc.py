"""YAML (and so JSON) text to plain values with locations: the one reader of every reviewed file.

By default it reads as a manifest must be read, refusing whatever YAML would silently change. What
gets through is mappings with text keys, lists and text: every scalar stays the text that was
written. A plain scalar that YAML would turn into a number, boolean, date or null (read as YAML 1.1
by PyYAML, or as YAML 1.2 by editors and other tools) is a problem, and so are duplicate keys,
anchors, aliases, explicit tags and a second document. Files other tools write (policies,
Kubernetes, compose and Helm files) are read with some of those rules off (``YamlRules``): numbers,
booleans and nulls read as such, anchors and aliases followed, several documents. Whatever the
rules, this works on parser events and never builds a node graph: nesting is refused before it
costs recursion, and aliases add no work (an alias is its anchor's value, counted at its size).

The events come from libyaml's C parser when PyYAML was built with it (as PyPI's wheels are), else
from PyYAML's pure-Python one, several times slower (docs/design.md); both give the same events and
marks, so every check above holds with either (the tests run under both).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple, Protocol, TypeGuard, cast

import yaml
from yaml.error import MarkedYAMLError
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
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
    yaml11_tag,
)
from tagmgr.errors import Location

MAX_VALUES = 200_000
"""Values a file may hold, each alias counted at the size of what it repeats: more is refused, so
a few lines of aliases cannot make a billion values for whatever walks the data."""

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


class YamlRules(NamedTuple):
    """How one kind of file is read. The defaults are a manifest's, the strictest.

    ``nullable``: the paths where a plain null (empty, ``~``, ``null``) is allowed and read as
    None (``ANY_INDEX`` stands for any list index). ``max_depth``: collections nested deeper are
    refused; ``needs`` says how deep this kind of file goes. ``text_only=False`` reads other tools'
    files: plain numbers, booleans and nulls become int, bool and None, explicit tags are
    followed, and JSON's tabs between tokens are allowed. ``anchors`` follows anchors and aliases;
    ``several`` allows several documents; ``hidden`` refuses control and invisible format
    characters in every key and value (``documents.hidden``). ``empty`` is what an empty file is
    told; when it is empty itself, an empty file is a document of no data (None).
    """

    noun: str = "manifest"
    empty: str = "the file is empty; a manifest is a mapping with an 'images:' list"
    nullable: frozenset[FieldPath] = frozenset()
    max_depth: int = 16
    needs: str = "a manifest needs 4"
    text_only: bool = True
    anchors: bool = False
    several: bool = False
    hidden: bool = True

    def too_deep(self) -> str:
        return f"nested more than {self.max_depth} levels deep; {self.needs}"


MANIFEST_RULES = YamlRules()

TOOL_RULES = YamlRules(
    noun="YAML file",
    empty="",
    max_depth=64,
    needs="no Kubernetes, compose or Helm file goes that deep",
    text_only=False,
    anchors=True,
    several=True,
    hidden=False,
)
"""Files other tools write (Kubernetes, compose, Helm, kubectl): anchors, several documents, and
any text in values that are not image references (a block scalar holds line feeds)."""


def parse_yaml(file: str, text: str, rules: YamlRules = MANIFEST_RULES) -> LocatedDocument:
    """The one document of ``text``; a second one is a problem."""
    return _parse(file, text, rules)[0]


def parse_yaml_documents(file: str, text: str, rules: YamlRules) -> list[LocatedDocument]:
    """Every document of ``text`` (``rules.several``); none for an empty stream."""
    return _parse(file, text, rules)


def _parse(file: str, text: str, rules: YamlRules) -> list[LocatedDocument]:
    if not rules.text_only and text.lstrip().startswith(("{", "[")):
        # JSON allows tabs between tokens, YAML's scanner does not; they are never inside a JSON
        # string (it would be escaped), so spaces keep every line and column where it was.
        text = text.replace("\t", " ")
    try:
        _check_characters(file, text)
    except _Fatal as fatal:
        doc = LocatedDocument(file)
        doc.reject(fatal.location, (), str(fatal))
        return [doc]
    builder = _Builder(file, text, rules)
    try:
        builder.build()
    except _Fatal as fatal:
        builder.fail(fatal.location, str(fatal))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        builder.fail(_location(file, mark), _syntax_message(error, text, rules))
    return builder.documents


class _Fatal(Exception):
    """A problem after which the rest of the file cannot be read."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location


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


def _syntax_message(error: MarkedYAMLError, text: str, rules: YamlRules) -> str:
    problem = error.problem or "cannot be parsed"
    mark, problem_mark = error.context_mark, error.problem_mark
    if "cannot start any token" in problem and problem_mark and _at(text, problem_mark) == "\t":
        return "YAML syntax error: a tab cannot start a token here; indent with spaces, not tabs"
    if "maximum nesting depth" in problem:  # libyaml's own limit, far above any max_depth
        return rules.too_deep()
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


class _Anchored(NamedTuple):
    """What an anchor names: its value, the values it holds and how deep it nests."""

    value: object
    size: int
    height: int


class _Builder:
    """Plain values from events; a location is made only for a problem."""

    def __init__(self, file: str, text: str, rules: YamlRules) -> None:
        self.file = file
        self.doc = LocatedDocument(file)
        self.values = self.doc.values
        self.documents: list[LocatedDocument] = []
        parser = PARSERS[PARSER](text)
        self.next_event = parser.get_event
        self.upcoming = parser.peek_event
        self.check_event = parser.check_event
        self.rules = rules
        self.null_keys = {path[-1] for path in rules.nullable if path}  # a cheap test for most
        self.anchored: dict[str, _Anchored] = {}
        self.count = 0  # values read so far, an alias counted at its anchor's size
        self.deepest = 0  # the deepest level a collection was read at, for an anchor's height

    def location(self, event: Event) -> Location:
        return _location(self.file, event.start_mark)

    def start(self) -> None:
        self.doc = LocatedDocument(self.file)
        self.values = self.doc.values
        self.documents.append(self.doc)
        self.anchored.clear()  # an anchor names a value of its own document only

    def fail(self, location: Location, message: str) -> None:
        """A problem after which nothing more of the file can be read: the document has no data."""
        if not self.documents:
            self.documents.append(self.doc)
        self.doc.data = None
        self.doc.reject(location, (), message)

    def build(self) -> None:
        self.next_event()  # StreamStartEvent
        if not self.rules.several:
            self.document()
            if self.check_event(DocumentStartEvent):
                self.doc.problem(
                    self.location(self.upcoming()),
                    (),
                    f"a {self.rules.noun} holds one YAML document, and a second one starts here;"
                    " remove this '---' or split the file",
                )
            return
        while not self.check_event(StreamEndEvent):
            self.document()

    def document(self) -> None:
        self.start()
        if self.check_event(DocumentStartEvent):
            self.next_event()
        if _is_nothing(self.upcoming()):
            if not self.rules.several and self.rules.empty:
                self.doc.reject(Location(self.file, 1, 1), (), self.rules.empty)
            elif self.check_event(ScalarEvent):  # an empty document: no data
                self.next_event()
                self.next_event()  # DocumentEndEvent
            return
        self.doc.data = self.node(self.next_event(), (), 0)
        if self.check_event(DocumentEndEvent):
            self.next_event()

    def node(self, event: Event, path: FieldPath, depth: int) -> object:
        """The value of ``event``, where the grammar expects a node: a scalar, an alias or a
        collection (whose events it reads to the end)."""
        self.values.setdefault(path, cast(Mark, event.start_mark))
        if isinstance(event, AliasEvent):
            return self.alias(event, path, depth)
        node = cast(ScalarEvent | CollectionStartEvent, event)
        if node.anchor is not None and not self.rules.anchors:
            self.refuse_anchor(node, path)
        if node.tag is not None and self.rules.text_only:
            self.refuse_tag(node, path)
        if node.anchor is not None and self.rules.anchors:
            return self.anchor(node, path, depth)
        if isinstance(node, ScalarEvent):
            return self.scalar(node, path)
        return self.collection(node, path, depth)

    def scalar(self, event: ScalarEvent, path: FieldPath) -> object:
        if not self.rules.text_only:
            if self.rules.hidden:
                self.check_hidden(event, path)
            return _typed(event)
        if path and path[-1] in self.null_keys and self.allows_null(path, event):
            return None
        self.check_text(event, path, is_key=False)
        return event.value

    def collection(self, event: CollectionStartEvent, path: FieldPath, depth: int) -> object:
        if depth >= self.rules.max_depth:
            raise _Fatal(self.location(event), self.rules.too_deep())
        self.deepest = max(self.deepest, depth + 1)
        items: list[object] | dict[str, object]
        if isinstance(event, SequenceStartEvent):
            items = self.sequence(path, depth + 1)
        else:
            items = self.mapping(path, depth + 1)
        self.counted(len(items), event)
        return items

    def counted(self, values: int, event: Event) -> None:
        self.count += values
        if self.count > MAX_VALUES:
            raise _Fatal(
                self.location(event),
                f"holds more than {MAX_VALUES} values, counting each alias at the size of its"
                f" anchor; a {self.rules.noun} needs far fewer",
            )

    def anchor(
        self, node: ScalarEvent | CollectionStartEvent, path: FieldPath, depth: int
    ) -> object:
        """The value, remembered for its aliases with its size and height as it was read."""
        count, deepest = self.count, self.deepest
        self.deepest = depth
        if isinstance(node, ScalarEvent):
            value = self.scalar(node, path)
        else:
            value = self.collection(node, path, depth)
        self.anchored[cast(str, node.anchor)] = _Anchored(
            value, 1 + self.count - count, self.deepest - depth
        )
        self.deepest = max(deepest, self.deepest)
        return value

    def alias(self, event: AliasEvent, path: FieldPath, depth: int) -> object:
        anchor = clip(event.anchor or "")
        if not self.rules.anchors:
            message = f"YAML alias '*{anchor}' is not allowed; write the value out"
            self.doc.reject(self.location(event), path, message)
            return None
        found = self.anchored.get(event.anchor or "")
        if found is None:
            raise _Fatal(self.location(event), f"YAML alias '*{anchor}' names no anchor before it")
        if depth + found.height > self.rules.max_depth:
            raise _Fatal(self.location(event), f"{self.rules.too_deep()} (through '*{anchor}')")
        self.deepest = max(self.deepest, depth + found.height)
        self.counted(found.size, event)
        return found.value

    def allows_null(self, path: FieldPath, event: ScalarEvent) -> bool:
        if not _is_plain(event) or not is_null(event.value):
            return False
        nullable = self.rules.nullable
        return tuple(ANY_INDEX if isinstance(step, int) else step for step in path) in nullable

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
        if not self.rules.text_only:
            if self.rules.hidden:
                self.check_hidden(event, (*path, event.value))
            return event.value
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

    def check_hidden(self, event: ScalarEvent, path: FieldPath) -> None:
        message = hidden_character(event.value)
        if message:
            self.doc.reject(self.location(event), path, message)


_SCALARS: dict[str, Callable[[str], object]] = {
    f"{YAML_TAG_PREFIX}null": lambda _text: None,
    f"{YAML_TAG_PREFIX}bool": lambda text: text.lower() in {"true", "yes", "on", "y"},
    f"{YAML_TAG_PREFIX}int": lambda text: int(text.replace("_", ""), 0),
}
"""What other tools' files make of a scalar by its tag; any other tag keeps the text."""


def _typed(event: ScalarEvent) -> object:
    """A scalar as other tools read it: by its explicit tag, else a plain one by YAML 1.1's."""
    tag = event.tag
    if tag is None:
        if not _is_plain(event):
            return event.value
        tag = yaml11_tag(event.value)
    read = _SCALARS.get(tag)
    if read is None:
        return event.value
    try:
        return read(event.value)
    except ValueError:  # 0755 or 1:20, numbers to YAML 1.1 that int() cannot read: text
        return event.value


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
