"""An image reference read down to its platforms: manifest digest, config and layers for each.

Manifests and configs are read whole, through the one parser (``tagmgr.oci.content``, which also
bounds their size); layers are left for ``walk`` to stream. An index's entries that are not one
platform's image (BuildKit's attestations on ``unknown/unknown``, artifacts) are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tagmgr.changes.walk import Layer
from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.oci.content import (
    ImageConfig,
    ImageIndex,
    ImageManifest,
    parse_config,
    parse_manifest,
    read_document,
)
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import IMAGE_CONFIG_TYPES
from tagmgr.oci.platform import UNKNOWN, Platform
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import RegistryClient


@dataclass(frozen=True)
class PlatformImage:
    platform: str  # as ``str(Platform)`` spells it
    digest: str
    config: Mapping[str, Any]
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class ImageSide:
    reference: ImageReference
    digest: str
    platforms: Mapping[str, PlatformImage]


def read_image(client: RegistryClient, reference: ImageReference) -> ImageSide:
    repository, ref = reference.repository, str(reference.digest or reference.tag)
    if client.head_manifest(repository, ref) is None:
        raise TagmgrError(f"{reference} does not exist")
    descriptor, content = client.get_manifest(repository, ref)
    manifest = _manifest(content, descriptor.media_type, f"manifest {reference}")
    if isinstance(manifest, ImageIndex):
        platforms = {}
        for entry in manifest.manifests:
            if entry.is_platform_image:
                image = _read_platform(client, reference, entry)
                platforms[image.platform] = image
        return ImageSide(reference, descriptor.digest, platforms)
    single = _platform_image(client, reference, descriptor.digest, manifest, None)
    return ImageSide(reference, descriptor.digest, {single.platform: single})


def _read_platform(
    client: RegistryClient, reference: ImageReference, entry: Descriptor
) -> PlatformImage:
    descriptor, content = client.get_manifest(reference.repository, entry.digest)
    what = f"manifest {reference.name}@{entry.digest}"
    manifest = _manifest(content, descriptor.media_type, what)
    if not isinstance(manifest, ImageManifest):
        raise ImageFormatError(f"{what} is an index, where {reference} names an image manifest")
    return _platform_image(client, reference, descriptor.digest, manifest, entry.platform)


def _manifest(content: bytes, media_type: str, what: str) -> ImageManifest | ImageIndex:
    manifest = parse_manifest(content, media_type, what)
    if manifest is None:
        raise ImageFormatError(
            f"{what} is of media type {media_type or '(none)'}, not an image manifest or index"
        )
    return manifest


def _platform_image(
    client: RegistryClient,
    reference: ImageReference,
    digest: str,
    manifest: ImageManifest,
    platform: Platform | None,
) -> PlatformImage:
    config = _config(client, reference, manifest.config)
    if len(config.diff_ids) != len(manifest.layers):
        raise ImageFormatError(
            f"{reference.name}@{digest}: the config's rootfs.diff_ids do not match the layers"
        )
    stack = tuple(
        Layer(layer.digest, layer.media_type, diff_id)
        for layer, diff_id in zip(manifest.layers, config.diff_ids, strict=True)
    )
    named = platform or config.platform or UNKNOWN
    return PlatformImage(str(named), digest, config.document, stack)


def _config(client: RegistryClient, reference: ImageReference, config: Descriptor) -> ImageConfig:
    what = f"config {reference.name}@{config.digest}"
    if config.media_type not in IMAGE_CONFIG_TYPES:
        raise ImageFormatError(
            f"{what} is of media type {config.media_type}, not an image config; "
            "tagmgr diff compares container images"
        )
    with client.open_blob(reference.repository, config.digest) as chunks:
        return parse_config(read_document(chunks, what), what)
