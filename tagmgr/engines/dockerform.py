"""Whether a Docker daemon's pull, tag and push reproduce a manifest exactly: decided before I/O.

A daemon with the classic image store (Debian's docker.io 20.10, measured; README "The docker
engine") never pushes the manifest it pulled. It builds a Docker schema 2 manifest from the
image's config and layers and writes it as Go's ``json.MarshalIndent`` does with three spaces:
``schemaVersion``, ``mediaType``, then the config and each layer as ``mediaType``, ``size``,
``digest``, Docker media types throughout, no trailing newline. So an OCI manifest comes back with
Docker media types, an index or a manifest list as one platform's manifest, and any other
spelling of the same JSON under another digest. A layer the destination repository lacks is
uploaded compressed by the daemon, under a digest of its own, so the copy must stay in the
source's repository, where every layer already is.

A source is accepted only when re-serialising it the daemon's way gives back its exact bytes.
"""

from __future__ import annotations

import json
import re

from tagmgr.oci.descriptor import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from tagmgr.oci.reference import DIGEST_PATTERN, ImageReference

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_DIGEST_RE = re.compile(DIGEST_PATTERN)
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
    if media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST):
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
    ``content`` holds anything the daemon would not write at all (other fields, media types)."""
    try:
        manifest = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict) or set(manifest) != {
        "schemaVersion",
        "mediaType",
        "config",
        "layers",
    }:
        return None
    layers = manifest["layers"]
    if manifest["schemaVersion"] != 2 or manifest["mediaType"] != DOCKER_MANIFEST:
        return None
    if not isinstance(layers, list):
        return None
    config = _descriptor(manifest["config"], DOCKER_CONFIG)
    described = [_descriptor(layer, DOCKER_LAYER) for layer in layers]
    if config is None or None in described:
        return None
    form = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": config, "layers": described}
    return json.dumps(form, indent=3).encode()


def _descriptor(value: object, media_type: str) -> dict[str, object] | None:
    """``value`` as the daemon writes a descriptor (mediaType, size, digest), or None."""
    if not isinstance(value, dict) or set(value) != {"mediaType", "size", "digest"}:
        return None
    size, digest = value["size"], value["digest"]
    if value["mediaType"] != media_type or type(size) is not int or size < 0:
        return None
    if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
        return None
    return {"mediaType": media_type, "size": size, "digest": digest}
