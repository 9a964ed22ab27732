"""What ``versions update`` and ``versions release`` decide for each entry, from plain values: the
diffs and the plan's actions and outcomes are given, nothing is read."""

from __future__ import annotations

from tagmgr.changes.pinning import (
    Comparison,
    Step,
    VersionStep,
    as_manifest_entry,
    compare_builds,
    decide_release,
    decide_update,
    new_versions,
    release_targets,
)
from tagmgr.changes.verdict import DiffVerdict, ImageDiff, PlatformDiff, Reason
from tagmgr.changes.versions import PinMode, VersionEntry, VersionsFile
from tagmgr.errors import Location, TagmgrError
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target

BUILD, RELEASE = "build-7", "v2.0"
A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def entry(index: int, version: str | None, pin: PinMode = PinMode.AUTO) -> VersionEntry:
    name = ImageReference.parse(f"registry.example/team/app{index}")
    return VersionEntry(index, name, version, pin, Location("versions.yaml", 2 + index, 5))


AUTO_PINNED, AUTO_UNPINNED, MANUAL = (
    entry(0, "v1.0"),
    entry(1, None),
    entry(2, "v0.9", PinMode.MANUAL),
)
VERSIONS = VersionsFile("versions.yaml", (AUTO_PINNED, AUTO_UNPINNED, MANUAL))


def diff(verdict: DiffVerdict) -> ImageDiff:
    reasons = (Reason("file-modified", "/app/bin"),) if verdict is DiffVerdict.CHANGED else ()
    platform = PlatformDiff("linux/amd64", A, B, verdict, reasons)
    return ImageDiff(
        "app:v1.0", f"app:{BUILD}", A, A if verdict is DiffVerdict.IDENTICAL else B, (platform,)
    )


def test_update_keeps_a_pin_the_build_did_not_change_and_unpins_one_it_did() -> None:
    same, changed = diff(DiffVerdict.EQUIVALENT), diff(DiffVerdict.CHANGED)
    assert decide_update(AUTO_PINNED, same) == VersionStep(AUTO_PINNED, Step.KEEP, "v1.0", same)
    assert decide_update(AUTO_PINNED, changed) == VersionStep(
        AUTO_PINNED, Step.UNPIN, None, changed
    )


def test_update_leaves_manual_and_unpinned_entries_and_reports_a_failed_comparison() -> None:
    assert decide_update(MANUAL, diff(DiffVerdict.CHANGED)) == VersionStep(
        MANUAL, Step.MANUAL, "v0.9"
    )
    assert decide_update(AUTO_UNPINNED, None) == VersionStep(AUTO_UNPINNED, Step.UNPINNED, None)
    assert decide_update(AUTO_PINNED, "app:build-7 does not exist") == VersionStep(
        AUTO_PINNED, Step.ERROR, "v1.0", message="app:build-7 does not exist"
    )
    assert decide_update(AUTO_PINNED, None) == VersionStep(AUTO_PINNED, Step.ERROR, "v1.0")


def test_builds_are_compared_only_for_pinned_auto_entries_and_a_failure_is_its_message() -> None:
    asked: list[tuple[str, str]] = []

    def compare(entry: VersionEntry, build: str) -> ImageDiff:
        asked.append((str(entry.name), build))
        return diff(DiffVerdict.IDENTICAL)

    assert compare_builds(VERSIONS, BUILD, compare) == {0: diff(DiffVerdict.IDENTICAL)}
    assert asked == [("registry.example/team/app0", BUILD)]

    def unreadable(entry: VersionEntry, build: str) -> ImageDiff:
        raise TagmgrError("registry.example: 503")

    failed: dict[int, Comparison] = {0: "registry.example: 503"}
    assert compare_builds(VERSIONS, BUILD, unreadable) == failed


def test_a_release_targets_each_unpinned_auto_entry_at_its_build() -> None:
    name = AUTO_UNPINNED.name
    expected = ImageEntry(
        "registry.example/team/app1",
        BUILD,
        RELEASE,
        "images[1]",
        {"": Location("versions.yaml", 3, 5)},
    )
    assert as_manifest_entry(AUTO_UNPINNED, BUILD, RELEASE) == expected
    assert release_targets(VERSIONS, RELEASE, BUILD) == {
        1: Target(expected, name.with_tag(BUILD), name.with_tag(RELEASE))
    }


def action(kind: Kind, message: str = "") -> Action:
    [target] = release_targets(VERSIONS, RELEASE, BUILD).values()
    return Action(kind, target, Descriptor(OCI_INDEX, A, 100), message=message)


def test_a_dry_run_release_pins_what_the_plan_would_tag() -> None:
    create = action(Kind.CREATE)
    assert decide_release(VERSIONS, RELEASE, {1: create}, None) == [
        VersionStep(AUTO_PINNED, Step.KEEP, "v1.0"),
        VersionStep(AUTO_UNPINNED, Step.PIN, RELEASE, None, create),
        VersionStep(MANUAL, Step.MANUAL, "v0.9"),
    ]
    conflict = action(Kind.CONFLICT, "app1:v2.0 already points elsewhere")
    [_, refused, _] = decide_release(VERSIONS, RELEASE, {1: conflict}, None)
    assert refused == VersionStep(
        AUTO_UNPINNED, Step.ERROR, None, None, conflict, None, "app1:v2.0 already points elsewhere"
    )


def test_an_applied_release_pins_what_was_tagged_and_keeps_the_rest_unpinned() -> None:
    create = action(Kind.CREATE)
    for result in (Result.CREATED, Result.PRESENT):
        outcome = Outcome(create, result)
        [_, pinned, _] = decide_release(VERSIONS, RELEASE, {1: create}, {1: outcome})
        assert pinned == VersionStep(AUTO_UNPINNED, Step.PIN, RELEASE, None, create, outcome)
    failed = Outcome(create, Result.FAILED, "verification failed")
    [_, error, _] = decide_release(VERSIONS, RELEASE, {1: create}, {1: failed})
    assert error == VersionStep(
        AUTO_UNPINNED, Step.ERROR, None, None, create, failed, "verification failed"
    )
    nothing = decide_release(VersionsFile("v.yaml", (AUTO_UNPINNED,)), RELEASE, {}, {})
    assert nothing == [VersionStep(AUTO_UNPINNED, Step.UNPINNED, None)]


def test_only_pins_and_unpins_are_written() -> None:
    steps = [
        VersionStep(AUTO_PINNED, Step.UNPIN, None),
        VersionStep(AUTO_UNPINNED, Step.PIN, RELEASE),
        VersionStep(MANUAL, Step.MANUAL, "v0.9"),
        VersionStep(entry(3, "v1"), Step.KEEP, "v1"),
        VersionStep(entry(4, "v1"), Step.ERROR, "v1", message="boom"),
    ]
    assert new_versions(steps) == {0: None, 1: RELEASE}
