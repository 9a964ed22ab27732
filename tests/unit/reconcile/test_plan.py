"""The planner is pure: these tests feed it targets and an inventory, no registry involved."""

from __future__ import annotations

from tagmgr.errors import Location
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Kind, Lookup, plan, plan_exit_code
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
