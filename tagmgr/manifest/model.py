"""The validated manifest as plain values: what the rest of tagmgr works from.

The records here and in the other modules ``validate`` loads are named tuples, not dataclasses:
see ``tests/test_light_imports.py`` for why.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from tagmgr.errors import Location

DESCRIBE_PLACEHOLDER = "{describe}"
_NOWHERE: Mapping[str, Location] = MappingProxyType({})


class Upstream(NamedTuple):
    """Where an entry's version comes from: ``git describe`` of ``commit`` in ``repo``."""

    repo: str
    commit: str
    match: str | None = None


class ImageEntry(NamedTuple):
    """One item of ``images:``.

    The source is ``name:src_build_tag``, or ``name@src_digest`` when only the digest is given;
    given both, the build tag must still point at ``src_digest``. ``tag`` is a literal tag, a
    template containing ``{describe}``, or None when the manifest's ``tag_prefix`` applies.
    ``locations`` maps a field name ("name", "tag", "upstream.commit", ...) and "" (the entry
    itself) to where it was written.
    """

    name: str
    src_build_tag: str | None
    tag: str | None
    field_path: str
    locations: Mapping[str, Location]
    src_ref: str | None = None
    upstream: Upstream | None = None
    src_digest: str | None = None  # the source pinned: by digest alone, or the build tag's digest

    def location(self, field_name: str = "") -> Location:
        return self.locations.get(field_name) or self.locations[""]


class Manifest(NamedTuple):
    path: str
    entries: tuple[ImageEntry, ...]
    tag_prefix: str | None = None
    locations: Mapping[str, Location] = _NOWHERE
    environments: tuple[str, ...] | None = None  # the promotion chain, when the file names one
