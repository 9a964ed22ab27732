"""References to digests: HEAD for the digest, and for an index its per-platform children.

HEAD does not count against Docker Hub's pull limits, so a plain look-up is one HEAD. Only an
index's children need its bytes (one GET), and only when they are asked for. The digest of an
index is always the index's own: a child's digest is reported as that child, never in its place.
"""

from __future__ import annotations

from typing import NamedTuple

from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.oci.content import ImageIndex, parse_manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import INDEX_TYPES
from tagmgr.oci.platform import Platform
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.readers import RegistryReader


class Resolution(NamedTuple):
    """What a reference resolved to: a descriptor (None if absent), children for an index."""

    reference: ImageReference
    descriptor: Descriptor | None = None
    children: tuple[Descriptor, ...] = ()  # sorted by platform name, digest and media type
    error: str | None = None

    def child(self, platform: Platform) -> Descriptor | None:
        """The one child for ``platform``; ``linux/arm64`` also matches ``linux/arm64/v8``."""
        exact = [c for c in self.children if c.platform == platform]
        loose = [c for c in self.children if c.platform and platform.matches(c.platform)]
        found = exact or loose
        return found[0] if len(found) == 1 else None


def is_index(descriptor: Descriptor) -> bool:
    return descriptor.media_type in INDEX_TYPES


def resolve(client: RegistryReader, ref: ImageReference, *, children: bool = False) -> Resolution:
    """One HEAD; one GET more when ``children`` are wanted and ``ref`` is an index."""
    try:
        descriptor = client.head_manifest(ref.repository, ref.digest or str(ref.tag))
    except TagmgrError as error:
        return Resolution(ref, error=str(error))
    resolution = Resolution(ref, descriptor)
    return with_children(client, resolution) if children else resolution


def with_children(client: RegistryReader, resolution: Resolution) -> Resolution:
    """``resolution`` with its index's children (one GET); as it is when it is no index."""
    descriptor = resolution.descriptor
    if descriptor is None or resolution.error is not None or not is_index(descriptor):
        return resolution
    try:
        children = index_children(client, resolution.reference, descriptor.digest)
    except TagmgrError as error:
        return Resolution(resolution.reference, error=str(error))
    return resolution._replace(children=children)


def index_children(
    client: RegistryReader, ref: ImageReference, digest: str
) -> tuple[Descriptor, ...]:
    """The ``manifests[]`` of the index ``digest`` (fetched by digest, so the bytes are checked)."""
    descriptor, content = client.get_manifest(ref.repository, digest)
    what = f"manifest {ref.name}@{digest}"
    index = parse_manifest(content, descriptor.media_type, what)
    if not isinstance(index, ImageIndex):
        raise ImageFormatError(f"{what} is served as {descriptor.media_type}, not as an index")
    return tuple(sorted(index.manifests, key=lambda c: (c.platform_name, c.digest, c.media_type)))
