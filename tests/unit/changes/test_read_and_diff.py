"""Images read down to their platforms from an in-memory ``ManifestStore``, and two such sides
compared: what ``tagmgr diff`` does between reading a registry or a layout and reporting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tagmgr import exitcodes
from tagmgr.changes.diff import diff_sides
from tagmgr.changes.ignore import compile_rules
from tagmgr.changes.images import ImageSide, read_image
from tagmgr.changes.streams import LayerFormatError
from tagmgr.changes.verdict import DiffVerdict, Reason, diff_exit_code
from tagmgr.changes.walk import Layer
from tagmgr.errors import ImageFormatError
from tagmgr.oci.descriptor import Descriptor
from tests.support.oci import DOCKER, OCI, Image, descriptor, oci_image, oci_index, single

NOTHING_IGNORED = compile_rules([])


class MemoryStore:
    """A ``ManifestStore`` over an image made by tests.support.oci, blobs and children included;
    ``broken`` blobs read as other bytes."""

    def __init__(self, image: Image, broken: frozenset[str] = frozenset()) -> None:
        self.name = "registry.example/team/app"
        self._top = image
        self._manifests = {manifest.digest: manifest for manifest in image.manifests()}
        self._blobs = image.all_blobs()
        self._broken = broken
        self.blobs_read: list[str] = []

    def top(self) -> tuple[Descriptor, bytes]:
        return self._described(self._top)

    def child(self, entry: Descriptor) -> tuple[Descriptor, bytes]:
        return self._described(self._manifests[entry.digest])

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[Iterator[bytes]]:
        self.blobs_read.append(digest)
        yield iter([b"not a layer" if digest in self._broken else self._blobs[digest]])

    @staticmethod
    def _described(image: Image) -> tuple[Descriptor, bytes]:
        return Descriptor(image.media_type, image.digest, image.size), image.manifest_bytes


def side(image: Image, location: str = "a") -> ImageSide:
    return read_image(MemoryStore(image), location)


def with_manifest(image: Image, **changes: object) -> Image:
    """``image`` with top-level fields of its manifest replaced (blobs kept)."""
    manifest = {**json.loads(image.manifest_bytes), **changes}
    return Image(image.media_type, json.dumps(manifest).encode(), image.blobs, image.children)


def test_a_single_manifest_is_one_platform_named_by_its_config() -> None:
    image = single("app", OCI, ("linux", "arm64"), layers=2)
    read = side(image, "registry.example/team/app:1")
    assert (read.location, read.digest, list(read.platforms)) == (
        "registry.example/team/app:1",
        image.digest,
        ["linux/arm64"],
    )
    platform = read.platforms["linux/arm64"]
    assert platform.digest == image.digest
    assert platform.config["config"] == {"Labels": {"seed": "app"}}
    manifest = json.loads(image.manifest_bytes)
    assert platform.layers == tuple(
        Layer(layer["digest"], OCI.layer, diff_id)
        for layer, diff_id in zip(
            manifest["layers"], platform.config["rootfs"]["diff_ids"], strict=True
        )
    )


def test_an_index_is_one_platform_per_image_entry_and_attestations_are_skipped() -> None:
    index = oci_index("app")
    manifest = json.loads(index.manifest_bytes)
    attestation = {
        **descriptor(OCI.manifest, b"{}"),
        "platform": {"os": "unknown", "architecture": "unknown"},
    }
    read = side(with_manifest(index, manifests=[*manifest["manifests"], attestation]))
    assert {name: p.digest for name, p in read.platforms.items()} == {
        "linux/amd64": index.children[0].digest,
        "linux/arm64": index.children[1].digest,
    }


def test_a_config_of_another_media_type_is_no_image_to_compare() -> None:
    image = oci_image("app")
    config = {**json.loads(image.manifest_bytes)["config"], "mediaType": "application/x-helm"}
    with pytest.raises(ImageFormatError) as caught:
        side(with_manifest(image, config=config))
    assert str(caught.value) == (
        f"config registry.example/team/app@{config['digest']} is of media type "
        "application/x-helm, not an image config; tagmgr diff compares container images"
    )


def test_layers_the_config_does_not_count_are_refused() -> None:
    image = oci_image("app")
    layers = json.loads(image.manifest_bytes)["layers"]
    broken = with_manifest(image, layers=layers[:1])
    with pytest.raises(ImageFormatError) as caught:
        side(broken)
    assert str(caught.value) == (
        f"registry.example/team/app@{broken.digest}: the config's rootfs.diff_ids do not "
        "match the layers"
    )


def test_an_index_entry_that_is_an_index_is_refused() -> None:
    inner = oci_index("inner")
    entry = {
        **inner.as_descriptor(),
        "mediaType": OCI.manifest,
        "platform": {"os": "linux", "architecture": "amd64"},
    }
    outer = Image(
        OCI.index,
        json.dumps({"schemaVersion": 2, "mediaType": OCI.index, "manifests": [entry]}).encode(),
        children=(Image(OCI.index, inner.manifest_bytes, children=inner.children),),
    )
    with pytest.raises(ImageFormatError) as caught:
        side(outer, "oci:build:1")
    assert str(caught.value) == (
        f"manifest registry.example/team/app@{inner.digest} is an index, where oci:build:1 "
        "names an image manifest"
    )


def test_a_manifest_of_no_image_media_type_is_refused() -> None:
    odd = Image("application/vnd.example+json", b"{}")
    with pytest.raises(ImageFormatError) as caught:
        side(odd, "oci:build:1")
    assert str(caught.value) == (
        "manifest oci:build:1 is of media type application/vnd.example+json, not an image "
        "manifest or index"
    )


def test_the_same_manifest_is_identical_on_every_platform_without_a_layer_read() -> None:
    index = oci_index("app")
    store = MemoryStore(index)
    a, b = read_image(store, "a"), read_image(store, "b")
    store.blobs_read.clear()  # the configs, read with the manifests
    diff = diff_sides(a, b, NOTHING_IGNORED)
    assert diff.verdict is DiffVerdict.IDENTICAL
    assert [(p.platform, p.verdict) for p in diff.platforms] == [
        ("linux/amd64", DiffVerdict.IDENTICAL),
        ("linux/arm64", DiffVerdict.IDENTICAL),
    ]
    assert store.blobs_read == []


def test_the_same_image_in_another_format_is_equivalent_layer_for_layer() -> None:
    """A Docker manifest and an OCI one of the same config and layers: other digests, no
    difference that counts."""
    oci, docker = single("app", OCI), single("app", DOCKER)
    diff = diff_sides(side(oci), side(docker), NOTHING_IGNORED)
    assert diff.verdict is DiffVerdict.EQUIVALENT
    assert diff.platforms[0].reasons == ()


def test_a_platform_on_one_side_only_is_a_change_of_its_own() -> None:
    amd64 = single("linux/amd64", OCI, ("linux", "amd64"))
    diff = diff_sides(side(oci_index("app")), side(amd64), NOTHING_IGNORED)
    assert diff.verdict is DiffVerdict.CHANGED
    arm64 = diff.platforms[1]
    assert (arm64.platform, arm64.digest_b, arm64.reasons) == (
        "linux/arm64",
        None,
        (Reason("platform-removed", "linux/arm64"),),
    )
    added = diff_sides(side(amd64), side(oci_index("app")), NOTHING_IGNORED).platforms[1]
    assert (added.digest_a, added.reasons) == (None, (Reason("platform-added", "linux/arm64"),))


def test_other_builds_differ_in_their_files_and_labels_and_a_rule_can_ignore_them() -> None:
    one, other = side(single("one", OCI)), side(single("other", OCI))
    diff = diff_sides(one, other, NOTHING_IGNORED)
    assert diff.verdict is DiffVerdict.CHANGED
    assert [(r.kind, r.subject) for r in diff.reasons] == [
        ("config", "Labels[seed]"),
        ("file-modified", "layer0/seed.txt"),
        ("file-modified", "layer1/seed.txt"),
    ]
    ignoring = compile_rules(["layer*/seed.txt", "label:seed"])
    quiet = diff_sides(one, other, ignoring).platforms[0]
    assert (quiet.verdict, quiet.reasons, len(quiet.ignored)) == (DiffVerdict.EQUIVALENT, (), 3)


def test_a_layer_that_is_no_tar_is_named_with_its_side_and_platform() -> None:
    image = single("one", OCI)
    layer = json.loads(image.manifest_bytes)["layers"][0]["digest"]
    broken = read_image(MemoryStore(image, frozenset({layer})), "oci:build:1")
    with pytest.raises(LayerFormatError) as caught:
        diff_sides(broken, side(single("other", OCI)), NOTHING_IGNORED)
    assert str(caught.value).startswith(f"oci:build:1 (linux/amd64): layer {layer}: ")


def test_diff_exits_2_when_any_image_changed_and_0_when_all_are_alike() -> None:
    assert diff_exit_code([DiffVerdict.IDENTICAL, DiffVerdict.EQUIVALENT]) == exitcodes.OK
    assert (
        diff_exit_code([DiffVerdict.EQUIVALENT, DiffVerdict.CHANGED]) == exitcodes.CHANGES_PENDING
    )
    assert diff_exit_code([]) == exitcodes.OK
