"""The one parser of manifests, indexes and configs: the image spec's own examples, every manifest
media type, every malformed field with its whole message, and the one size limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tagmgr.errors import ImageFormatError
from tagmgr.oci.content import (
    MAX_DOCUMENT_BYTES,
    ImageIndex,
    ImageManifest,
    parse_config,
    parse_created,
    parse_manifest,
    read_capped,
)
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.platform import Platform
from tests.support.oci import DOCKER, OCI, ImageFactory

WHAT = "manifest r/app@sha256:0"
A, B, C = ("sha256:" + c * 64 for c in "abc")

# The image spec's examples (image-index.md, manifest.md), as its documents give them.
SPEC_INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 7143,
            "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
            "platform": {"architecture": "ppc64le", "os": "linux"},
        },
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "size": 7682,
            "digest": "sha256:601570aaff1b68a61eb9c85b8beca1644e698003e0cdb5bce960f193d265a8b7",
        },
    ],
    "annotations": {"com.example.key1": "value1", "com.example.key2": "value2"},
}
SPEC_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
        "size": 7023,
    },
    "layers": [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
            "size": 32654,
        },
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
            "size": 16724,
        },
    ],
    "subject": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
        "size": 7682,
    },
    "annotations": {"com.example.key1": "value1", "com.example.key2": "value2"},
}
EMPTY = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
}
SPEC_ARTIFACT = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.example+type",
    "config": {**EMPTY, "data": "e30="},
    "layers": [EMPTY],
}
SPEC_CONFIG = {
    "created": "2015-10-31T22:22:56.015925234Z",
    "architecture": "amd64",
    "os": "linux",
    "config": {"User": "alice", "Env": ["PATH=/usr/bin"], "Cmd": ["--foreground"]},
    "rootfs": {
        "diff_ids": [
            "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
        ],
        "type": "layers",
    },
}


def as_bytes(document: object) -> bytes:
    return json.dumps(document, indent=2).encode()


def manifest(document: dict[str, Any], media_type: str | None = None) -> Any:
    served = document.get("mediaType", "") if media_type is None else media_type
    return parse_manifest(as_bytes(document), served, WHAT)


def test_the_spec_index_example() -> None:
    index = manifest(SPEC_INDEX)
    assert isinstance(index, ImageIndex)
    first, nested = index.manifests
    assert first == Descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
        7143,
        Platform("linux", "ppc64le"),
    )
    assert (first.platform_name, first.is_platform_image) == ("linux/ppc64le", True)
    assert nested.platform is None
    assert (nested.platform_name, nested.is_platform_image) == ("unknown/unknown", False)
    assert index.annotations == (("com.example.key1", "value1"), ("com.example.key2", "value2"))
    assert index.subject is None


def test_the_spec_manifest_example() -> None:
    image = manifest(SPEC_MANIFEST)
    assert isinstance(image, ImageManifest)
    assert image.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert image.blobs == (
        "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
        "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
        "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
    )
    assert image.layers[1].size == 16724
    assert image.subject is not None
    assert image.subject.digest.startswith("sha256:5b0bcabd")


def test_the_spec_artifact_example_is_read_and_its_config_left_alone() -> None:
    artifact = manifest(SPEC_ARTIFACT)
    assert isinstance(artifact, ImageManifest)
    assert artifact.artifact_type == "application/vnd.example+type"
    assert artifact.config.media_type == "application/vnd.oci.empty.v1+json"


def test_the_spec_config_example() -> None:
    config = parse_config(as_bytes(SPEC_CONFIG), "config c")
    assert config.platform == Platform("linux", "amd64")
    assert [d[7:15] for d in config.diff_ids] == ["c6f988f4", "5f70bf18"]
    assert config.created == datetime(2015, 10, 31, 22, 22, 56, 15925, tzinfo=UTC)
    assert config.document["config"]["User"] == "alice"


@pytest.mark.parametrize(
    "build",
    [
        lambda f: f.oci(),
        lambda f: f.docker(),
        lambda f: f.index(),
        lambda f: f.docker_list(),
        lambda f: f.unusual(),
        lambda f: f.daemon_form(),
    ],
    ids=["oci", "docker", "oci-index", "docker-list", "unusual-bytes", "daemon-form"],
)
def test_every_manifest_media_type_tagmgr_builds_is_read(
    build: Callable[[ImageFactory], Any],
) -> None:
    image = build(ImageFactory("t"))
    parsed = parse_manifest(image.manifest_bytes, image.media_type, WHAT)
    assert parsed is not None
    assert parsed.media_type == image.media_type
    if isinstance(parsed, ImageIndex):
        assert [m.digest for m in parsed.manifests] == [c.digest for c in image.children]
        assert [m.platform_name for m in parsed.manifests] == ["linux/amd64", "linux/arm64"]
        assert all(m.is_platform_image for m in parsed.manifests)
    else:
        assert set(parsed.blobs) == set(image.blobs)
        assert parsed.config.media_type in (OCI.config, DOCKER.config)


@pytest.mark.parametrize(
    ("served", "document_type"),
    [
        ("application/vnd.docker.distribution.manifest.v1+prettyjws", None),
        ("application/vnd.example.artifact+json", OCI.manifest),
        ("", "application/vnd.example.artifact+json"),
        ("", None),
    ],
)
def test_a_media_type_tagmgr_does_not_read_is_no_error(
    served: str, document_type: str | None
) -> None:
    document = {k: v for k, v in SPEC_MANIFEST.items() if k != "mediaType"}
    if document_type:
        document["mediaType"] = document_type
    assert manifest(document, served) is None


def test_without_a_served_type_the_document_says_what_it_is() -> None:
    assert isinstance(manifest(SPEC_INDEX, ""), ImageIndex)
    assert isinstance(manifest(SPEC_MANIFEST, ""), ImageManifest)
    no_field = {k: v for k, v in SPEC_INDEX.items() if k != "mediaType"}
    assert isinstance(manifest(no_field, OCI.index), ImageIndex)


def test_a_docker_list_entry_and_every_platform_field() -> None:
    entry = {
        "mediaType": DOCKER.manifest,
        "size": 10,
        "digest": A,
        "platform": {
            "architecture": "amd64",
            "os": "windows",
            "os.version": "10.0.17763.5458",
            "os.features": ["win32k"],
            "variant": "v3",
            "features": ["reserved"],
        },
        "urls": ["https://example.com/x"],
    }
    listed = manifest({"schemaVersion": 2, "mediaType": DOCKER.index, "manifests": [entry]})
    (child,) = listed.manifests
    assert child.platform == Platform("windows", "amd64", "v3", "10.0.17763.5458", ("win32k",))
    assert child.platform_name == "windows(10.0.17763.5458)/amd64/v3"
    assert child.urls == ("https://example.com/x",)


def test_an_attestation_is_not_a_platform_image() -> None:
    attestation = {
        "mediaType": OCI.manifest,
        "size": 10,
        "digest": A,
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    }
    marked_only = {**attestation, "platform": {"architecture": "arm64", "os": "linux"}}
    index = manifest({**SPEC_INDEX, "manifests": [attestation, marked_only]})
    assert [m.is_platform_image for m in index.manifests] == [False, False]
    assert index.manifests[0].annotation("vnd.docker.reference.type") == "attestation-manifest"


def index_with(**entry: Any) -> dict[str, Any]:
    platform = {"os": "linux", "architecture": "amd64"}
    base = {"mediaType": OCI.manifest, "size": 1, "digest": A, "platform": platform}
    fields = {k: v for k, v in {**base, **entry}.items() if v is not ...}
    return {"schemaVersion": 2, "mediaType": OCI.index, "manifests": [fields]}


def image_with(**fields: Any) -> dict[str, Any]:
    config = {"mediaType": OCI.config, "size": 1, "digest": B}
    layers = [{"mediaType": OCI.layer, "size": 1, "digest": C}]
    base = {"schemaVersion": 2, "mediaType": OCI.manifest, "config": config, "layers": layers}
    return {k: v for k, v in {**base, **fields}.items() if v is not ...}


LONG = "a" * 128
BAD_MANIFESTS = [
    (image_with(schemaVersion=1), "schemaVersion: 1, not 2"),
    (image_with(schemaVersion="2"), "schemaVersion: '2', not 2"),
    (image_with(schemaVersion=True), "schemaVersion: True, not 2"),
    (image_with(schemaVersion=2.0), "schemaVersion: 2.0, not 2"),
    (image_with(schemaVersion=...), "schemaVersion: None, not 2"),
    (image_with(mediaType=7), "mediaType: 7 is not a string"),
    (image_with(config=...), "config: missing"),
    (image_with(config=[]), "config: not a JSON object"),
    (image_with(layers=...), "layers: missing"),
    (image_with(layers={}), "layers: not a list"),
    (image_with(layers=["x"]), "layers[0]: not a JSON object"),
    (image_with(config={"size": 1, "digest": B}), "config.mediaType: missing"),
    (image_with(config={"mediaType": "json", "size": 1, "digest": B}),
     "config.mediaType: 'json' is not a media type"),
    (image_with(config={"mediaType": f"a/{LONG}", "size": 1, "digest": B}),
     f"config.mediaType: 'a/{LONG}' is not a media type"),
    (image_with(subject={"mediaType": OCI.manifest, "size": 1}),
     "subject.digest: None is not a sha256 or sha512 digest, which tagmgr verifies"),
    (image_with(artifactType="sbom"), "artifactType: 'sbom' is not a media type"),
    (image_with(annotations={"a": 1}), "annotations['a']: 1 is not a string"),
    (image_with(annotations=["a"]), "annotations: not a JSON object"),
    (index_with(digest="sha256:" + "A" * 64),
     f"manifests[0].digest: 'sha256:{'A' * 64}' is not a sha256 or sha512 digest, which "
     "tagmgr verifies"),
    (index_with(digest="blake3:" + "a" * 64),
     f"manifests[0].digest: 'blake3:{'a' * 64}' is not a sha256 or sha512 digest, which "
     "tagmgr verifies"),
    (index_with(size=-1), "manifests[0].size: -1 is not a size in bytes"),
    (index_with(size=1.0), "manifests[0].size: 1.0 is not a size in bytes"),
    (index_with(size=True), "manifests[0].size: True is not a size in bytes"),
    (index_with(size="1"), "manifests[0].size: '1' is not a size in bytes"),
    (index_with(size=2**63), f"manifests[0].size: {2**63} is not a size in bytes"),
    (index_with(size=...), "manifests[0].size: None is not a size in bytes"),
    (index_with(platform="linux/amd64"), "manifests[0].platform: not a JSON object"),
    (index_with(platform={"os": "linux"}), "manifests[0].platform.architecture: missing"),
    (index_with(platform={"architecture": "amd64", "os": ""}),
     "manifests[0].platform: os '' is not a word of [A-Za-z0-9._-]+"),
    (index_with(platform={"architecture": "arm/v7", "os": "linux"}),
     "manifests[0].platform: architecture 'arm/v7' is not a word of [A-Za-z0-9._-]+"),
    (index_with(platform={"architecture": "amd64", "os": "linux", "variant": 7}),
     "manifests[0].platform.variant: 7 is not a string"),
    (index_with(platform={"architecture": "amd64", "os": "windows", "os.version": "10 0"}),
     "manifests[0].platform: os.version '10 0' is not a word of [A-Za-z0-9._-]+"),
    (index_with(platform={"architecture": "amd64", "os": "windows", "os.features": "win32k"}),
     "manifests[0].platform.os.features: not a list"),
    (index_with(urls="https://example.com"), "manifests[0].urls: not a list"),
    ({"schemaVersion": 2, "mediaType": OCI.index}, "manifests: missing"),
    ({**SPEC_INDEX, "mediaType": OCI.manifest}, "mediaType: "
     "'application/vnd.oci.image.manifest.v1+json', but it was served as "
     "application/vnd.oci.image.index.v1+json"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "problem"), BAD_MANIFESTS)
def test_a_malformed_field_is_named_with_what_is_wrong(
    document: dict[str, Any], problem: str
) -> None:
    is_index = "manifests" in document or document.get("mediaType") == OCI.index
    with pytest.raises(ImageFormatError) as caught:
        manifest(document, OCI.index if is_index else OCI.manifest)
    assert str(caught.value) == f"{WHAT}: {problem}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "is not JSON: Expecting property name enclosed in double quotes: "
         "line 1 column 2 (char 1)"),
        (b"[]", "is not a JSON object"),
        (b'{"schemaVersion": NaN}', "is not JSON: NaN is not a JSON value"),
    ],
)  # fmt: skip
def test_what_is_not_a_json_object_is_refused(content: bytes, problem: str) -> None:
    with pytest.raises(ImageFormatError) as caught:
        parse_manifest(content, OCI.manifest, WHAT)
    assert str(caught.value) == f"{WHAT} {problem}"


def test_json_nested_too_deep_is_refused_not_a_crash() -> None:
    with pytest.raises(ImageFormatError) as caught:
        parse_manifest(b"[" * 100_000, OCI.manifest, WHAT)
    assert str(caught.value).startswith(f"{WHAT} is not JSON: maximum recursion depth exceeded")


def test_parsing_leaves_the_bytes_and_reads_them_exactly() -> None:
    """Key order, spacing and escapes are the document's; the values are all that is taken."""
    image = ImageFactory("t").unusual()
    before = bytes(image.manifest_bytes)
    parsed = parse_manifest(image.manifest_bytes, image.media_type, WHAT)
    assert image.manifest_bytes == before
    assert isinstance(parsed, ImageManifest)
    assert dict(parsed.annotations)["org.example.note"].startswith("caf\u00e9 ")


