"""The versions file: which release tag each image is pinned to while its rebuilds are equivalent.

Loaded as a manifest is (same traps refused, every problem located), against
``schemas/versions.schema.json``; ``version: null`` is the one null allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from tagmgr.documents.loader import DocumentKind, load_document
from tagmgr.documents.located import FieldPath, LocatedDocument
from tagmgr.documents.yamldoc import ANY_INDEX, MANIFEST_RULES
from tagmgr.errors import Location, Problem, TagmgrError, VersionsError
from tagmgr.manifest import MAX_MANIFEST_BYTES
from tagmgr.manifest.validate import MANIFEST_WORDS
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.transport import LOCAL_TRANSPORTS, LocalImage, parse_location

SCHEMA_PATH = Path(__file__).with_name("versions.schema.json")
NOUN = "versions file"
VERSIONS = DocumentKind(
    MANIFEST_RULES._replace(
        noun=NOUN,
        empty=f"the file is empty; a {NOUN} is a mapping with an 'images:' list",
        nullable=frozenset({("images", ANY_INDEX, "version")}),
        needs=f"a {NOUN} needs 3",
    ),
    VersionsError,
    MAX_MANIFEST_BYTES,
    SCHEMA_PATH,
    MANIFEST_WORDS,
    too_large=f"split the {NOUN}",
)


class PinMode(StrEnum):
    AUTO = "auto"  # tagmgr may unpin and pin the image
    MANUAL = "manual"  # tagmgr never changes it


class _EntryData(TypedDict):
    name: str
    version: NotRequired[str | None]
    pin: NotRequired[str]
    local: NotRequired[str]


BUILD_PLACEHOLDER = "{build}"


@dataclass(frozen=True)
class VersionEntry:
    index: int
    name: ImageReference
    version: str | None
    pin: PinMode
    location: Location
    local: str | None = None  # where each build is on this machine; {build} stands for its tag
    variable: str = ""  # in a shell versions file, the NAME_VER it is assigned to

    @property
    def field_path(self) -> str:
        return self.variable or f"images[{self.index}]"

    def local_build(self, build: str) -> LocalImage:
        """The local image of build ``build``, or ``TagmgrError`` if the entry names none."""
        if self.local is None:
            raise TagmgrError(f"{self.field_path} names no local image (local: ...)")
        return local_image(self.local, build)


def local_image(template: str, build: str) -> LocalImage:
    """``local:`` with ``{build}`` replaced; ``TagmgrError`` if that is no local image."""
    text = template.replace(BUILD_PLACEHOLDER, build)
    location = parse_location(text) if text.partition(":")[0] in LOCAL_TRANSPORTS else None
    if not isinstance(location, LocalImage):
        raise TagmgrError(
            f"{template!r} is not an image on this machine: oci:DIR[:REF], "
            "oci-archive:FILE[:REF], docker-archive:FILE[:REF] or docker-daemon:NAME:TAG"
        )
    return location


def local_problems(
    doc: LocatedDocument, locals_at: dict[str, tuple[FieldPath, str]]
) -> list[Problem]:
    """A problem for each ``local:`` value that names no local image, by its field's name."""
    problems = []
    for field, (path, template) in locals_at.items():
        try:
            local_image(template, "build")
        except TagmgrError as error:
            problems.append(Problem(doc.location(path), field, str(error)))
    return problems


@dataclass(frozen=True)
class VersionsFile:
    path: str
    entries: tuple[VersionEntry, ...]
    image_map: str | None = None  # a shell versions file's image map (``shellversions``)


def load_versions(path: str) -> VersionsFile:
    """The file's entries, or one ``VersionsError`` naming every problem."""
    problems: list[Problem] = []
    doc = load_document(path, VERSIONS, problems)
    entries: list[VersionEntry] = []
    if doc is not None:
        data = cast(dict[str, list[_EntryData]], doc.data)
        for index, item in enumerate(data["images"]):
            entries.append(
                VersionEntry(
                    index,
                    ImageReference.parse(item["name"]),
                    item.get("version"),
                    PinMode(item.get("pin", PinMode.AUTO)),
                    doc.location(("images", index)),
                    item.get("local"),
                )
            )
        problems += _repeated_names(doc, entries)
        problems += local_problems(
            doc,
            {
                f"{e.field_path}.local": (("images", e.index, "local"), e.local)
                for e in entries
                if e.local is not None
            },
        )
    if problems:
        raise VersionsError(problems)
    return VersionsFile(path, tuple(entries))


def _repeated_names(doc: LocatedDocument, entries: list[VersionEntry]) -> list[Problem]:
    first: dict[str, VersionEntry] = {}
    problems = []
    for entry in entries:
        earlier = first.setdefault(entry.name.name, entry)
        if earlier is not entry:
            problems.append(
                Problem(
                    doc.location(("images", entry.index, "name")),
                    f"{entry.field_path}.name",
                    f"{entry.name.name} is already listed at line {earlier.location.line}",
                )
            )
    return problems
