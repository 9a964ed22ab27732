"""Manifest files in, ``Manifest`` values out, or one ``ManifestError`` naming every problem."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NotRequired, TypedDict, cast

from tagmgr.documents.loader import DocumentKind, load_document
from tagmgr.documents.located import FieldPath, LocatedDocument, Locations, render_path
from tagmgr.documents.yamldoc import MANIFEST_RULES
from tagmgr.errors import ManifestError, Problem
from tagmgr.manifest.model import ImageEntry, Manifest, Upstream
from tagmgr.manifest.validate import MANIFEST_WORDS, SCHEMA_PATH, conflicts, environment_tags

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Larger files are refused unread: a manifest is text a person reviews.

4 MiB is about 18,000 entries, as much as a review or a commit hook should wait for (the time and
memory it takes: docs/design.md, "Loading manifests").
"""


MANIFEST = DocumentKind(
    # ``images:`` with every entry commented out is how a new release file starts: no entries.
    MANIFEST_RULES._replace(nullable=frozenset({("images",)})),
    ManifestError,
    MAX_MANIFEST_BYTES,
    SCHEMA_PATH,
    MANIFEST_WORDS,
    too_large="split the manifest",
)


class _UpstreamData(TypedDict):
    repo: str
    commit: str
    match: NotRequired[str]


class _EntryData(TypedDict):
    name: str
    src_build_tag: NotRequired[str]
    src_digest: NotRequired[str]
    tag: NotRequired[str]
    src_ref: NotRequired[str]
    upstream: NotRequired[_UpstreamData]


class _ManifestData(TypedDict):
    images: list[_EntryData] | None
    tag_prefix: NotRequired[str]
    environments: NotRequired[list[str]]


def load_manifests(paths: Sequence[str]) -> list[Manifest]:
    """Read, parse, schema-validate and semantically check every file.

    Raise ManifestError with ALL problems of ALL files.
    """
    problems: list[Problem] = []
    manifests: list[Manifest] = []
    with _collector_paused():
        for path in paths:
            manifest = _load(path, problems)
            if manifest:
                manifests.append(manifest)
        problems += conflicts(manifests)
        problems += environment_tags(manifests)
    if problems:
        raise ManifestError(list(dict.fromkeys(problems)))
    return manifests


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds tens of thousands of objects and no reference cycle: the garbage collector,
    which would walk the growing document again and again, waits (a quarter of the time at
    10,000 entries)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(path: str, problems: list[Problem]) -> Manifest | None:
    """The manifest if its shape is valid, for the checks across files; problems go to the list."""
    doc = load_document(path, MANIFEST, problems)
    return _manifest(doc) if doc else None


def _manifest(doc: LocatedDocument) -> Manifest:
    data = cast(_ManifestData, doc.data)
    return Manifest(
        path=doc.file,
        entries=tuple(
            _entry(doc, ("images", index), entry)
            for index, entry in enumerate(data["images"] or [])
        ),
        tag_prefix=data.get("tag_prefix"),
        environments=tuple(data["environments"]) if "environments" in data else None,
        locations=Locations(doc.file, doc.marks((), data)),
    )


def _entry(doc: LocatedDocument, path: FieldPath, data: _EntryData) -> ImageEntry:
    upstream = data.get("upstream")
    marks = doc.marks(path, data)
    if upstream:
        marks |= doc.marks((*path, "upstream"), upstream, prefix="upstream.")
    return ImageEntry(
        name=data["name"],
        src_build_tag=data.get("src_build_tag"),
        tag=data.get("tag"),
        field_path=render_path(path),
        locations=Locations(doc.file, marks),
        src_ref=data.get("src_ref"),
        upstream=Upstream(upstream["repo"], upstream["commit"], upstream.get("match"))
        if upstream
        else None,
        src_digest=data.get("src_digest"),
    )
