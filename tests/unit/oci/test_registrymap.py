"""``--map-registry`` as one value: parsed once, applied to any reference."""

from __future__ import annotations

import pytest

from tagmgr.cli import build_parser
from tagmgr.commands.options import registry_map
from tagmgr.errors import TagmgrError
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.registrymap import RegistryMap, parse_registry_pair

MIRROR = "127.0.0.1:5000"


def test_a_map_rewrites_only_the_registries_it_names() -> None:
    mapping = RegistryMap.of([("docker.io", MIRROR), ("quay.io", "quay.example:8443")])
    assert str(mapping.apply(ImageReference.parse_familiar("ubuntu:latest"))) == (
        f"{MIRROR}/library/ubuntu:latest"
    )
    assert str(mapping.apply(ImageReference.parse("quay.io/org/app@sha256:" + "a" * 64))) == (
        "quay.example:8443/org/app@sha256:" + "a" * 64
    )
    untouched = ImageReference.parse("ghcr.io/org/app:v1")
    assert mapping.apply(untouched) is untouched
    assert not RegistryMap()
    assert mapping


def test_mapping_onto_docker_hub_spells_it_as_docker_hub_does() -> None:
    mapping = RegistryMap.of([parse_registry_pair(f"{MIRROR}=index.docker.io")])
    assert mapping.pairs == ((MIRROR, "docker.io"),)
    assert str(mapping.apply(ImageReference.parse(f"{MIRROR}/busybox:1"))) == (
        "docker.io/library/busybox:1"
    )


def test_one_source_mapped_twice_must_agree() -> None:
    twice = RegistryMap.of([("docker.io", MIRROR), ("docker.io", MIRROR)])
    assert twice.pairs == (("docker.io", MIRROR),)
    with pytest.raises(TagmgrError) as caught:
        twice.adding("docker.io", "127.0.0.1:6000")
    assert str(caught.value) == (
        f"docker.io is mapped to both {MIRROR} and 127.0.0.1:6000; give it once"
    )


@pytest.mark.parametrize(
    "pair",
    [
        "docker.io",
        "=x",
        "docker.io=",
        "docker.io=UPPER:x:y",
        f"docker.io={MIRROR}/evil",
        "a/b=c.io",
    ],
)
def test_bad_pairs(pair: str) -> None:
    """A path after a host is refused: tagmgr's client and skopeo would read it differently."""
    with pytest.raises(TagmgrError, match="expected FROM=TO, two registry hosts"):
        parse_registry_pair(pair)


def test_the_command_line_is_parsed_once_into_one_map() -> None:
    argv = ["resolve", "--map-registry=Docker.IO=127.0.0.1:5000", "--map-registry=quay.io=q.lan"]
    args = build_parser(argv).parse_args(argv)
    assert registry_map(args) == RegistryMap((("docker.io", MIRROR), ("quay.io", "q.lan")))
    none = build_parser(["resolve"]).parse_args(["resolve"])
    assert registry_map(none) == RegistryMap()
