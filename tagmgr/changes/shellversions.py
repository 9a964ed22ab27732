"""The team's own versions file: shell assignments a build script sources, one per image.

::

    # versions of the services
    svcbgsapi_VER="v3.1.0"
    export svcdb_VER="v0.9.0"     # pinned by hand: never touched
    : ${REGISTRY:=docker.io}

Each ``NAME_VER=VALUE`` line (``VALUE`` double-quoted, single-quoted or plain; a comment may
follow) is an entry: its value is the pinned release tag, and an empty one (``NAME_VER=""``)
is unpinned. ``export NAME_VER=...`` marks a manual pin that tagmgr never changes. Comments,
blank lines, ``: ${X:=...}`` defaults and every other line are left alone. A ``_VER``
assignment tagmgr cannot read exactly (``$(...)``, ``${...}``, a backslash, more after the value)
is refused, located, rather than guessed at.

Which image each variable pins comes from the image map the team keeps beside it (YAML,
``schemas/versions-image-map.schema.json``): every ``_VER`` variable the file assigns must be
there. Edits are byte-range splices of the values alone, as for the YAML versions file: quotes,
comments, line endings, a missing last newline and every other byte stay as they were.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, cast

from tagmgr.changes.versions import PinMode, VersionEntry, VersionsFile, local_problems
from tagmgr.documents.atomic import replace_file
from tagmgr.documents.hidden import hidden_character
from tagmgr.documents.loader import DocumentKind, load_document
from tagmgr.documents.splice import Edit, splice
from tagmgr.documents.textfile import read_text
from tagmgr.documents.yamldoc import MANIFEST_RULES
from tagmgr.errors import Location, Problem, TagmgrError, VersionsError
from tagmgr.manifest import MAX_MANIFEST_BYTES
from tagmgr.manifest.validate import MANIFEST_WORDS
from tagmgr.oci.reference import ImageReference, explain_invalid_tag, is_valid_tag

MAP_SCHEMA_PATH = Path(__file__).with_name("versions-image-map.schema.json")
MAP_NOUN = "versions image map"
SHELL_NOUN = "shell versions file"
IMAGE_MAP = DocumentKind(
    MANIFEST_RULES._replace(
        noun=MAP_NOUN,
        empty=f"the file is empty; a {MAP_NOUN} is a mapping with a 'variables:' mapping",
        needs=f"a {MAP_NOUN} needs 3",
    ),
    VersionsError,
    MAX_MANIFEST_BYTES,
    MAP_SCHEMA_PATH,
    MANIFEST_WORDS,
)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*_VER"
_ENTRY = re.compile(
    rf"(?P<lead>\ufeff?[ \t]*)(?P<export>export[ \t]+)?(?P<variable>{_NAME})="
    r"(?:\"(?P<double>[^\"$`\\]*)\"|'(?P<single>[^']*)'|(?P<plain>[A-Za-z0-9_.-]*))"
    r"(?P<tail>[ \t]*(?:#.*)?)"
)
_ASSIGNMENT = re.compile(rf"\ufeff?[ \t]*(?:export[ \t]+)?({_NAME})=")
_BARE_EXPORT = re.compile(rf"\ufeff?[ \t]*export[ \t]+({_NAME})[ \t]*(?:#.*)?")
_VALUE_GROUPS = ("double", "single", "plain")


class _VariableData(TypedDict, total=False):
    name: str
    local: str


@dataclass(frozen=True)
class MappedImage:
    name: ImageReference
    local: str | None


@dataclass(frozen=True)
class _Found:
    entries: list[VersionEntry]
    spans: dict[int, tuple[int, int]]  # each entry's value, as character offsets in the text
    problems: list[Problem]


def load_image_map(path: str) -> dict[str, MappedImage]:
    problems: list[Problem] = []
    doc = load_document(path, IMAGE_MAP, problems)
    if doc is None:
        raise VersionsError(problems)
    variables = cast(dict[str, dict[str, _VariableData]], doc.data)["variables"]
    for variable in variables:
        if not re.fullmatch(_NAME, variable):
            where = doc.location(("variables", variable))
            message = "not a shell variable ending in _VER (letters, digits, '_'; no digit first)"
            problems.append(Problem(where, f"variables.{variable}", message))
    problems += local_problems(
        doc,
        {
            f"variables.{variable}.local": (("variables", variable, "local"), item["local"])
            for variable, item in variables.items()
            if "local" in item
        },
    )
    if problems:
        raise VersionsError(problems)
    return {
        variable: MappedImage(ImageReference.parse(str(item["name"])), item.get("local"))
        for variable, item in variables.items()
    }


def load_shell_versions(path: str, map_path: str) -> VersionsFile:
    """The file's entries, each with its image from the map; one ``VersionsError`` naming every
    problem of both files."""
    image_map = load_image_map(map_path)
    found = _parse(path, _read(path), image_map, map_path)
    if found.problems:
        raise VersionsError(found.problems)
    return VersionsFile(path, tuple(found.entries), image_map=map_path)


def write_shell_versions(versions: VersionsFile, values: Mapping[int, str | None]) -> None:
    """Each entry's new value spliced in; the file is read again and must still hold the same
    entries, in the same order."""
    text = _read(versions.path)
    found = _parse(versions.path, text, load_image_map(str(versions.image_map)), "")
    variables = [entry.field_path for entry in found.entries]
    if found.problems or variables != [entry.field_path for entry in versions.entries]:
        raise TagmgrError(f"{versions.path}: changed since it was read; nothing written")
    edits = [Edit(*found.spans[index], value or "") for index, value in values.items()]
    replace_file(versions.path, splice(text, edits).encode("utf-8"))


def _read(path: str) -> str:
    text = read_text(path, SHELL_NOUN, MAX_MANIFEST_BYTES, keep_bom=True)
    if isinstance(text, Problem):
        raise VersionsError([text])
    return text


def _parse(path: str, text: str, image_map: Mapping[str, MappedImage], map_path: str) -> _Found:
    parser = _Parser(path, image_map, map_path)
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        parser.take(number, offset, line.removesuffix("\r"))
        offset += len(line) + 1
    return parser.found


class _Parser:
    def __init__(self, path: str, image_map: Mapping[str, MappedImage], map_path: str) -> None:
        self._path = path
        self._map = image_map
        self._map_path = map_path
        self._first: dict[str, int] = {}
        self.found = _Found([], {}, [])

    def take(self, number: int, offset: int, line: str) -> None:
        """The line at ``offset``, the ``number``-th, without its line ending."""
        entry = _ENTRY.fullmatch(line)
        if entry is None:
            assigned = _ASSIGNMENT.match(line) or _BARE_EXPORT.fullmatch(line)
            if assigned and (assigned.re is _ASSIGNMENT or assigned[1] in self._map):
                message = _unread(assigned.re is _ASSIGNMENT)
                self._problem(number, assigned.start(1), assigned[1], message)
            return
        variable = entry["variable"]
        group = next(name for name in _VALUE_GROUPS if entry[name] is not None)
        refusal = self._refusal(line, variable, entry[group])
        if refusal:
            message, in_value = refusal
            column = entry.start(group) if in_value else entry.start("variable")
            self._problem(number, column, variable, message)
            return
        self._first[variable] = number
        index = len(self.found.entries)
        mapped = self._map[variable]
        pin = PinMode.MANUAL if entry["export"] else PinMode.AUTO
        location = Location(self._path, number, entry.start("variable") + 1)
        version = entry[group] or None
        self.found.entries.append(
            VersionEntry(index, mapped.name, version, pin, location, mapped.local, variable)
        )
        self.found.spans[index] = (offset + entry.start(group), offset + entry.end(group))

    def _refusal(self, line: str, variable: str, value: str) -> tuple[str, bool] | None:
        """Why the entry cannot be taken, and whether that is its value's fault."""
        if hidden := hidden_character(line):
            return hidden, False
        if variable not in self._map:
            where = f" {self._map_path}" if self._map_path else ""
            return f"not in the image map{where}; add it there", False
        if variable in self._first:
            return f"already assigned at line {self._first[variable]}", False
        if value and not is_valid_tag(value):
            return explain_invalid_tag(value), True
        return None

    def _problem(self, number: int, column: int, field: str, message: str) -> None:
        location = Location(self._path, number, column + 1)
        self.found.problems.append(Problem(location, field, message))


def _unread(assignment: bool) -> str:
    if assignment:
        return (
            "tagmgr reads a value in double or single quotes, or a plain tag, followed by "
            'nothing but a comment (NAME_VER="v1.2.3"); no $, `, \\ or a second command'
        )
    return 'a manual pin is marked on its assignment: export NAME_VER="v1.2.3"'
