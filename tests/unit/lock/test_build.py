"""Lock entries from planned actions, with an in-memory registry for the one read they need (an
index's children); the real registry is tests/integration's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tagmgr.errors import Location
from tagmgr.lock.build import lock_entries, lock_entry, timestamp
from tagmgr.lock.model import LockedPlatform, LockedUpstream, LockEntry
from tagmgr.manifest.model import ImageEntry, Upstream
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.resolve import Resolution
from tagmgr.reconcile.targets import Target, Unresolved
from tests.support.memory import MemoryRegistry
from tests.support.oci import oci_image, oci_index

NAME = ImageReference.parse("registry.example/team/app")
WHERE = {"": Location("m.yaml", 4, 3)}


def target(tag: str) -> Target:
    manifest_entry = ImageEntry(NAME.name, "build-1", tag, "images[0]", WHERE)
    return Target(manifest_entry, NAME.with_tag("build-1"), NAME.with_tag(tag))


def test_a_timestamp_is_utc_to_the_second() -> None:
    moment = datetime(2026, 12, 1, 23, 40, 5, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp(moment) == "2026-12-01T22:40:05Z"
    assert timestamp().endswith("Z")
    assert datetime.strptime(timestamp(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= (
        datetime.now(UTC)
    )


def test_a_derived_tag_is_locked_with_its_upstream_and_an_index_with_its_platforms() -> None:
    upstream = Upstream("https://git.example/app.git", "abc1234")
    entry = ImageEntry(NAME.name, "build-1", "v1-{describe}", "images[0]", WHERE, "ref-9", upstream)
    derived = Target(entry, NAME.with_tag("build-1"), NAME.with_tag("v1-2-gabc1234"), "v1-2-gabc")
    index = oci_index("locked")
    descriptor = Descriptor(index.media_type, index.digest, index.size)
    children = tuple(
        Descriptor(child.media_type, child.digest, child.size) for child in index.children
    )
    resolution = Resolution(derived.source, descriptor, children)
    assert lock_entry(derived, resolution, "2026-12-01T00:00:00Z") == LockEntry(
        source=derived.source,
        target=derived.destination,
        digest=index.digest,
        media_type=index.media_type,
        resolved_at="2026-12-01T00:00:00Z",
        platforms=tuple(LockedPlatform("unknown/unknown", c.digest) for c in children),
        src_ref="ref-9",
        upstream=LockedUpstream("https://git.example/app.git", "abc1234", "v1-2-gabc"),
    )


def test_an_unresolved_source_has_no_lock_entry() -> None:
    with pytest.raises(ValueError, match=r"registry.example/team/app:build-1 did not resolve"):
        lock_entry(target("v1"), Resolution(NAME.with_tag("build-1")), "2026-12-01T00:00:00Z")


def test_lock_entries_read_each_index_s_children_and_name_each_action_they_cannot_lock() -> None:
    registry = MemoryRegistry()
    index = registry.push("team/app", "build-1", oci_index("entries"))
    image = registry.push("team/app", "build-2", oci_image("entries"))
    created, present = target("v1"), target("v2")
    unresolved = Unresolved(created.entry, "no tag before commit")
    lost = Descriptor(index.media_type, "sha256:" + "0" * 64, 10)
    actions = [
        Action(Kind.CREATE, created, index),
        Action(Kind.PRESENT, present, image, image),
        Action(Kind.ERROR, unresolved, message="no tag before commit"),
        Action(Kind.CREATE, target("v3"), lost),
    ]
    entries, problems = lock_entries(actions, registry, jobs=2)
    assert [(e.target.tag, e.digest, [p.platform for p in e.platforms]) for e in entries] == [
        ("v1", index.digest, ["linux/amd64", "linux/arm64"]),
        ("v2", image.digest, []),
    ]
    assert problems == [
        "m.yaml:4:3: images[0]: error: no tag before commit",
        f"registry registry.example: GET team/app:{lost.digest}: 404",
    ]
    assert sorted(registry.requests) == sorted(
        [f"GET team/app:{index.digest}", f"GET team/app:{lost.digest}"]
    )
