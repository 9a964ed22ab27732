"""An image reference read down to its platforms: manifest digest, config and layers for each.

Manifests and configs are small and read whole (a config at most ``MAX_ANSWER`` bytes); layers
are left for ``walk`` to stream. Attestation manifests in an index (BuildKit's provenance, on an
``unknown/unknown`` platform) are not platforms and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tagmgr.changes.walk import Layer
from tagmgr.errors import TagmgrError
from tagmgr.oci.descriptor import DOCKER_MANIFEST_LIST, OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import RegistryClient
from tagmgr.registry.limits import MAX_ANSWER

_INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
_REFERENCE_TYPE = "vnd.docker.reference.type"


@dataclass(frozen=True)
class PlatformImage:
    platform: str  # os/architecture[/variant]
    digest: str
    config: Mapping[str, Any]
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class ImageSide:
    reference: ImageReference
    digest: str
    platforms: Mapping[str, PlatformImage]


class ImageFormatError(TagmgrError):
    """A manifest or config that is not what an image's must be."""


def read_image(client: RegistryClient, reference: ImageReference) -> ImageSide:
    repository, ref = reference.repository, str(reference.digest or reference.tag)
    if client.head_manifest(repository, ref) is None:
        raise TagmgrError(f"{reference} does not exist")
    descriptor, content = client.get_manifest(repository, ref)
    manifest = _json_object(content, f"manifest {reference}")
    if descriptor.media_type in _INDEX_TYPES or "manifests" in manifest:
        platforms = {}
        for entry in _list(manifest, "manifests", reference):
            key = _platform_key(_mapping(entry.get("platform")))
            if key is not None and not _is_attestation(entry):
                digest = str(entry.get("digest"))
                platforms[key] = _read_platform(client, reference, digest, key)
        return ImageSide(reference, descriptor.digest, platforms)
    single = _platform_image(client, reference, descriptor.digest, manifest, None)
    return ImageSide(reference, descriptor.digest, {single.platform: single})


def _read_platform(
    client: RegistryClient, reference: ImageReference, digest: str, key: str
) -> PlatformImage:
    descriptor, content = client.get_manifest(reference.repository, digest)
    manifest = _json_object(content, f"manifest {reference.name}@{digest}")
    return _platform_image(client, reference, descriptor.digest, manifest, key)


def _platform_image(
    client: RegistryClient,
    reference: ImageReference,
    digest: str,
    manifest: Mapping[str, Any],
    key: str | None,
) -> PlatformImage:
    config_digest = str(_mapping(manifest.get("config")).get("digest"))
    config = _json_object(_small_blob(client, reference, config_digest), f"config {config_digest}")
    diff_ids = _mapping(config.get("rootfs")).get("diff_ids")
    layers = _list(manifest, "layers", reference)
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
        raise ImageFormatError(
            f"{reference.name}@{digest}: the config's rootfs.diff_ids do not match the layers"
        )
    stack = tuple(
        Layer(str(layer.get("digest")), str(layer.get("mediaType")), str(diff_id))
        for layer, diff_id in zip(layers, diff_ids, strict=True)
    )
    platform = key or _platform_key(config) or "unknown"
    return PlatformImage(platform, digest, config, stack)


def _small_blob(client: RegistryClient, reference: ImageReference, digest: str) -> bytes:
    data = bytearray()
    with client.open_blob(reference.repository, digest) as chunks:
        for chunk in chunks:
            data += chunk
            if len(data) > MAX_ANSWER:
                raise ImageFormatError(f"config {digest} is larger than {MAX_ANSWER} bytes")
    return bytes(data)


def _platform_key(platform: Mapping[str, Any]) -> str | None:
    os_name, architecture = platform.get("os"), platform.get("architecture")
    if not os_name or not architecture or (os_name, architecture) == ("unknown", "unknown"):
        return None
    variant = platform.get("variant")
    return "/".join(str(part) for part in (os_name, architecture, variant) if part)


def _is_attestation(entry: Mapping[str, Any]) -> bool:
    return _mapping(entry.get("annotations")).get(_REFERENCE_TYPE) == "attestation-manifest"


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except (ValueError, RecursionError) as error:
        raise ImageFormatError(f"{what} is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise ImageFormatError(f"{what} is not a JSON object")
    return value


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(manifest: Mapping[str, Any], key: str, reference: ImageReference) -> list[dict[str, Any]]:
    items = manifest.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ImageFormatError(f"manifest {reference}: {key} is not a list of descriptors")
    return items
