"""References to digests, and an index to its children, against an in-memory registry."""

from __future__ import annotations

from tagmgr.errors import RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from tagmgr.oci.platform import Platform
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.resolve import Resolution, resolve
from tests.support.memory import MemoryRegistry
from tests.support.oci import oci_image, oci_index

APP = ImageReference.parse("registry.example/team/app")


def test_a_tag_resolves_with_one_head_and_an_index_s_children_with_one_get_more() -> None:
    registry = MemoryRegistry()
    index = registry.push("team/app", "multi", oci_index("resolve"))
    image = registry.push("team/app", "single", oci_image("resolve"))
    assert resolve(registry, APP.with_tag("multi")) == Resolution(APP.with_tag("multi"), index)
    assert registry.requests == ["HEAD team/app:multi"]

    found = resolve(registry, APP.with_tag("multi"), children=True)
    assert (found.descriptor, [str(c.platform) for c in found.children]) == (
        index,
        ["linux/amd64", "linux/arm64"],
    )
    assert registry.requests[1:] == ["HEAD team/app:multi", f"GET team/app:{index.digest}"]

    by_digest = APP.with_digest(image.digest)
    assert resolve(registry, by_digest, children=True) == Resolution(by_digest, image)
    assert resolve(registry, APP.with_tag("gone"), children=True) == Resolution(
        APP.with_tag("gone")
    )


def test_a_read_that_fails_is_the_resolution_s_error() -> None:
    registry = MemoryRegistry()
    listed = Descriptor(OCI_INDEX, "sha256:" + "9" * 64, 10)
    registry.tags[("team/app", "broken")] = listed  # its bytes are not held: the GET fails
    assert resolve(registry, APP.with_tag("broken"), children=True) == Resolution(
        APP.with_tag("broken"),
        error=f"registry registry.example: GET team/app:{listed.digest}: 404",
    )


def test_an_index_whose_bytes_are_served_as_an_image_is_an_error() -> None:
    registry = MemoryRegistry()
    image = registry.push("team/app", "liar", oci_image("lies"))
    registry.tags[("team/app", "liar")] = Descriptor(OCI_INDEX, image.digest, image.size)
    assert resolve(registry, APP.with_tag("liar"), children=True) == Resolution(
        APP.with_tag("liar"),
        error=f"manifest registry.example/team/app@{image.digest} is served as "
        f"{OCI_MANIFEST}, not as an index",
    )

    class Unreachable(MemoryRegistry):
        def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
            raise RegistryError("registry.example", "HEAD: connection refused")

    assert resolve(Unreachable(), APP.with_tag("v1")) == Resolution(
        APP.with_tag("v1"), error="registry registry.example: HEAD: connection refused"
    )


def child(platform: Platform, digit: str) -> Descriptor:
    return Descriptor(OCI_MANIFEST, "sha256:" + digit * 64, 10, platform)


def test_a_platform_picks_its_one_child_exactly_or_else_by_a_looser_match() -> None:
    v8, v7 = (
        child(Platform("linux", "arm64", "v8"), "1"),
        child(Platform("linux", "arm", "v7"), "2"),
    )
    amd64 = child(Platform("linux", "amd64"), "3")
    resolution = Resolution(APP, Descriptor(OCI_INDEX, "sha256:" + "0" * 64, 10), (v8, v7, amd64))
    assert resolution.child(Platform("linux", "arm64")) == v8
    assert resolution.child(Platform("linux", "arm64", "v8")) == v8
    assert resolution.child(Platform("linux", "amd64")) == amd64
    assert resolution.child(Platform("linux", "arm")) == v7
    assert resolution.child(Platform("windows", "amd64")) is None
    two_arms = Resolution(APP, resolution.descriptor, (v8, child(Platform("linux", "arm64"), "4")))
    assert two_arms.child(Platform("linux", "arm64", "v8")) == v8
    v8_again = child(Platform("linux", "arm64", "v8"), "5")
    assert Resolution(APP, None, (v8, v8_again)).child(Platform("linux", "arm64")) is None
