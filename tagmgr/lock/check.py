"""Checking a lock: is each locked tag still where it was? Pure: HEAD answers in, findings out.

Both of an entry's tags are checked: the target (the stable tag) and the source (the build tag it
was made from). A build tag that points elsewhere now is a rebuilt or tampered source: that is
``source-moved``, and fails the check as a moved target does. A build tag that is gone is
``source-gone``, said but no failure: retention rules remove build tags as a matter of course
(Harbor's tag retention, ECR's untagging), and a missing tag moves nothing the lock pins. A source
locked by digest alone has nothing to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from tagmgr import exitcodes
from tagmgr.lock.model import LockedPlatform, LockEntry
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.resolve import Resolution


class State(StrEnum):
    UNCHANGED = "unchanged"
    MOVED = "moved"
    GONE = "gone"
    SOURCE_MOVED = "source-moved"
    SOURCE_GONE = "source-gone"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    entry: LockEntry
    state: State
    now: Resolution
    source: bool = False  # the entry's source was checked, not its target

    @property
    def checked(self) -> ImageReference:
        """The tag checked, as the lock names it: the target, or the source's build tag."""
        return (source_tag(self.entry) or self.entry.source) if self.source else self.entry.target

    @property
    def locked_digest(self) -> str:
        return self.entry.source_digest if self.source else self.entry.digest

    @property
    def new_digest(self) -> str | None:
        return self.now.descriptor.digest if self.now.descriptor else None


def source_tag(entry: LockEntry) -> ImageReference | None:
    """The build tag to HEAD for ``entry``'s source; None for a source locked by digest alone."""
    source = entry.source
    if source.tag is None:
        return None
    return ImageReference(source.registry, source.repository, source.tag)


def check_entry(entry: LockEntry, now: Resolution) -> Finding:
    return _finding(entry, now, State.MOVED, State.GONE)


def check_source(entry: LockEntry, now: Resolution) -> Finding:
    """``now`` is what the entry's ``source_tag`` resolves to."""
    return _finding(entry, now, State.SOURCE_MOVED, State.SOURCE_GONE, source=True)


def _finding(
    entry: LockEntry, now: Resolution, moved: State, gone: State, *, source: bool = False
) -> Finding:
    found = Finding(entry, State.UNCHANGED, now, source)
    if now.error is not None:
        return replace(found, state=State.ERROR)
    if now.descriptor is None:
        return replace(found, state=gone)
    return found if now.descriptor.digest == found.locked_digest else replace(found, state=moved)


def to_update(findings: Sequence[Finding]) -> list[Finding]:
    """The moved targets ``check --update`` rewrites: never a source, and no entry whose source
    moved. A build tag that moved is not a new release; following it would bless it."""
    held = {f.entry.target for f in findings if f.state is State.SOURCE_MOVED}
    return [f for f in findings if f.state is State.MOVED and f.entry.target not in held]


def moved_entry(finding: Finding, resolved_at: str) -> LockEntry:
    """The entry as it is now, for ``check --update`` (only for a moved target). Its source
    keeps the digest it was locked at (``name:build-1@sha256:...``), unless that is the new one."""
    descriptor, entry = finding.now.descriptor, finding.entry
    if finding.state is not State.MOVED or descriptor is None:
        raise ValueError(f"{entry.target} has not moved")
    source = entry.source
    if source.tag is not None:
        own = entry.source_digest
        source = source._replace(digest=None if own == descriptor.digest else own)
    return replace(
        entry,
        source=source,
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        platforms=tuple(LockedPlatform(c.platform_name, c.digest) for c in finding.now.children),
        resolved_at=resolved_at,
    )


def check_exit_code(findings: Sequence[Finding]) -> int:
    """0 nothing moved, 2 a target moved or went or a source moved, 1 when a reference could not
    be checked. A source that went is no failure (see above)."""
    states = {f.state for f in findings}
    if State.ERROR in states:
        return exitcodes.FAILURE
    if states & {State.MOVED, State.GONE, State.SOURCE_MOVED}:
        return exitcodes.CHANGES_PENDING
    return exitcodes.OK
