"""What the finder answers for a file: the references found, each with how to write a new tag and
digest into exactly its bytes, and the places that name an image it cannot read."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from tagmgr.documents.splice import Edit
from tagmgr.documents.textfile import BOM
from tagmgr.errors import Location
from tagmgr.oci.reference import ImageReference

# (new tag, new digest or None) -> the edits, or a reason the site cannot take them.
Rewrite = Callable[[str, str | None], "tuple[Edit, ...] | str"]
_NEWLINE = re.compile("\n")


@dataclass(frozen=True)
class Site:
    """One image reference as written: where, what it means, and how to rewrite it.

    ``context`` says what names it, for a person: ``spec.containers[0].image``, ``FROM``, ``""``
    for a word in text.
    """

    location: Location
    written: str  # as it reads in the file: "nginx:1.25", "repository: a/b, tag: 1"
    reference: ImageReference  # normalised: docker.io/library/nginx:1.25
    rewrite: Rewrite
    context: str = ""


@dataclass(frozen=True)
class Unreadable:
    """A place that names an image the finder cannot read: a variable with no default, a value
    that is not a reference, a file that does not parse.

    ``template`` marks a Go or Jinja template expression (``{{ .Values.image }}``): another tool
    fills it in from values that are files of their own.
    """

    location: Location
    context: str
    written: str
    reason: str
    template: bool = False


@dataclass
class Found:
    """What one finder found in a file."""

    sites: list[Site] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(frozen=True)
class FileRefs:
    """Every image reference one file contains, and every place it cannot read one."""

    file: str
    text: str
    references: list[Site] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def is_template(text: str) -> bool:
    """Whether ``text`` holds a Go (Helm) or Jinja template expression."""
    return "{{" in text or "{%" in text


def unchangeable(reason: str) -> Rewrite:
    """The rewrite of a site whose bytes cannot take a new tag: it always says why."""
    return lambda _tag, _digest: reason


def inline_site(
    location: Location, start: int, written: str, reference: ImageReference, context: str = ""
) -> Site:
    """A reference written as one string at ``start``: the name stays as spelled, the tag and
    digest after it are replaced."""
    name_text = name_part(written)

    def rewrite(tag: str, digest: str | None) -> tuple[Edit, ...]:
        text = f"{name_text}:{tag}" + (f"@{digest}" if digest else "")
        return (Edit(start, start + len(written), text),)

    return Site(location, written, reference, rewrite, context)


def name_part(written: str) -> str:
    """``registry:5000/repo:tag@sha256:...`` -> ``registry:5000/repo``."""
    name = written.partition("@")[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


class Lines:
    """Where each line of a file's text starts, found once, so that each location after is a
    binary search: counting from the start of the text for each one made a large file
    quadratic (``make bench``)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self._starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]
        self._bom = text.startswith(BOM)

    def location(self, offset: int) -> Location:
        """Line and column of ``offset``; a byte order mark before the first line takes no
        column."""
        line = bisect_right(self._starts, offset)
        line_start = self._starts[line - 1]
        if line == 1 and self._bom and offset > 0:
            line_start = 1
        return Location(self.file, line, offset - line_start + 1)
