from __future__ import annotations

from collections.abc import Sequence

from tagmgr.errors import GitVersionError, Location
from tagmgr.manifest.model import ImageEntry, Manifest, Upstream
from tagmgr.oci.registrymap import RegistryMap, parse_registry_pair
from tagmgr.reconcile.targets import (
    Describer,
    Target,
    Unresolved,
    UpstreamKey,
    resolve_targets,
)

UPSTREAM = Upstream("https://example.com/up.git", "4f28657")


def entry(
    name: str, src: str, tag: str | None, line: int, upstream: Upstream | None = None
) -> ImageEntry:
    return ImageEntry(
        name, src, tag, f"images[{line}]", {"": Location("m.yaml", line, 3)}, upstream=upstream
    )


def describe_as(value: str | GitVersionError) -> Describer:
    def describe(keys: Sequence[UpstreamKey]) -> dict[UpstreamKey, str | GitVersionError]:
        return dict.fromkeys(keys, value)

    return describe


def test_registry_map_rewrites_source_and_destination() -> None:
    manifest = Manifest("m.yaml", (entry("docker.io/starlingx/app", "b1", "v1", 1),))
    mapping = RegistryMap.of([parse_registry_pair("Docker.IO=127.0.0.1:5000")])
    [target] = resolve_targets([manifest], registry_map=mapping, describe=describe_as("x"))
    assert isinstance(target, Target)
    assert str(target.source) == "127.0.0.1:5000/starlingx/app:b1"
    assert str(target.destination) == "127.0.0.1:5000/starlingx/app:v1"


def test_templates_and_tag_prefix_are_derived() -> None:
    manifest = Manifest(
        "m.yaml",
        (
            entry("docker.io/a/x", "b1", "stx.4.0-{describe}", 1, UPSTREAM),
            entry("docker.io/a/y", "b1", None, 2, UPSTREAM),
        ),
        tag_prefix="stx.5.0-",
    )
    items = resolve_targets(
        [manifest], registry_map=RegistryMap(), describe=describe_as("v0.11.0-103-g4f28657")
    )
    assert [str(i.destination) for i in items if isinstance(i, Target)] == [
        "docker.io/a/x:stx.4.0-v0.11.0-103-g4f28657",
        "docker.io/a/y:stx.5.0-v0.11.0-103-g4f28657",
    ]


def test_describe_errors_and_invalid_derived_tags_are_per_entry() -> None:
    manifest = Manifest("m.yaml", (entry("docker.io/a/x", "b1", "{describe}", 1, UPSTREAM),))
    [failed] = resolve_targets(
        [manifest], registry_map=RegistryMap(), describe=describe_as(GitVersionError("no tag"))
    )
    assert failed == Unresolved(manifest.entries[0], "no tag")
    [invalid] = resolve_targets(
        [manifest], registry_map=RegistryMap(), describe=describe_as("release/1.0")
    )
    assert invalid == Unresolved(
        manifest.entries[0],
        "derived tag is not valid: "
        "tag 'release/1.0' may contain only letters, digits, '_', '.' and '-'",
    )


def test_duplicates_fold_and_second_source_is_an_error() -> None:
    first = entry("docker.io/a/x", "b1", "v1", 1)
    same = entry("docker.io/a/x", "b1", "v1", 5)
    other = entry("docker.io/a/x", "b2", "v1", 9)
    items = resolve_targets(
        [Manifest("m.yaml", (first, same, other))],
        registry_map=RegistryMap(),
        describe=describe_as(""),
    )
    assert len(items) == 2
    assert items[1] == Unresolved(
        other, "docker.io/a/x:v1 is already given source b1 at m.yaml:1:3"
    )


def test_a_pin_on_a_repeat_holds_whichever_entry_comes_first() -> None:
    """The same entry in two files, one pinning src_digest: the pin is checked either way, and
    two different pins for one tag are an error."""
    unpinned = entry("docker.io/a/x", "b1", "v1", 1)
    pinned = entry("docker.io/a/x", "b1", "v1", 5)._replace(src_digest="sha256:" + "1" * 64)
    other_pin = entry("docker.io/a/x", "b1", "v1", 9)._replace(src_digest="sha256:" + "2" * 64)
    for order in ((unpinned, pinned), (pinned, unpinned)):
        [target] = resolve_targets(
            [Manifest("m.yaml", order)], registry_map=RegistryMap(), describe=describe_as("")
        )
        assert isinstance(target, Target)
        assert (target.entry, target.pinned) == (pinned, pinned.src_digest)
    items = resolve_targets(
        [Manifest("m.yaml", (unpinned, pinned, other_pin))],
        registry_map=RegistryMap(),
        describe=describe_as(""),
    )
    assert items[1] == Unresolved(
        other_pin, f"docker.io/a/x:v1 is already pinned to {pinned.src_digest} at m.yaml:5:3"
    )
