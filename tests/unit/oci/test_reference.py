"""Image references parsed, printed, rebuilt and explained when invalid: values, no registry."""

from __future__ import annotations

import pytest

from tagmgr.errors import InvalidReferenceError
from tagmgr.oci.reference import ImageReference, explain_invalid_name, is_loopback

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "docker.io/starlingx/k8s-cni-sriov:stx.4.0-v2.2",
            ("docker.io", "starlingx/k8s-cni-sriov", "stx.4.0-v2.2", None),
        ),
        ("docker.io/busybox", ("docker.io", "library/busybox", None, None)),
        ("index.docker.io/a/b:1", ("docker.io", "a/b", "1", None)),
        ("Quay.IO/org/app", ("quay.io", "org/app", None, None)),
        ("Docker.io/busybox", ("docker.io", "library/busybox", None, None)),
        ("127.0.0.1:5000/a/b@" + DIGEST, ("127.0.0.1:5000", "a/b", None, DIGEST)),
        ("localhost/a:t@" + DIGEST, ("localhost", "a", "t", DIGEST)),
        ("[::1]:5000/a__b/c-d.e:T_1", ("[::1]:5000", "a__b/c-d.e", "T_1", None)),
    ],
)
def test_parse(text: str, expected: tuple[str, str, str | None, str | None]) -> None:
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == expected


def test_str_round_trips_and_with_methods_do_not_reparse() -> None:
    ref = ImageReference.parse("quay.io/org/app:v1")
    assert str(ref) == "quay.io/org/app:v1"
    assert str(ref.with_digest(DIGEST)) == f"quay.io/org/app@{DIGEST}"
    assert str(ref.with_registry("127.0.0.1:5000").with_tag("v2")) == "127.0.0.1:5000/org/app:v2"
    assert ImageReference.parse("quay.io/x").with_registry("docker.io").repository == "library/x"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "starlingx/app",
            "name must begin with a registry host such as docker.io/ or 127.0.0.1:5000/",
        ),
        ("docker.io/StarlingX/app", "path component 'StarlingX' must be lowercase"),
        (
            "docker.io/a//b",
            "path components must not be empty (no leading, trailing or double '/')",
        ),
        ("docker.io/a/../b", "path component '..' must not contain '..'"),
        ("-docker.io/a", "name must not begin with '-'"),
        (
            "docker.io/a-",
            "path component 'a-' must be lowercase letters and digits, "
            "separated by single '.', '_', '__' or runs of '-'",
        ),
    ],
)
def test_explain_invalid_name(name: str, reason: str) -> None:
    assert explain_invalid_name(name) == reason
    with pytest.raises(InvalidReferenceError, match="must"):
        ImageReference.parse(name)


def test_invalid_tag_and_digest() -> None:
    with pytest.raises(InvalidReferenceError, match="at most 128"):
        ImageReference.parse("docker.io/a:" + "t" * 129)
    with pytest.raises(InvalidReferenceError, match="digest must be"):
        ImageReference.parse("docker.io/a@sha256:abc")


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.8.9.1", True),
        ("localhost:443", True),
        ("[::1]:5000", True),
        ("docker.io", False),
        ("10.0.0.1:5000", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(registry: str, loopback: bool) -> None:
    assert is_loopback(registry) is loopback