BAD_CONFIGS = [
    ({k: v for k, v in SPEC_CONFIG.items() if k != "os"}, "os: missing"),
    ({**SPEC_CONFIG, "architecture": 64}, "architecture: 64 is not a string"),
    ({**SPEC_CONFIG, "variant": "v 8"}, "variant 'v 8' is not a word of [A-Za-z0-9._-]+"),
    ({k: v for k, v in SPEC_CONFIG.items() if k != "architecture"}, "architecture: missing"),
    ({**SPEC_CONFIG, "os": ""}, "os '' is not a word of [A-Za-z0-9._-]+"),
    ({**SPEC_CONFIG, "rootfs": ["layers"]}, "rootfs: not a JSON object"),
    ({**SPEC_CONFIG, "rootfs": {"diff_ids": "sha256:1"}}, "rootfs.diff_ids: not a list"),
    ({**SPEC_CONFIG, "rootfs": {"diff_ids": ["sha256:short"]}},
     "rootfs.diff_ids[0]: 'sha256:short' is not a sha256 or sha512 digest, which tagmgr "
     "verifies"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "problem"), BAD_CONFIGS)
def test_a_malformed_config_is_named_with_what_is_wrong(
    document: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ImageFormatError) as caught:
        parse_config(as_bytes(document), "config r/app@sha256:1")
    assert str(caught.value) == f"config r/app@sha256:1: {problem}"


