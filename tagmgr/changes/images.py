"""An image read down to its platforms: manifest digest, config and layers for each, from a
registry repository or an OCI image layout (a ``ManifestStore``).

Manifests and configs are read whole, through the one parser (``tagmgr.oci.content``, which also
bounds their size); layers are left for ``walk`` to stream. An index's entries that are not one
platform's image (BuildKit's attestations on ``unknown/unknown``, artifacts) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.walk import Layer, read_layer
from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.oci.content import (
    ImageConfig,
    ImageIndex,
    ImageManifest,
    parse_config,
    parse_manifest,
    read_capped,
)
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import IMAGE_CONFIG_TYPES
from tagmgr.oci.platform import UNKNOWN, Platform
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import RegistryClient

Chunks = AbstractContextManager[Iterator[bytes]]


@dataclass(frozen=True)
class PlatformImage:
    platform: str  # as ``str(Platform)`` spells it
    digest: str
    config: Mapping[str, Any]
    layers: tuple[Layer, ...]


class LayerSource(Protocol):
    def changes(self, layer: Layer) -> LayerChanges:
        """What ``layer`` does to the filesystem below it, read as a stream."""


@dataclass(frozen=True)
class ImageSide:
    location: str  # as the user gave it: a reference, or a transport and path
    digest: str  # the manifest's; for an image without one (docker save), its image ID
    platforms: Mapping[str, PlatformImage]
    layers: LayerSource


class ManifestStore(Protocol):
    """Where manifests and blobs are read from: a registry repository, or an OCI image layout."""

    name: str  # what messages call the store: a repository, or a layout's transport and path

    def top(self) -> tuple[Descriptor, bytes]:
        """The manifest the user named, or ``TagmgrError`` if there is none."""

    def child(self, entry: Descriptor) -> tuple[Descriptor, bytes]:
        """The manifest an index entry names."""

    def open_blob(self, digest: str) -> Chunks:
        """The blob's bytes, checked against ``digest`` by the time the last chunk is read."""


class StoreLayers:
    """Layers read from a store's blobs by their digest."""

    def __init__(self, store: ManifestStore) -> None:
        self._store = store

    def changes(self, layer: Layer) -> LayerChanges:
        with self._store.open_blob(layer.digest) as chunks:
            return read_layer(layer, chunks)


class RegistryStore:
    def __init__(self, client: RegistryClient, reference: ImageReference) -> None:
        self._client = client
        self._reference = reference
        self.name = reference.name

    def top(self) -> tuple[Descriptor, bytes]:
        reference = self._reference
        repository, ref = reference.repository, str(reference.digest or reference.tag)
        if self._client.head_manifest(repository, ref) is None:
            raise TagmgrError(f"{reference} does not exist")
        return self._client.get_manifest(repository, ref)

    def child(self, entry: Descriptor) -> tuple[Descriptor, bytes]:
        return self._client.get_manifest(self._reference.repository, entry.digest)

    def open_blob(self, digest: str) -> Chunks:
        return self._client.open_blob(self._reference.repository, digest)


def read_image(store: ManifestStore, location: str) -> ImageSide:
    descriptor, content = store.top()
    manifest = _manifest(content, descriptor.media_type, f"manifest {location}")
    if isinstance(manifest, ImageIndex):
        platforms = {}
        for entry in manifest.manifests:
            if entry.is_platform_image:
                image = _read_platform(store, location, entry)
                platforms[image.platform] = image
        return ImageSide(location, descriptor.digest, platforms, StoreLayers(store))
    single = _platform_image(store, descriptor.digest, manifest, None)
    return ImageSide(location, descriptor.digest, {single.platform: single}, StoreLayers(store))


def _read_platform(store: ManifestStore, location: str, entry: Descriptor) -> PlatformImage:
    descriptor, content = store.child(entry)
    what = f"manifest {store.name}@{entry.digest}"
    manifest = _manifest(content, descriptor.media_type, what)
    if not isinstance(manifest, ImageManifest):
        raise ImageFormatError(f"{what} is an index, where {location} names an image manifest")
    return _platform_image(store, descriptor.digest, manifest, entry.platform)


def _manifest(content: bytes, media_type: str, what: str) -> ImageManifest | ImageIndex:
    manifest = parse_manifest(content, media_type, what)
    if manifest is None:
        raise ImageFormatError(
            f"{what} is of media type {media_type or '(none)'}, not an image manifest or index"
        )
    return manifest


def _platform_image(
    store: ManifestStore, digest: str, manifest: ImageManifest, platform: Platform | None
) -> PlatformImage:
    config = _config(store, manifest.config)
    if len(config.diff_ids) != len(manifest.layers):
        raise ImageFormatError(
            f"{store.name}@{digest}: the config's rootfs.diff_ids do not match the layers"
        )
    stack = tuple(
        Layer(layer.digest, layer.media_type, diff_id)
        for layer, diff_id in zip(manifest.layers, config.diff_ids, strict=True)
    )
    named = platform or config.platform or UNKNOWN
    return PlatformImage(str(named), digest, config.document, stack)


def _config(store: ManifestStore, config: Descriptor) -> ImageConfig:
    what = f"config {store.name}@{config.digest}"
    if config.media_type not in IMAGE_CONFIG_TYPES:
        raise ImageFormatError(
            f"{what} is of media type {config.media_type}, not an image config; "
            "tagmgr diff compares container images"
        )
    with store.open_blob(config.digest) as chunks:
        return parse_config(read_capped(chunks, what), what)
