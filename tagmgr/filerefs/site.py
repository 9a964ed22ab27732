"""A reference found in a file, and how to write a new tag and digest into exactly its bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tagmgr.documents.splice import Edit
from tagmgr.errors import Location
from tagmgr.oci.reference import ImageReference

# (new tag, new digest or None) -> the edits, or a reason the site cannot take them.
Rewrite = Callable[[str, str | None], "tuple[Edit, ...] | str"]


@dataclass(frozen=True)
class Site:
    """One image reference as written: where, what it means, and how to rewrite it."""

    location: Location
    written: str  # as it reads in the file: "nginx:1.25", "repository: a/b, tag: 1"
    reference: ImageReference  # normalised: docker.io/library/nginx:1.25
    rewrite: Rewrite


def inline_site(location: Location, start: int, written: str, reference: ImageReference) -> Site:
    """A reference written as one string at ``start``: the name stays as spelled, the tag and
    digest after it are replaced."""
    name_text = _name_part(written)

    def rewrite(tag: str, digest: str | None) -> tuple[Edit, ...]:
        text = f"{name_text}:{tag}" + (f"@{digest}" if digest else "")
        return (Edit(start, start + len(written), text),)

    return Site(location, written, reference, rewrite)


def _name_part(written: str) -> str:
    """``registry:5000/repo:tag@sha256:...`` -> ``registry:5000/repo``."""
    name = written.partition("@")[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def location_at(file: str, text: str, offset: int) -> Location:
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(file, text.count("\n", 0, offset) + 1, offset - line_start + 1)
