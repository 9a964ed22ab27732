"""Reading what a repository holds, through the registry client (the only I/O of planning).

``tag_digests`` HEADs the tags asked for; ``survey`` reads every tagged manifest, each index's
children and, where no tag carries a build timestamp, the config's ``created``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from tagmgr.errors import RegistryError
from tagmgr.lifecycle.holdings import Held, Holdings, referrer_subject
from tagmgr.manifest.environments import Chain, build_time
from tagmgr.oci.content import (
    ImageIndex,
    ImageManifest,
    ManifestOrIndex,
    parse_config,
    parse_manifest,
    read_capped,
)
from tagmgr.oci.mediatypes import IMAGE_CONFIG_TYPES
from tagmgr.reconcile.readers import RegistryReader
from tagmgr.system.concurrency import map_in_threads


class RepositoryReader(RegistryReader, Protocol):
    """What a survey reads of one registry (``registry.RegistryClient`` is one)."""

    @property
    def registry(self) -> str: ...

    def open_blob(self, repository: str, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        """The blob's bytes in chunks, checked against ``digest`` by the end."""


def tag_digests(
    client: RepositoryReader, repository: str, tags: Iterable[str], *, jobs: int = 4
) -> dict[str, str]:
    """``{tag: digest}`` for those of ``tags`` that exist."""
    listed = sorted(set(tags))
    found = map_in_threads(lambda tag: client.head_manifest(repository, tag), listed, jobs)
    return {tag: d.digest for tag, d in zip(listed, found, strict=True) if d is not None}


def survey(client: RepositoryReader, repository: str, chain: Chain, *, jobs: int = 4) -> Holdings:
    tags = tag_digests(client, repository, client.list_tags(repository), jobs=jobs)
    grouped: dict[str, list[str]] = {}
    for tag, digest in sorted(tags.items()):
        grouped.setdefault(digest, []).append(tag)
    reader = _Reader(client, repository, chain)
    held: dict[str, Held] = {}
    for top in map_in_threads(
        lambda item: reader.read(item[0], tuple(item[1])), sorted(grouped.items()), jobs
    ):
        for item in top:
            # A child read through its index has no tags; read through its own tag it has.
            known = held.get(item.digest)
            if known is None or len(item.tags) > len(known.tags):
                held[item.digest] = item
    return Holdings(client.registry, repository, held)


class _Reader:
    def __init__(self, client: RepositoryReader, repository: str, chain: Chain) -> None:
        self.client, self.repository, self.chain = client, repository, chain

    def read(self, digest: str, tags: tuple[str, ...]) -> list[Held]:
        """The manifest ``digest`` and, for an index, its children (children first)."""
        descriptor, content = self.client.get_manifest(self.repository, digest)
        manifest = _parse(self.client, self.repository, digest, content, descriptor.media_type)
        children, subject_digest = _links(manifest)
        read = {child: self.read_child(child) for child in children}
        read_children = [c for found in read.values() for c in found or ()]
        subject_digest = subject_digest or next(filter(None, map(referrer_subject, tags)), None)
        created = None
        if build_time(tags, self.chain) is None:
            created = self.created(manifest, read_children)
        media_type = manifest.media_type if manifest else descriptor.media_type
        missing = tuple(child for child, found in read.items() if found is None)
        this = Held(
            digest, media_type, descriptor.size, tags, children, subject_digest, created, missing
        )
        return [*read_children, this]

    def read_child(self, digest: str) -> list[Held] | None:
        """``read`` of an index's child; None if the registry does not hold it."""
        try:
            return self.read(digest, ())
        except RegistryError:
            if self.client.head_manifest(self.repository, digest) is None:
                return None
            raise

    def created(self, manifest: ManifestOrIndex | None, children: list[Held]) -> datetime | None:
        if children:
            times = [c.created for c in children if c.created is not None]
            return max(times) if times else None
        if not isinstance(manifest, ImageManifest):
            return None
        config = manifest.config
        if config.media_type not in IMAGE_CONFIG_TYPES:
            return None  # an artifact's config: the image spec forbids reading an unknown type
        what = f"config {self.client.registry}/{self.repository}@{config.digest}"
        with self.client.open_blob(self.repository, config.digest) as chunks:
            return parse_config(read_capped(chunks, what), what).created


def manifest_links(client: RepositoryReader, repository: str, digest: str) -> tuple[str, ...]:
    """The digests the manifest ``digest`` names: an index's children, a referrer's subject."""
    descriptor, content = client.get_manifest(repository, digest)
    children, subject = _links(_parse(client, repository, digest, content, descriptor.media_type))
    return (*children, *([subject] if subject else []))


def _parse(
    client: RepositoryReader, repository: str, digest: str, content: bytes, media_type: str
) -> ManifestOrIndex | None:
    return parse_manifest(content, media_type, f"manifest {client.registry}/{repository}@{digest}")


def _links(manifest: ManifestOrIndex | None) -> tuple[tuple[str, ...], str | None]:
    """An index's children, and the ``subject`` a referrer names (if it names one)."""
    children = (
        tuple(m.digest for m in manifest.manifests) if isinstance(manifest, ImageIndex) else ()
    )
    return children, manifest.subject.digest if manifest and manifest.subject else None
