"""``status`` from plain values: a repository's tags, the manifests and locks that name its
builds, and where its digests are in use."""

from __future__ import annotations

from tagmgr.errors import Location
from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.lifecycle.status import EnvironmentStatus, RepositoryStatus, repository_status
from tagmgr.lock.model import Lock, LockEntry
from tagmgr.manifest.environments import Chain
from tagmgr.manifest.model import ImageEntry, Manifest
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.registrymap import RegistryMap

A, B, C = ("sha256:" + c * 64 for c in "abc")
REPO = ImageReference.parse("reg.example/team/app")
MIRROR = ImageReference.parse("mirror.example/team/app")
CHAIN = Chain(("dev", "stg", "prd"))
BUILD_A, BUILD_B = "build-20261101T100000Z", "build-20261120T100000Z"
TAGS = {
    BUILD_A: A,
    "v1.0": A,
    f"sha256-{'a' * 64}.sig": A,  # a signature: named after A, not a release of it
    BUILD_B: B,
    "dev": B,
    "dev-20261121T080000Z": B,
    "stg": A,
    "stg-20261102T080000Z": A,
    "stg-20261110T080000Z": C,  # stg went back to A since, with no history tag to say so
}


def test_each_environment_with_its_digest_since_when_and_the_tags_that_name_it() -> None:
    status = repository_status(REPO, TAGS, CHAIN)
    assert status == RepositoryStatus(
        "reg.example/team/app",
        (
            EnvironmentStatus(
                "dev",
                B,
                "dev-20261121T080000Z",
                (BUILD_B,),
                history=(("dev-20261121T080000Z", B),),
            ),
            EnvironmentStatus(
                "stg",
                A,
                None,
                (BUILD_A,),
                ("v1.0",),
                history=(("stg-20261102T080000Z", A), ("stg-20261110T080000Z", C)),
            ),
            EnvironmentStatus("prd", None, None),
        ),
    )


def test_src_refs_come_from_locks_by_digest_and_manifests_by_tag_through_the_registry_map() -> None:
    where = {"": Location("m.yaml", 2, 3)}
    manifest = Manifest(
        "m.yaml",
        (
            ImageEntry(MIRROR.name, BUILD_B, "v2.0", "images[0]", where, src_ref="commit-b"),
            ImageEntry("other.example/x", BUILD_B, "v2.0", "images[1]", where, src_ref="other"),
            ImageEntry(MIRROR.name, BUILD_A, "v1.0", "images[2]", where),
        ),
    )
    lock = Lock.of(
        [
            LockEntry(
                MIRROR.with_tag(BUILD_A),
                MIRROR.with_tag("v1.0"),
                A,
                OCI_INDEX,
                "2026-11-02T00:00:00Z",
                src_ref="commit-a",
            )
        ]
    )
    to_repo = RegistryMap.of([("mirror.example", "reg.example")])
    dev, stg, _ = repository_status(
        REPO, TAGS, CHAIN, [manifest], [lock], registry_map=to_repo
    ).environments
    assert (dev.src_refs, stg.src_refs) == (("commit-b",), ("commit-a",))
    unmapped = repository_status(REPO, TAGS, CHAIN, [manifest], [lock]).environments
    assert [env.src_refs for env in unmapped] == [(), (), ()]


def test_where_a_digest_is_in_use_by_digest_or_by_any_tag_at_it_once_each() -> None:
    in_use = InUseSet(
        [
            InUse(REPO.with_digest(A), "pods.json: prod/web"),
            InUse(REPO.with_tag("stg"), "values.yaml: image"),
            InUse(REPO.with_tag("v1.0").with_digest(A), "compose.yaml: web"),
            InUse(REPO.with_tag("dev"), "pods.json: dev/web"),
            InUse(MIRROR.with_digest(A), "elsewhere: not this registry"),
        ]
    )
    dev, stg, prd = repository_status(REPO, TAGS, CHAIN, in_use=in_use).environments
    assert dev.in_use == ("pods.json: dev/web",)
    assert stg.in_use == ("compose.yaml: web", "pods.json: prod/web", "values.yaml: image")
    assert prd.in_use == ()
