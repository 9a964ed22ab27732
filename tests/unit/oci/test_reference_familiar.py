"""References as Docker reads them (charts, compose files, Dockerfiles), and digests refused."""

from __future__ import annotations

import pytest

from tagmgr.errors import InvalidReferenceError
from tagmgr.oci.reference import ImageReference

DIGEST = "sha256:" + "c" * 64


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("library/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("docker.io/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("index.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("registry-1.docker.io/starlingx/x:v1", "docker.io/starlingx/x:v1"),
        ("starlingx/x:v1", "docker.io/starlingx/x:v1"),
        ("localhost/x", "localhost/x"),
        ("localhost:5000/team/x:v1", "localhost:5000/team/x:v1"),
        ("Registry.Example.com:443/x:v1", "registry.example.com:443/x:v1"),
        (f"starlingx/x:v1@{DIGEST}", f"docker.io/starlingx/x:v1@{DIGEST}"),
        (f"nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}"),
    ],
)
def test_docker_hub_spellings_and_ports(written: str, meant: str) -> None:
    assert str(ImageReference.parse_familiar(written)) == meant


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "docker.io/x@md5:0123",
            "'docker.io/x@md5:0123': digest algorithm 'md5' is not supported; tagmgr accepts"
            " sha256:<64 hex> and sha512:<128 hex> digests",
        ),
        (
            "docker.io/x@sha256:0123",
            "'docker.io/x@sha256:0123': digest must be sha256:<64 hex> or sha512:<128 hex>",
        ),
    ],
)
def test_other_digests_are_refused_by_name(written: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        ImageReference.parse(written)
    assert str(caught.value) == message