def test_optional_config_fields_may_be_null() -> None:
    nulls = {**SPEC_CONFIG, "variant": None, "os.version": None, "os.features": None}
    assert parse_config(as_bytes(nulls), "c").platform == Platform("linux", "amd64")


def test_a_config_naming_no_platform_or_layers_is_still_read_for_its_time() -> None:
    """As cosign writes its signatures' configs: an empty OS and architecture."""
    signature = {"architecture": "", "os": "", "created": "0001-01-01T00:00:00Z", "config": {}}
    config = parse_config(as_bytes(signature), "c")
    assert (config.platform, config.diff_ids) == (None, ())
    assert config.created == datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2015-10-31T22:22:56.015925234Z", datetime(2015, 10, 31, 22, 22, 56, 15925, UTC)),
        ("2015-10-31T22:22:56Z", datetime(2015, 10, 31, 22, 22, 56, tzinfo=UTC)),
        ("2015-10-31T23:22:56+01:00", datetime(2015, 10, 31, 22, 22, 56, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("yesterday", None),
        (1446330176, None),
        (None, None),
    ],
)
def test_created_is_a_time_or_none_never_an_error(written: object, read: object) -> None:
    """An unreadable ``created`` gives an image no time, which no age rule judges."""
    assert parse_created(written) == read
    assert parse_config(as_bytes({**SPEC_CONFIG, "created": written}), "c").created == read


