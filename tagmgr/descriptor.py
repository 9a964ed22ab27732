"""Content descriptors and the manifest media types tagmgr moves byte for byte."""

from __future__ import annotations

from dataclasses import dataclass

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

# Listed in every manifest request, so a registry never converts what it stores into another format.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)


@dataclass(frozen=True)
class Descriptor:
    """What a registry says a reference points at."""

    media_type: str
    digest: str
    size: int
