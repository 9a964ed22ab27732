"""Which image an OCI layout's ``index.json`` or a ``docker save`` archive's ``manifest.json``
names, and each way that choice is refused, from the files' bytes alone."""

from __future__ import annotations

import json

import pytest

from tagmgr.errors import ImageFormatError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.dockersave import SavedImage, parse_saved, select_saved
from tagmgr.oci.layout import blob_path, check_layout, select_manifest
from tagmgr.oci.mediatypes import OCI_MANIFEST

A, B, C = ("sha256:" + c * 64 for c in "abc")
NAME = "org.opencontainers.image.ref.name"


def index(*entries: tuple[str, str | None]) -> bytes:
    manifests = [
        {"mediaType": OCI_MANIFEST, "digest": digest, "size": 10}
        | ({"annotations": {NAME: ref}} if ref else {})
        for digest, ref in entries
    ]
    return json.dumps({"schemaVersion": 2, "manifests": manifests}).encode()


def refused(message: str) -> pytest.RaisesExc[ImageFormatError]:
    return pytest.raises(ImageFormatError, match=f"^{message}$")


def test_a_layout_names_its_version_and_its_blobs_by_digest() -> None:
    check_layout(b'{"imageLayoutVersion": "1.0.0"}', "app.oci")
    for content in (b'{"imageLayoutVersion": "2"}', b"[]", b"not json"):
        with refused(
            "app.oci: oci-layout does not say imageLayoutVersion 1.0.0; not an OCI image layout"
        ):
            check_layout(content, "app.oci")
    assert blob_path(A) == f"blobs/sha256/{'a' * 64}"


def test_a_layout_s_image_is_its_only_entry_or_the_one_with_the_ref_name() -> None:
    only = Descriptor(OCI_MANIFEST, A, 10)
    assert select_manifest(index((A, None)), "", "app.oci") == only
    named = select_manifest(index((A, "v1"), (B, "v2")), "v2", "app.oci")
    assert (named.digest, named.annotation(NAME)) == (B, "v2")


@pytest.mark.parametrize(
    ("content", "ref", "message"),
    [
        (
            index((A, "v1"), (B, None)),
            "",
            r"app.oci holds 2 images; name one with :REF \(ref names: 'v1'\)",
        ),
        (index(), "", r"app.oci holds 0 images; name one with :REF \(no entry has a ref name\)"),
        (index((A, "v1"), (B, "v1")), "v1", r"app.oci has 2 images named 'v1' \(ref names: 'v1'\)"),
        (
            index((A, "v1"), (C, "v3")),
            "v2",
            r"app.oci has no image named 'v2' \(ref names: 'v1', 'v3'\)",
        ),
    ],
)
def test_a_layout_refuses_to_guess(content: bytes, ref: str, message: str) -> None:
    with refused(message):
        select_manifest(content, ref, "app.oci")


SAVED = [
    {"Config": "a.json", "RepoTags": ["nginx:1.25", "reg.example/web:v1"], "Layers": ["a/l.tar"]},
    {"Config": "blobs/sha256/bb", "RepoTags": None, "Layers": ["blobs/sha256/cc"]},
]


def test_a_saved_archive_s_image_is_chosen_by_index_by_tag_as_docker_reads_it_or_alone() -> None:
    images = parse_saved(json.dumps(SAVED).encode(), "app.tar")
    first = SavedImage("a.json", ("nginx:1.25", "reg.example/web:v1"), ("a/l.tar",))
    assert images == [first, SavedImage("blobs/sha256/bb", (), ("blobs/sha256/cc",))]
    assert select_saved(images, "", 1, "app.tar") == images[1]
    assert select_saved(images, "docker.io/library/nginx:1.25", None, "app.tar") == first
    assert select_saved([first], "", None, "app.tar") == first
    with refused(r"app.tar holds 2 images; there is no @2"):
        select_saved(images, "", 2, "app.tar")
    with refused(r"app.tar holds 2 images; name one with :NAME:TAG or :@INDEX"):
        select_saved(images, "", None, "app.tar")
    with refused(r"app.tar has no image tagged nginx \(RepoTags: nginx:1.25, reg.example/web:v1\)"):
        select_saved(images, "nginx", None, "app.tar")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{", r"app.tar: manifest.json is not JSON: .*"),
        (b"{}", r"app.tar: manifest.json is not a list of images"),
        (b"[1]", r"app.tar: manifest.json\[0\] is not a JSON object"),
        (
            b'[{"Config": "../etc/passwd", "Layers": []}]',
            r"app.tar: manifest.json\[0\].Config: '../etc/passwd' is not a file in the archive",
        ),
        (
            b'[{"Config": "a.json", "RepoTags": "nginx", "Layers": []}]',
            r"app.tar: manifest.json\[0\].RepoTags: not a list of names",
        ),
        (
            b'[{"Config": "a.json", "Layers": ["/l.tar"]}]',
            r"app.tar: manifest.json\[0\].Layers: not a list of files in the archive",
        ),
    ],
)
def test_a_saved_manifest_that_is_not_one_is_refused(manifest: bytes, message: str) -> None:
    with refused(message):
        parse_saved(manifest, "app.tar")