def test_one_size_limit_for_manifests_and_configs() -> None:
    padded = as_bytes(SPEC_MANIFEST)[:-1] + b" " * (
        MAX_DOCUMENT_BYTES - len(as_bytes(SPEC_MANIFEST))
    )
    assert len(padded + b"}") == MAX_DOCUMENT_BYTES
    assert parse_manifest(padded + b"}", OCI.manifest, WHAT) is not None
    problem = (
        f"is larger than {MAX_DOCUMENT_BYTES} bytes, the most tagmgr reads of a manifest or config"
    )
    with pytest.raises(ImageFormatError) as caught:
        parse_manifest(padded + b" }", OCI.manifest, WHAT)
    assert str(caught.value) == f"{WHAT} {problem}"
    with pytest.raises(ImageFormatError) as caught:
        parse_config(b" " * MAX_DOCUMENT_BYTES + b"{}", "config c")
    assert str(caught.value) == f"config c {problem}"


def test_a_config_read_from_a_stream_stops_at_the_limit() -> None:
    taken: list[int] = []

    def chunks() -> Iterator[bytes]:
        for number in range(100):
            taken.append(number)
            yield b" " * (1024 * 1024)

    with pytest.raises(ImageFormatError):
        read_capped(chunks(), "config c")
    assert len(taken) == 5  # 5 MiB: past 4 MiB, and not one chunk more
    assert read_capped(iter([b"{", b"}"]), "config c") == b"{}"
