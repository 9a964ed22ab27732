"""What a survey makes of a repository, read from an in-memory registry: every tagged manifest,
each index's children, a child the registry lost, and a config read only where no tag dates
the image."""

from __future__ import annotations

import json

from tagmgr.lifecycle.holdings import Held, Holdings
from tagmgr.lifecycle.survey import manifest_links, survey, tag_digests
from tagmgr.manifest.environments import Chain
from tests.support.memory import MemoryRegistry
from tests.support.oci import Image, oci_image, oci_index

BUILD = "build-20261101T100000Z"


def held(image: Image, *tags: str, missing: tuple[str, ...] = ()) -> Held:
    children = tuple(child.digest for child in image.children)
    return Held(image.digest, image.media_type, image.size, tags, children, missing=missing)


def config_of(image: Image) -> str:
    digest: str = json.loads(image.manifest_bytes)["config"]["digest"]
    return digest


def test_every_tagged_manifest_and_each_index_s_children_are_held() -> None:
    registry = MemoryRegistry()
    dated, index = oci_image("dated"), oci_index("multi")
    registry.push("team/app", BUILD, dated)
    registry.push("team/app", "latest", dated)
    registry.push("team/app", "v1", index)
    amd64, arm64 = index.children
    assert survey(registry, "team/app", Chain(), jobs=2) == Holdings(
        "registry.example",
        "team/app",
        {
            dated.digest: held(dated, BUILD, "latest"),
            index.digest: held(index, "v1"),
            amd64.digest: held(amd64),
            arm64.digest: held(arm64),
        },
    )
    # The children's configs, to date the index; none for the image a build tag dates.
    configs = sorted(r for r in registry.requests if r.startswith("GET blob"))
    assert configs == sorted(f"GET blob team/app:{config_of(c)}" for c in (amd64, arm64))


def test_a_child_the_registry_does_not_hold_is_missing_from_its_index() -> None:
    registry = MemoryRegistry()
    index = oci_index("broken")
    registry.push("team/app", "v1", index)
    amd64, arm64 = index.children
    del registry.manifests[arm64.digest]
    holdings = survey(registry, "team/app", Chain(), jobs=1)
    assert holdings.images == {
        index.digest: held(index, "v1", missing=(arm64.digest,)),
        amd64.digest: held(amd64),
    }
    assert manifest_links(registry, "team/app", index.digest) == (amd64.digest, arm64.digest)


def test_tag_digests_heads_each_tag_once_and_leaves_out_those_absent() -> None:
    registry = MemoryRegistry()
    image = registry.push("team/app", "v1", oci_image("heads"))
    found = tag_digests(registry, "team/app", ["v1", "v2", "v1"], jobs=1)
    assert found == {"v1": image.digest}
    assert registry.requests == ["HEAD team/app:v1", "HEAD team/app:v2"]
