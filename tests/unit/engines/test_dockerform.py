"""Which manifests a Docker daemon pushes back byte for byte: the pure decision, every kind."""

from __future__ import annotations

import json

import pytest

from tagmgr.engines.dockerform import daemon_form, refusal
from tagmgr.oci.reference import ImageReference
from tests.support.oci import Image, ImageFactory, daemon_form_docker_image

SOURCE = ImageReference.parse("127.0.0.1:5000/team/app:build-1")
DESTINATION = SOURCE.with_tag("v1")
OTHER_DIGEST = "the daemon would push it under another digest"
OCI_REASON = (
    "an OCI image manifest: the daemon pushes it with Docker media types, under another digest"
)


def why_not(image: Image, destination: ImageReference = DESTINATION) -> str | None:
    return refusal(SOURCE, destination, image.media_type, image.manifest_bytes)


def test_the_daemons_own_form_is_accepted() -> None:
    image = daemon_form_docker_image("seed")
    assert why_not(image) is None
    assert daemon_form(image.manifest_bytes) == image.manifest_bytes


def test_the_daemon_form_is_go_marshal_indent_with_three_spaces() -> None:
    image = daemon_form_docker_image("seed", layers=1)
    manifest = json.loads(image.manifest_bytes)
    config, layer = manifest["config"], manifest["layers"][0]
    assert image.manifest_bytes.decode() == (
        "{\n"
        '   "schemaVersion": 2,\n'
        '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
        '   "config": {\n'
        '      "mediaType": "application/vnd.docker.container.image.v1+json",\n'
        f'      "size": {config["size"]},\n'
        f'      "digest": "{config["digest"]}"\n'
        "   },\n"
        '   "layers": [\n'
        "      {\n"
        '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
        f'         "size": {layer["size"]},\n'
        f'         "digest": "{layer["digest"]}"\n'
        "      }\n"
        "   ]\n"
        "}"
    )


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (
            "index",
            "an OCI image index: the daemon pulls one platform and pushes it as a Docker schema 2 "
            "manifest, under another digest",
        ),
        (
            "docker_list",
            "a Docker manifest list: the daemon pulls one platform and pushes it as a Docker "
            "schema 2 manifest, under another digest",
        ),
        ("oci", OCI_REASON),
        ("unusual", OCI_REASON),
    ],
)
def test_what_the_daemon_rewrites_is_refused(kind: str, reason: str) -> None:
    assert why_not(ImageFactory("t").build(kind)) == reason


def test_a_docker_manifest_another_tool_wrote_is_refused_with_where_it_differs() -> None:
    image = ImageFactory("t").docker()
    # The config descriptor's keys come as mediaType, digest, size; Go writes size before digest.
    offset = image.manifest_bytes.index(b'"digest"') + 1  # past the shared quote
    assert why_not(image) == (
        "a Docker schema 2 manifest not in the daemon's own JSON form (its bytes differ from the "
        f"daemon's re-serialisation from byte {offset} on): {OTHER_DIGEST}"
    )


def test_a_trailing_newline_is_enough_to_refuse() -> None:
    image = daemon_form_docker_image("seed")
    with_newline = Image(image.media_type, image.manifest_bytes + b"\n", image.blobs)
    assert why_not(with_newline) == (
        "a Docker schema 2 manifest not in the daemon's own JSON form (its bytes differ from the "
        f"daemon's re-serialisation from byte {image.size} on): {OTHER_DIGEST}"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["layers"][0].update(urls=["https://example.com/layer"]),
        lambda m: m["layers"][0].update(
            mediaType="application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
        ),
        lambda m: m["config"].update(mediaType="application/vnd.oci.image.config.v1+json"),
        lambda m: m.update(annotations={"a": "b"}),
        lambda m: m["config"].update(size=True),
        lambda m: m["config"].update(digest="sha256:short"),
        lambda m: m.update(layers={}),
    ],
)
def test_fields_the_daemon_never_writes_are_refused(change: object) -> None:
    manifest = json.loads(daemon_form_docker_image("seed").manifest_bytes)
    assert callable(change)
    change(manifest)
    content = json.dumps(manifest, indent=3).encode()
    assert daemon_form(content) is None
    assert refusal(
        SOURCE, DESTINATION, "application/vnd.docker.distribution.manifest.v2+json", content
    ) == (
        "a Docker schema 2 manifest with fields or media types the daemon does not write: "
        f"{OTHER_DIGEST}"
    )


def test_not_json_and_unknown_types_are_refused() -> None:
    docker_type = "application/vnd.docker.distribution.manifest.v2+json"
    assert daemon_form(b"{not json") is None
    assert refusal(SOURCE, DESTINATION, "application/vnd.example+json", b"{}") == (
        f"a manifest of type application/vnd.example+json: {OTHER_DIGEST}"
    )
    assert refusal(SOURCE, DESTINATION, docker_type, b"[]") is not None


@pytest.mark.parametrize(
    "destination",
    ["127.0.0.1:5000/team/other:v1", "127.0.0.1:5001/team/app:v1"],
)
def test_another_repository_is_refused_even_in_the_daemons_form(destination: str) -> None:
    target = ImageReference.parse(destination)
    assert why_not(daemon_form_docker_image("seed"), target) == (
        f"{target.name} is not the source's repository; the daemon uploads layers a repository "
        "lacks compressed by itself, under other digests"
    )
