"""Every tar layer media type, OCI and Docker, is read by diff; the others are refused by name."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from tagmgr.changes.streams import LayerFormatError
from tagmgr.changes.walk import Layer, read_layer
from tests.unit.changes.test_diff_rules import tar_of

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("media_type", "compress"),
    [
        ("application/vnd.oci.image.layer.v1.tar", False),
        ("application/vnd.oci.image.layer.v1.tar+gzip", True),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar", False),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", True),
        ("application/vnd.docker.image.rootfs.diff.tar", False),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", True),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar", False),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", True),
    ],
)
def test_every_tar_layer_type_is_read(media_type: str, compress: bool) -> None:
    tar = tar_of("a", "b")
    blob = gzip.compress(tar) if compress else tar
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    changes = read_layer(Layer(DIGEST, media_type, diff_id), iter([blob]))
    assert sorted(changes.records) == ["a", "b"]


@pytest.mark.parametrize(
    ("media_type", "problem"),
    [
        (
            "application/vnd.docker.image.rootfs.diff.tar.zstd",
            "the layer is zstd-compressed; tagmgr diff reads gzip'd and uncompressed tar layers",
        ),
        (
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
            "the layer is zstd-compressed; tagmgr diff reads gzip'd and uncompressed tar layers",
        ),
        (
            "application/vnd.in-toto+json",
            "the layer's media type 'application/vnd.in-toto+json' is not one tagmgr diff "
            "reads: it reads OCI and Docker tar layers, uncompressed or gzip'd",
        ),
    ],
)
def test_a_layer_diff_cannot_read_is_refused_by_its_type(media_type: str, problem: str) -> None:
    with pytest.raises(LayerFormatError) as caught:
        read_layer(Layer(DIGEST, media_type, ""), iter([b""]))
    assert str(caught.value) == f"layer {DIGEST}: {problem}"
