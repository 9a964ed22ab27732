"""Local images read through an in-memory ``Files``: blobs checked against their digests before
their last chunk is handed out, layers of a ``docker save`` archive told by their first bytes,
and what is refused, with where."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tagmgr.changes.local import (
    LayoutStore,
    SavedLayers,
    peek,
    read_docker_archive,
    read_layout,
    verified,
)
from tagmgr.changes.streams import SNIFF_BYTES, LayerFormatError
from tagmgr.changes.walk import Layer
from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.oci.transport import DOCKER_ARCHIVE, OCI, LocalImage
from tests.support.oci import Image, oci_image, oci_index, sha256

LAYOUT = LocalImage(OCI, "/builds/app", "latest")
SAVED = LocalImage(DOCKER_ARCHIVE, "/builds/app.tar")


class MemoryFiles:
    """A layout's or an archive's files by name, served in chunks of ``chunk`` bytes."""

    def __init__(self, files: dict[str, bytes], chunk: int = 7) -> None:
        self.files = files
        self._chunk = chunk

    @contextmanager
    def open(self, name: str) -> Iterator[Iterator[bytes]]:
        if name not in self.files:
            raise TagmgrError(f"no file {name}")
        data = self.files[name]
        yield iter([data[at : at + self._chunk] for at in range(0, len(data), self._chunk)])


def layout_files(image: Image) -> dict[str, bytes]:
    blobs = {**image.all_blobs(), **{m.digest: m.manifest_bytes for m in image.manifests()}}
    entry = {
        **image.as_descriptor(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }
    index = {"schemaVersion": 2, "manifests": [entry]}
    return {
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        "index.json": json.dumps(index).encode(),
        **{f"blobs/sha256/{d.removeprefix('sha256:')}": data for d, data in blobs.items()},
    }


def saved_files(image: Image, compress: bool = False) -> dict[str, bytes]:
    manifest = json.loads(image.manifest_bytes)
    config = manifest["config"]["digest"]
    layers = {
        f"{n}/layer.tar": gzip.decompress(image.blobs[layer["digest"]])
        for n, layer in enumerate(manifest["layers"])
    }
    if compress:
        layers = {name: gzip.compress(data, mtime=0) for name, data in layers.items()}
    saved = [{"Config": "config.json", "RepoTags": ["team/app:1"], "Layers": list(layers)}]
    return {
        "manifest.json": json.dumps(saved).encode(),
        "config.json": image.blobs[config],
        **layers,
    }


def test_a_blob_hands_out_its_last_chunk_only_once_it_hashed_right() -> None:
    data = [b"abc", b"def"]
    assert list(verified(iter(data), sha256(b"abcdef"), "blob")) == data
    handed: list[bytes] = []
    with pytest.raises(ImageFormatError) as caught:
        handed.extend(verified(iter(data), sha256(b"abcdeX"), "oci:/builds/app: blobs/x"))
    assert handed == [b"abc"]
    assert str(caught.value) == (
        f"oci:/builds/app: blobs/x: the blob hashes to {sha256(b'abcdef')}, not {sha256(b'abcdeX')}"
    )
    assert list(verified(iter([]), sha256(b""), "empty")) == []


def test_peek_takes_the_first_bytes_across_chunks_and_keeps_every_byte() -> None:
    chunks = [b"x" * 100, b"y" * 500, b"z" * 10]
    head, rest = peek(iter(chunks))
    assert head == b"x" * 100 + b"y" * (SNIFF_BYTES - 100)
    assert b"".join(rest) == b"".join(chunks)
    assert peek(iter([b"tiny"]))[0] == b"tiny"


def test_a_layout_is_read_as_a_registry_repository_is() -> None:
    index = oci_index("layout")
    side = read_layout(MemoryFiles(layout_files(index)), LAYOUT)
    assert (side.location, side.digest) == ("oci:/builds/app:latest", index.digest)
    assert sorted(side.platforms) == ["linux/amd64", "linux/arm64"]
    amd64 = side.platforms["linux/amd64"]
    assert side.layers.changes(amd64.layers[0]).records.keys() == {"layer0/seed.txt"}


def test_a_layout_blob_of_other_bytes_is_refused_by_its_path() -> None:
    image = oci_image("tampered")
    files = layout_files(image)
    path = f"blobs/sha256/{image.digest.removeprefix('sha256:')}"
    files[path] = files[path].replace(b"schemaVersion", b"schemaversion")
    with pytest.raises(ImageFormatError) as caught:
        LayoutStore(MemoryFiles(files), LAYOUT).top()
    assert str(caught.value).startswith(f"oci:/builds/app: {path}: the blob hashes to sha256:")


def test_a_docker_save_archive_is_its_image_id_and_its_layers_are_told_by_their_bytes() -> None:
    image = oci_image("saved")
    config = json.loads(image.manifest_bytes)["config"]["digest"]
    for compress in (False, True):
        side = read_docker_archive(MemoryFiles(saved_files(image, compress)), SAVED)
        assert (side.location, side.digest, list(side.platforms)) == (
            "docker-archive:/builds/app.tar",
            config,
            ["linux/amd64"],
        )
        first = side.platforms["linux/amd64"].layers[0]
        assert (first.digest, first.media_type) == ("0/layer.tar", "")
        assert "layer0/seed.txt" in side.layers.changes(first).records


def test_a_saved_layer_that_is_no_tar_is_named_by_its_file() -> None:
    files = saved_files(oci_image("saved"))
    files["0/layer.tar"] = b"\x00" * 10
    layers = SavedLayers(MemoryFiles(files), SAVED)
    with pytest.raises(LayerFormatError) as caught:
        layers.changes(Layer("0/layer.tar", "", "sha256:" + "0" * 64))
    assert str(caught.value) == "docker-archive:/builds/app.tar: 0/layer.tar is not a tar layer"


def test_a_saved_config_that_counts_other_layers_is_refused() -> None:
    files = saved_files(oci_image("saved"))
    saved = json.loads(files["manifest.json"])
    saved[0]["Layers"] = saved[0]["Layers"][:1]
    files["manifest.json"] = json.dumps(saved).encode()
    with pytest.raises(ImageFormatError) as caught:
        read_docker_archive(MemoryFiles(files), SAVED)
    assert str(caught.value) == (
        f"docker-archive:/builds/app.tar: image {sha256(files['config.json'])}: "
        "the config's rootfs.diff_ids do not match the layers"
    )
