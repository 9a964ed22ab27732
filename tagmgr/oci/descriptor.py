"""Content descriptors and the manifest media types tagmgr moves byte for byte."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tagmgr.errors import TagmgrError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

# Listed in every manifest request, so a registry never converts what it stores into another format.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

_PLATFORM_PART = r"[A-Za-z0-9._-]+"
_PLATFORM_RE = re.compile(rf"{_PLATFORM_PART}/{_PLATFORM_PART}(?:/{_PLATFORM_PART})?")


@dataclass(frozen=True)
class Descriptor:
    """What a registry says a reference points at."""

    media_type: str
    digest: str
    size: int


@dataclass(frozen=True)
class Contents:
    """What a manifest refers to: child manifests (an index's) and blobs (config and layers)."""

    children: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()


def contents_of(media_type: str, content: bytes) -> Contents | None:
    """The digests a manifest names, or None for a media type tagmgr does not read.

    Only digests are taken; what they point at is checked by whoever reads it by digest.
    """
    if media_type not in MANIFEST_MEDIA_TYPES:
        return None
    try:
        document = json.loads(content)
        if media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST):
            return Contents(children=tuple(str(m["digest"]) for m in document["manifests"]))
        named = [document["config"], *(document.get("layers") or [])]
        return Contents(blobs=tuple(str(d["digest"]) for d in named))
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None


def parse_platform(text: str) -> str:
    """``os/architecture[/variant]``, as ``--platform`` takes it; ``TagmgrError`` otherwise."""
    if not _PLATFORM_RE.fullmatch(text):
        raise TagmgrError(f"{text!r}: a platform is os/architecture[/variant], e.g. linux/arm64")
    return text
