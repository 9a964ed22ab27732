"""Every media type tagmgr names: OCI image-spec's and Docker's image manifest v2 schema 2's.

Manifests and indexes are read and copied; configs are read only when their media type is one of
the two image configs (the image spec forbids parsing a config of a type one does not know); layers
are read by ``tagmgr diff``, which needs to know how each is compressed.
"""

from __future__ import annotations

from enum import StrEnum

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
# Deprecated by the image spec, still found in Windows images.
OCI_NONDISTRIBUTABLE_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_NONDISTRIBUTABLE_LAYER_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_NONDISTRIBUTABLE_LAYER_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
# Uncompressed: what ``skopeo copy --dest-decompress`` writes, and what Docker pulls.
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# Listed in every manifest request, so a registry never converts what it stores into another format.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
IMAGE_CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})


class Compression(StrEnum):
    NONE = "uncompressed"
    GZIP = "gzip"
    ZSTD = "zstd"


LAYER_COMPRESSION = {
    OCI_LAYER: Compression.NONE,
    OCI_NONDISTRIBUTABLE_LAYER: Compression.NONE,
    DOCKER_LAYER: Compression.NONE,
    DOCKER_FOREIGN_LAYER: Compression.NONE,
    OCI_LAYER_GZIP: Compression.GZIP,
    OCI_NONDISTRIBUTABLE_LAYER_GZIP: Compression.GZIP,
    DOCKER_LAYER_GZIP: Compression.GZIP,
    DOCKER_FOREIGN_LAYER_GZIP: Compression.GZIP,
    OCI_LAYER_ZSTD: Compression.ZSTD,
    OCI_NONDISTRIBUTABLE_LAYER_ZSTD: Compression.ZSTD,
    DOCKER_LAYER_ZSTD: Compression.ZSTD,
}


def layer_compression(media_type: str) -> Compression | None:
    """How a tar layer of ``media_type`` is compressed; None when it is no tar layer type."""
    return LAYER_COMPRESSION.get(media_type)
