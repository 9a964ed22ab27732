"""Checking a lock: is each locked tag still where it was? Pure: HEAD answers in, findings out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from tagmgr import exitcodes
from tagmgr.lock.model import LockedPlatform, LockEntry
from tagmgr.reconcile.resolve import Resolution


class State(StrEnum):
    UNCHANGED = "unchanged"
    MOVED = "moved"
    GONE = "gone"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    entry: LockEntry
    state: State
    now: Resolution

    @property
    def new_digest(self) -> str | None:
        return self.now.descriptor.digest if self.now.descriptor else None


def check_entry(entry: LockEntry, now: Resolution) -> Finding:
    if now.error is not None:
        return Finding(entry, State.ERROR, now)
    if now.descriptor is None:
        return Finding(entry, State.GONE, now)
    moved = now.descriptor.digest != entry.digest
    return Finding(entry, State.MOVED if moved else State.UNCHANGED, now)


def moved_entry(finding: Finding, resolved_at: str) -> LockEntry:
    """The entry as it is now, for ``check --update`` (only for a moved one)."""
    descriptor = finding.now.descriptor
    if finding.state is not State.MOVED or descriptor is None:
        raise ValueError(f"{finding.entry.target} has not moved")
    return replace(
        finding.entry,
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        platforms=tuple(LockedPlatform(c.platform_name, c.digest) for c in finding.now.children),
        resolved_at=resolved_at,
    )


def check_exit_code(findings: Sequence[Finding]) -> int:
    """0 nothing moved, 2 something moved or went, 1 when a reference could not be checked."""
    states = {f.state for f in findings}
    if State.ERROR in states:
        return exitcodes.FAILURE
    if states & {State.MOVED, State.GONE}:
        return exitcodes.CHANGES_PENDING
    return exitcodes.OK
