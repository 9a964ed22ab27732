"""Whether a Docker daemon's pull, tag and push reproduce a manifest exactly: decided before I/O.

A daemon with the classic image store (Debian's docker.io 20.10, as tried:
docs/concepts/engines.md, "The docker engine") never pushes the manifest it pulled. It builds a
Docker schema 2 manifest from the image's config and layers and writes it as Go's
``json.MarshalIndent`` does with three spaces: ``schemaVersion``, ``mediaType``, then the config
and each layer as ``mediaType``, ``size``, ``digest``, Docker media types throughout, no trailing
newline. So an OCI manifest comes back with Docker media types, an index or a manifest list as one
platform's manifest, and any other spelling of the same JSON under another digest. A layer the
destination repository lacks is uploaded compressed by the daemon, under a digest of its own, so
the copy must stay in the source's repository, where every layer already is.

A source is accepted only when re-serialising it the daemon's way gives back its exact bytes.
"""

from __future__ import annotations

import json

from tagmgr.errors import ImageFormatError
from tagmgr.oci.content import ImageManifest, parse_manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
)
from tagmgr.oci.reference import ImageReference

_OTHER_DIGEST = "the daemon would push it under another digest"


def refusal(
    source: ImageReference, destination: ImageReference, media_type: str, content: bytes
) -> str | None:
    """Why pushing ``source`` to ``destination`` through a daemon would change its digest, or
    None when the daemon is certain to push ``content`` byte for byte."""
    if (source.registry, source.repository) != (destination.registry, destination.repository):
        return (
            f"{destination.name} is not the source's repository; the daemon uploads layers a "
            "repository lacks compressed by itself, under other digests"
        )
    if media_type != DOCKER_MANIFEST:
        return _rewritten_kind(media_type)
    expected = daemon_form(content)
    if expected is None:
        return (
            "a Docker schema 2 manifest with fields or media types the daemon does not write: "
            f"{_OTHER_DIGEST}"
        )
    if expected != content:
        offset = next(
            (i for i, (a, b) in enumerate(zip(expected, content, strict=False)) if a != b),
            min(len(expected), len(content)),
        )
        return (
            "a Docker schema 2 manifest not in the daemon's own JSON form (its bytes differ from "
            f"the daemon's re-serialisation from byte {offset} on): {_OTHER_DIGEST}"
        )
    return None


def _rewritten_kind(media_type: str) -> str:
    """What the daemon does to a manifest that is not a Docker schema 2 manifest."""
    if media_type in INDEX_TYPES:
        kind = "an OCI image index" if media_type == OCI_INDEX else "a Docker manifest list"
        return (
            f"{kind}: the daemon pulls one platform and pushes it as a Docker schema 2 "
            "manifest, under another digest"
        )
    if media_type == OCI_MANIFEST:
        return (
            "an OCI image manifest: the daemon pushes it with Docker media types, under another "
            "digest"
        )
    return f"a manifest of type {media_type or '(none)'}: {_OTHER_DIGEST}"


def daemon_form(content: bytes) -> bytes | None:
    """The bytes a daemon writes for the config and layers ``content`` names, or None when
    ``content`` holds anything the daemon would not write at all (other fields, media types).

    A field the parser does not keep (an unknown one) is left to the byte comparison."""
    try:
        manifest = parse_manifest(content, DOCKER_MANIFEST, "manifest")
    except ImageFormatError:
        return None
    if not isinstance(manifest, ImageManifest) or manifest != ImageManifest(
        DOCKER_MANIFEST, manifest.config, manifest.layers
    ):
        return None
    config = _daemon_descriptor(manifest.config, DOCKER_CONFIG)
    layers = [_daemon_descriptor(layer, DOCKER_LAYER_GZIP) for layer in manifest.layers]
    if config is None or None in layers:
        return None
    form = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": config, "layers": layers}
    return json.dumps(form, indent=3).encode()


def _daemon_descriptor(descriptor: Descriptor, media_type: str) -> dict[str, object] | None:
    """``descriptor`` as the daemon writes one (mediaType, size, digest), or None."""
    if descriptor != Descriptor(media_type, descriptor.digest, descriptor.size):
        return None
    return {"mediaType": media_type, "size": descriptor.size, "digest": descriptor.digest}
