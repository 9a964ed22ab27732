"""diff and versions update over every layer format and platform layout, against a real registry.

Docker schema 2 images with uncompressed layers (``rootfs.diff.tar``), a zstd layer refused with
the image named, indexes holding attestations and artifacts beside their platforms, and the
platform of every reason ``versions update`` gives.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration.test_diff import first_build, first_layers, pushed
from tests.support.e2e import GATE, run_tagmgr
from tests.support.layers import Built, Layer, build_image, build_index, file
from tests.support.oci import DOCKER, OCI, Image, descriptor, sha256
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

DOCKER_PLAIN = "application/vnd.docker.image.rootfs.diff.tar"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def uncompressed(layers: list[Layer]) -> list[Layer]:
    return [replace(layer, gzip_level=None) for layer in layers]


def layer_types(image: Image) -> list[str]:
    return [str(layer["mediaType"]) for layer in json.loads(image.manifest_bytes)["layers"]]


def test_a_docker_image_with_uncompressed_layers_is_compared(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``skopeo copy --dest-decompress`` writes: Docker schema 2, ``rootfs.diff.tar``."""
    plain = build_image(uncompressed(first_layers()), types=DOCKER)
    assert layer_types(plain) == [DOCKER_PLAIN, DOCKER_PLAIN]
    gzipped = build_image(first_layers(), types=DOCKER)
    changed = build_image(
        uncompressed([*first_layers(), Layer([file("srv/index.html", "<h1>new</h1>")])]),
        types=DOCKER,
    )
    refs = pushed(registry, repo, oci=first_build(), plain=plain, gzipped=gzipped, changed=changed)
    for other in ("oci", "gzipped"):
        result = run_tagmgr(capsys, "diff", refs[other], refs["plain"])
        assert (result.code, result.err) == (0, ""), result.err
        assert result.out.splitlines()[0] == f"equivalent: {refs[other]} -> {refs['plain']}"
    result = run_tagmgr(capsys, "diff", refs["plain"], refs["changed"])
    assert (result.code, result.err) == (2, "")
    assert result.out.splitlines()[2:] == ["    file-added srv/index.html: file"]


def test_a_zstd_layer_is_refused_naming_the_image_and_its_platform(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = b"zstd bytes are never read"
    zstd = build_image([Built(ZSTD, blob, sha256(b"the tar inside"))])
    refs = pushed(registry, repo, a=first_build(), b=zstd)
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"tagmgr: error: {refs['b']} (linux/amd64): layer {sha256(blob)}: the layer is "
        "zstd-compressed; tagmgr diff reads gzip'd and uncompressed tar layers\n"
    )


def attestation_for(image: Image) -> Image:
    """A BuildKit-style attestation manifest: unknown/unknown, an in-toto layer."""
    statement = json.dumps({"subject": [{"digest": {"sha256": image.digest[7:]}}]}).encode()
    config = b"{}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI.manifest,
        "config": descriptor(OCI.config, config),
        "layers": [descriptor("application/vnd.in-toto+json", statement)],
    }
    blobs = {sha256(config): config, sha256(statement): statement}
    return Image(OCI.manifest, json.dumps(manifest).encode(), blobs)


def with_attestation(image: Image) -> Image:
    """An index of ``image`` on linux/amd64 and its attestation, as BuildKit pushes them."""
    attestation = attestation_for(image)
    entries = [
        {**image.as_descriptor(), "platform": {"os": "linux", "architecture": "amd64"}},
        {
            **attestation.as_descriptor(),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.digest": image.digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
        },
    ]
    index = {"schemaVersion": 2, "mediaType": OCI.index, "manifests": entries}
    return Image(OCI.index, json.dumps(index).encode(), children=(image, attestation))


def test_attestations_in_an_index_are_not_platforms(
    registry: RegistryServer, repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rebuild = build_image(first_layers(), created="2026-06-01T00:00:00Z")
    refs = pushed(registry, repo, a=with_attestation(first_build()), b=with_attestation(rebuild))
    result = run_tagmgr(capsys, "diff", refs["a"], refs["b"], "--output", "json")
    assert (result.code, result.err) == (0, "")
    platforms = result.json()["platforms"]
    assert [(p["platform"], p["verdict"]) for p in platforms] == [("linux/amd64", "equivalent")]


VERSIONS = "images:\n- name: {address}/{repo}/web\n  version: v1\n"


def test_versions_update_names_the_platform_of_each_reason(
    registry: RegistryServer, repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arm = build_image(first_layers(), platform=("linux", "arm64"))
    arm_change = build_image(
        [*first_layers(), Layer([file("srv/arm.txt", "arm")])], platform=("linux", "arm64")
    )
    release = build_index({("linux", "amd64"): first_build(), ("linux", "arm64"): arm})
    build = build_index({("linux", "amd64"): first_build(), ("linux", "arm64"): arm_change})
    push(registry.address, f"{repo}/web", "v1", release)
    push(registry.address, f"{repo}/web", "b42", build)
    path = tmp_path / "versions.yaml"
    path.write_text(VERSIONS.format(address=registry.address, repo=repo))

    text = run_tagmgr(capsys, "versions", "update", path, "--build", "b42", *GATE)
    assert text.code == 2, text.err
    assert text.out.splitlines()[1] == "          linux/arm64: file-added srv/arm.txt: file"
    as_json = run_tagmgr(
        capsys, "versions", "update", path, "--build", "b42", "--dry-run", "--output", "json"
    )
    assert as_json.json()["entries"][0]["reasons"] == [
        {
            "platform": "linux/arm64",
            "kind": "file-added",
            "subject": "srv/arm.txt",
            "detail": "file",
        }
    ]
