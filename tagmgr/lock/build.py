"""Lock entries from what was planned or applied, and the moment they were resolved."""

from __future__ import annotations

from datetime import UTC, datetime

from tagmgr.lock.model import LockedPlatform, LockedUpstream, LockEntry
from tagmgr.reconcile.resolve import Resolution
from tagmgr.reconcile.targets import Target


def timestamp(moment: datetime | None = None) -> str:
    """UTC to the second, as a lock file writes it: ``2026-12-01T23:40:00Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def lock_entry(target: Target, resolution: Resolution, resolved_at: str) -> LockEntry:
    """``target`` locked at what its source resolved to (``resolution.descriptor`` is set)."""
    descriptor = resolution.descriptor
    if descriptor is None:
        raise ValueError(f"{resolution.reference} did not resolve")
    entry = target.entry
    upstream = None
    if entry.upstream is not None and target.describe is not None:
        upstream = LockedUpstream(entry.upstream.repo, entry.upstream.commit, target.describe)
    return LockEntry(
        source=target.source,
        target=target.destination,
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        resolved_at=resolved_at,
        platforms=tuple(LockedPlatform(c.platform, c.digest) for c in resolution.children),
        src_ref=entry.src_ref,
        upstream=upstream,
    )
