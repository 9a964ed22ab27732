"""The planner is pure: these tests feed it targets and an inventory, no registry involved."""

from __future__ import annotations

from tagmgr.errors import Location
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Action, Kind, Lookup, plan, plan_exit_code
from tagmgr.reconcile.targets import Target, Unresolved

SOURCE = Descriptor(OCI_INDEX, "sha256:" + "1" * 64, 500)
OTHER = Descriptor(OCI_INDEX, "sha256:" + "2" * 64, 500)


def make_target(name: str = "docker.io/org/app", src: str = "build-1", tag: str = "v1") -> Target:
    entry = ImageEntry(name, src, tag, "images[0]", {"": Location("m.yaml", 2, 3)})
    ref = ImageReference.parse(name)
    return Target(entry, ref.with_tag(src), ref.with_tag(tag))


def test_each_kind_of_action() -> None:
    create, present, conflict, missing = (make_target(tag=t) for t in ("c", "p", "x", "m"))
    missing = make_target(src="gone", tag="m")
    inventory = {
        create.source: Lookup(SOURCE),
        create.destination: Lookup(),
        present.destination: Lookup(SOURCE),
        conflict.destination: Lookup(OTHER),
        missing.source: Lookup(missing="org/app has no tag gone"),
        missing.destination: Lookup(),
    }
    actions = plan([create, present, conflict, missing], inventory)
    assert [a.kind for a in actions] == [
        Kind.CREATE,
        Kind.PRESENT,
        Kind.CONFLICT,
        Kind.MISSING_SOURCE,
    ]
    assert actions[2].message == (
        f"docker.io/org/app:x already points at {OTHER.digest}, not {SOURCE.digest}; "
        "an existing tag is never moved"
    )
    assert actions[3].message == "docker.io/org/app:gone does not exist: org/app has no tag gone"


def test_registry_errors_and_unresolved_entries_are_errors() -> None:
    target = make_target()
    unresolved = Unresolved(target.entry, "no tag before commit")
    inventory = {
        target.source: Lookup(error="registry docker.io: unreachable"),
        target.destination: Lookup(),
    }
    actions = plan([target, unresolved], inventory)
    assert [(a.kind, a.message) for a in actions] == [
        (Kind.ERROR, "registry docker.io: unreachable"),
        (Kind.ERROR, "no tag before commit"),
    ]


def test_exit_codes() -> None:
    target = make_target()
    present = {target.source: Lookup(SOURCE), target.destination: Lookup(SOURCE)}
    create = {target.source: Lookup(SOURCE), target.destination: Lookup()}
    conflict = {target.source: Lookup(SOURCE), target.destination: Lookup(OTHER)}
    assert plan_exit_code(plan([target], present)) == 0
    assert plan_exit_code(plan([target], create)) == 2
    assert plan_exit_code(plan([target], conflict)) == 1
    assert plan_exit_code([]) == 0


def test_a_trusted_destination_is_present_without_its_source() -> None:
    target = make_target()
    [action] = plan([target], {target.destination: Lookup(trusted=True)})
    assert (action.kind, action.source, action.message) == (
        Kind.PRESENT,
        None,
        "listed by the registry; not compared (--trust-existing)",
    )


def pinned(digest: str) -> Target:
    return make_target()._replace(pinned=digest)


def test_a_pinned_source_that_moved_is_refused_and_one_that_is_gone_is_missing() -> None:
    moved = pinned(OTHER.digest)
    inventory = {moved.source: Lookup(SOURCE), moved.destination: Lookup()}
    assert plan([moved], inventory) == [
        Action(
            Kind.ERROR,
            moved,
            SOURCE,
            None,
            f"docker.io/org/app:build-1 points at {SOURCE.digest}, not src_digest {OTHER.digest}: "
            "the source was rebuilt or changed since it was reviewed; refused, nothing written",
        )
    ]
    gone = {moved.source: Lookup(), moved.destination: Lookup()}
    assert plan([moved], gone) == [
        Action(Kind.MISSING_SOURCE, moved, message="docker.io/org/app:build-1 does not exist")
    ]


def test_a_pin_naming_one_platform_of_the_index_says_to_pin_the_index() -> None:
    child = pinned(OTHER.digest)
    inventory = {
        child.source: Lookup(SOURCE, children={OTHER.digest: "linux/arm64"}),
        child.destination: Lookup(OTHER),
    }
    assert plan([child], inventory) == [
        Action(
            Kind.ERROR,
            child,
            SOURCE,
            OTHER,
            f"src_digest {OTHER.digest} is the linux/arm64 manifest inside the index "
            f"docker.io/org/app:build-1 points at, not the index; pin the index digest "
            f"{SOURCE.digest} so that every platform gets the tag; refused, nothing written",
        )
    ]
