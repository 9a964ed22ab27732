"""Every media type tagmgr names, spelled out here as the specs spell them, and what each is."""

from __future__ import annotations

import pytest

from tagmgr.oci.mediatypes import (
    IMAGE_CONFIG_TYPES,
    IMAGE_MANIFEST_TYPES,
    INDEX_TYPES,
    MANIFEST_MEDIA_TYPES,
    Compression,
    layer_compression,
)

NONE, GZIP, ZSTD = Compression.NONE, Compression.GZIP, Compression.ZSTD


@pytest.mark.parametrize(
    ("media_type", "compression"),
    [
        ("application/vnd.oci.image.layer.v1.tar", NONE),
        ("application/vnd.oci.image.layer.v1.tar+gzip", GZIP),
        ("application/vnd.oci.image.layer.v1.tar+zstd", ZSTD),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar", NONE),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", GZIP),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", ZSTD),
        ("application/vnd.docker.image.rootfs.diff.tar", NONE),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", GZIP),
        ("application/vnd.docker.image.rootfs.diff.tar.zstd", ZSTD),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar", NONE),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", GZIP),
        ("application/vnd.in-toto+json", None),
        ("application/vnd.oci.image.layer.v1.tar+bzip2", None),
        ("application/vnd.oci.empty.v1+json", None),
    ],
)
def test_every_layer_type_and_its_compression(
    media_type: str, compression: Compression | None
) -> None:
    assert layer_compression(media_type) is compression


def test_manifest_index_and_config_types() -> None:
    assert {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    } == INDEX_TYPES
    assert {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    } == IMAGE_MANIFEST_TYPES
    assert set(MANIFEST_MEDIA_TYPES) == INDEX_TYPES | IMAGE_MANIFEST_TYPES
    assert {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    } == IMAGE_CONFIG_TYPES
