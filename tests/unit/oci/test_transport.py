"""Image locations as skopeo spells them (containers-transports(5))."""

from __future__ import annotations

import pytest

from tagmgr.errors import InvalidReferenceError
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.transport import LocalImage, parse_location


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5000/a/b:1", ImageReference("127.0.0.1:5000", "a/b", "1")),
        ("docker://127.0.0.1:5000/a/b:1", ImageReference("127.0.0.1:5000", "a/b", "1")),
        ("oci:/tmp/layout", LocalImage("oci", "/tmp/layout")),
        ("oci:build/layout:v1.2", LocalImage("oci", "build/layout", "v1.2")),
        ("oci:layout:a:b", LocalImage("oci", "layout", "a:b")),
        ("oci-archive:/tmp/i.tar:latest", LocalImage("oci-archive", "/tmp/i.tar", "latest")),
        ("docker-archive:s.tar", LocalImage("docker-archive", "s.tar")),
        ("docker-archive:s.tar:@2", LocalImage("docker-archive", "s.tar", "@2")),
        ("docker-archive:s.tar:vro/app:b42", LocalImage("docker-archive", "s.tar", "vro/app:b42")),
        ("docker-daemon:vro/app:b42", LocalImage("docker-daemon", "", "vro/app:b42")),
        ("docker-daemon:sha256:" + "a" * 64, LocalImage("docker-daemon", "", "sha256:" + "a" * 64)),
    ],
)
def test_locations(text: str, expected: ImageReference | LocalImage) -> None:
    location = parse_location(text)
    assert location == expected
    if isinstance(location, LocalImage):
        assert str(location) == text


def test_an_archive_index_is_a_number() -> None:
    assert LocalImage("docker-archive", "s.tar", "@2").source_index == 2
    assert LocalImage("docker-archive", "s.tar", "app:1").source_index is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oci:", "'oci:': oci: needs a path, as in oci:DIR[:REF]"),
        ("oci:dir:bad ref", "'oci:dir:bad ref': 'bad ref' is not an image layout's ref.name"),
        ("docker-daemon:vro/app", "'docker-daemon:vro/app': docker-daemon: give a tag"),
        ("docker-archive:s.tar:app@sha256:" + "a" * 64, "docker-archive: name one of"),
        ("dir:/tmp/x", "'dir:/tmp/x'"),
    ],
)
def test_bad_locations(text: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_location(text)
    assert message in str(caught.value)
