"""Deciding what ``versions update`` and ``versions release`` do to each entry: pure decisions,
with the registry reads that feed them kept apart (``compare_builds``, ``release_targets``).

update: an auto-pinned image whose new build is equivalent to its pinned release keeps the pin; a
changed one is unpinned. release: every unpinned auto image gets the release tag at exactly its
build's digest, through the core's create-only planner and applier, and is pinned to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tagmgr.changes.verdict import DiffVerdict, ImageDiff
from tagmgr.changes.versions import PinMode, VersionEntry, VersionsFile
from tagmgr.errors import TagmgrError
from tagmgr.manifest.model import ImageEntry
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target


class Step(StrEnum):
    KEEP = "keep"  # pinned, and staying so
    UNPIN = "unpin"  # the build really changed: ``version`` becomes null
    PIN = "pin"  # released: ``version`` becomes the release tag
    MANUAL = "manual"  # ``pin: manual``: never changed
    UNPINNED = "unpinned"  # no version to compare with (update), or not released (release)
    ERROR = "error"


@dataclass(frozen=True)
class VersionStep:
    entry: VersionEntry
    step: Step
    version: str | None  # the version after this step
    diff: ImageDiff | None = None
    action: Action | None = None
    outcome: Outcome | None = None
    message: str = ""


Comparison = ImageDiff | str  # a diff, or why there is none


def decide_update(entry: VersionEntry, comparison: Comparison | None) -> VersionStep:
    if entry.pin is PinMode.MANUAL:
        return VersionStep(entry, Step.MANUAL, entry.version)
    if entry.version is None:
        return VersionStep(entry, Step.UNPINNED, None)
    if isinstance(comparison, str) or comparison is None:
        return VersionStep(entry, Step.ERROR, entry.version, message=comparison or "")
    if comparison.verdict is DiffVerdict.CHANGED:
        return VersionStep(entry, Step.UNPIN, None, comparison)
    return VersionStep(entry, Step.KEEP, entry.version, comparison)


def compare_builds(
    versions: VersionsFile, build: str, diff: Callable[[VersionEntry, str], ImageDiff]
) -> dict[int, Comparison]:
    """``diff(entry, build)`` for every entry ``decide_update`` needs one for."""
    comparisons: dict[int, Comparison] = {}
    for entry in versions.entries:
        if entry.pin is PinMode.AUTO and entry.version is not None:
            try:
                comparisons[entry.index] = diff(entry, build)
            except TagmgrError as error:
                comparisons[entry.index] = str(error)
    return comparisons


def release_targets(versions: VersionsFile, version: str, build: str) -> dict[int, Target]:
    """``name:version <- name:build`` for every unpinned auto entry, by entry index."""
    return {
        entry.index: Target(
            as_manifest_entry(entry, build, version),
            entry.name.with_tag(build),
            entry.name.with_tag(version),
        )
        for entry in versions.entries
        if entry.pin is PinMode.AUTO and entry.version is None
    }


def decide_release(
    versions: VersionsFile,
    version: str,
    actions: Mapping[int, Action],
    outcomes: Mapping[int, Outcome] | None,
) -> list[VersionStep]:
    """Pinned where the tag is (or, in a dry run, would be) at the build's digest."""
    steps = []
    for entry in versions.entries:
        action = actions.get(entry.index)
        if action is None:
            kept = Step.MANUAL if entry.pin is PinMode.MANUAL else Step.KEEP
            steps.append(
                VersionStep(entry, kept if entry.version else Step.UNPINNED, entry.version)
            )
            continue
        outcome = outcomes.get(entry.index) if outcomes is not None else None
        tagged = (
            outcome.result in (Result.CREATED, Result.PRESENT)
            if outcome is not None
            else action.kind in (Kind.CREATE, Kind.PRESENT)
        )
        step = Step.PIN if tagged else Step.ERROR
        message = (outcome.message if outcome else "") or action.message
        steps.append(
            VersionStep(entry, step, version if tagged else None, None, action, outcome, message)
        )
    return steps


def new_versions(steps: Sequence[VersionStep]) -> dict[int, str | None]:
    """The edits to write: entries whose version this run changes."""
    return {step.entry.index: step.version for step in steps if step.step in (Step.PIN, Step.UNPIN)}


def as_manifest_entry(entry: VersionEntry, build: str, version: str) -> ImageEntry:
    return ImageEntry(
        name=entry.name.name,
        src_build_tag=build,
        tag=version,
        field_path=entry.field_path,
        locations={"": entry.location},
    )
