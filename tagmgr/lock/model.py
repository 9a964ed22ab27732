"""A lock file as plain values: which digest every locked reference resolved to, and when."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from tagmgr.oci.reference import ImageReference

LOCK_FORMAT = "tagmgr.lock/v1"


@dataclass(frozen=True, order=True)
class LockedPlatform:
    """One child of an index: ``platform`` is ``os/architecture[/variant]``."""

    platform: str
    digest: str


@dataclass(frozen=True)
class LockedUpstream:
    """Where a derived tag came from."""

    repo: str
    commit: str
    describe: str


@dataclass(frozen=True)
class LockEntry:
    """``target`` (the stable tag) and ``source`` (the build) both resolved to ``digest``.

    ``source`` carries a tag, or only a digest when the manifest gave the source by digest. A
    source with a tag and a digest (``name:build-1@sha256:...``) was locked at that digest, not at
    ``digest``: ``check --update`` followed its target elsewhere, and the build tag stayed.
    ``resolved_at`` is UTC to the second, ``2026-12-01T23:40:00Z``.
    """

    source: ImageReference
    target: ImageReference
    digest: str
    media_type: str
    resolved_at: str
    platforms: tuple[LockedPlatform, ...] = ()
    src_ref: str | None = None
    upstream: LockedUpstream | None = None

    def __post_init__(self) -> None:
        # One order for equal content: a re-run with nothing moved compares (and writes) equal.
        object.__setattr__(self, "platforms", tuple(sorted(set(self.platforms))))

    @property
    def source_digest(self) -> str:
        """The digest the source was locked at."""
        return self.source.digest or self.digest

    def same_resolution(self, other: LockEntry) -> bool:
        """Equal in everything but ``resolved_at``: nothing moved between the two."""
        return replace(self, resolved_at=other.resolved_at) == other


def _entry_order(entry: LockEntry) -> tuple[str, str]:
    return str(entry.target), str(entry.source)


@dataclass(frozen=True)
class Lock:
    """Entries sorted by target, one per target; build with ``Lock.of``."""

    entries: tuple[LockEntry, ...] = field(default=())

    @classmethod
    def of(cls, entries: Iterable[LockEntry]) -> Lock:
        """Sorted by target; a later entry for a target replaces an earlier one."""
        by_target = {entry.target: entry for entry in entries}
        return cls(tuple(sorted(by_target.values(), key=_entry_order)))

    def updated(self, fresh: Iterable[LockEntry]) -> Lock:
        """These entries with ``fresh`` ones replacing those for the same targets.

        A fresh entry that resolved exactly as the old one did keeps the old ``resolved_at``, so
        a re-run with nothing moved changes no byte.
        """
        old = {entry.target: entry for entry in self.entries}
        merged = dict(old)
        for entry in fresh:
            previous = old.get(entry.target)
            keep = previous is not None and previous.same_resolution(entry)
            merged[entry.target] = previous if keep and previous else entry
        return Lock.of(merged.values())

    def replaced_by(self, fresh: Iterable[LockEntry]) -> Lock:
        """Only the ``fresh`` entries, keeping old ``resolved_at`` values where nothing moved."""
        fresh = list(fresh)
        targets = {entry.target for entry in fresh}
        return Lock.of(e for e in self.updated(fresh).entries if e.target in targets)

    def references(self) -> Iterator[tuple[ImageReference, str]]:
        """Every (reference, digest) the lock names: targets, sources and per-platform children.

        Children are named by digest alone (``registry/repo@sha256:...``) under the target's
        repository.
        """
        for entry in self.entries:
            yield entry.target, entry.digest
            if entry.source.tag is not None:  # a source by digest alone is the target's digest
                yield entry.source, entry.source_digest
            for child in entry.platforms:
                yield entry.target.with_digest(child.digest), child.digest
