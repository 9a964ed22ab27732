"""References to digests: HEAD for the digest, and for an index its per-platform children.

HEAD does not count against Docker Hub's pull limits, so a plain look-up is one HEAD. Only an
index's children need its bytes (one GET), and only when they are asked for. The digest of an
index is always the index's own: a child's digest is reported as that child, never in its place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.oci.descriptor import DOCKER_MANIFEST_LIST, OCI_INDEX, Descriptor
from tagmgr.oci.reference import DIGEST_PATTERN, ImageReference
from tagmgr.registry import RegistryClient

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
_DIGEST_RE = re.compile(DIGEST_PATTERN)


@dataclass(frozen=True, order=True)
class Child:
    """One manifest an index names: ``platform`` is ``os/architecture[/variant]``."""

    platform: str
    digest: str
    media_type: str


@dataclass(frozen=True)
class Resolution:
    """What a reference resolved to: a descriptor (None if absent), children for an index."""

    reference: ImageReference
    descriptor: Descriptor | None = None
    children: tuple[Child, ...] = ()
    error: str | None = None

    def child(self, platform: str) -> Child | None:
        """The child for ``platform``; ``linux/arm64`` also matches ``linux/arm64/v8``."""
        exact = [c for c in self.children if c.platform == platform]
        loose = [c for c in self.children if c.platform.startswith(f"{platform}/")]
        found = exact or loose
        return found[0] if len(found) == 1 else None


def is_index(descriptor: Descriptor) -> bool:
    return descriptor.media_type in INDEX_TYPES


def resolve(client: RegistryClient, ref: ImageReference, *, children: bool = False) -> Resolution:
    """One HEAD; one GET more when ``children`` are wanted and ``ref`` is an index."""
    try:
        descriptor = client.head_manifest(ref.repository, ref.digest or str(ref.tag))
    except TagmgrError as error:
        return Resolution(ref, error=str(error))
    resolution = Resolution(ref, descriptor)
    return with_children(client, resolution) if children else resolution


def with_children(client: RegistryClient, resolution: Resolution) -> Resolution:
    """``resolution`` with its index's children (one GET); as it is when it is no index."""
    descriptor = resolution.descriptor
    if descriptor is None or resolution.error is not None or not is_index(descriptor):
        return resolution
    try:
        children = index_children(client, resolution.reference, descriptor.digest)
    except TagmgrError as error:
        return Resolution(resolution.reference, error=str(error))
    return replace(resolution, children=children)


def index_children(client: RegistryClient, ref: ImageReference, digest: str) -> tuple[Child, ...]:
    """The ``manifests[]`` of the index ``digest`` (fetched by digest, so the bytes are checked)."""
    _, content = client.get_manifest(ref.repository, digest)
    try:
        entries = json.loads(content)["manifests"]
        return tuple(sorted(_child(entry) for entry in entries))
    except (ValueError, RecursionError, KeyError, TypeError) as error:
        raise RegistryError(
            client.registry, f"{ref.name}@{digest}: not a readable index ({error})"
        ) from None


def _child(entry: dict[str, object]) -> Child:
    digest = entry["digest"]
    media_type = entry.get("mediaType", "")
    platform = entry.get("platform") or {}
    if not (isinstance(digest, str) and _DIGEST_RE.fullmatch(digest)):
        raise ValueError(f"{digest!r} is not a digest")
    if not isinstance(platform, dict) or not isinstance(media_type, str):
        raise TypeError("a manifests[] entry of the wrong shape")
    parts = [platform.get("os") or "unknown", platform.get("architecture") or "unknown"]
    if platform.get("variant"):
        parts.append(platform["variant"])
    return Child("/".join(str(p) for p in parts), digest, media_type)
