"""Lock entries from what was planned or applied, and the moment they were resolved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tagmgr.lock.model import LockedPlatform, LockedUpstream, LockEntry
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.readers import RegistryReaders
from tagmgr.reconcile.resolve import Resolution, with_children
from tagmgr.reconcile.targets import Target
from tagmgr.system.concurrency import map_in_threads


def timestamp(moment: datetime | None = None) -> str:
    """UTC to the second, as a lock file writes it: ``2026-12-01T23:40:00Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def lock_entry(target: Target, resolution: Resolution, resolved_at: str) -> LockEntry:
    """``target`` locked at what its source resolved to (``resolution.descriptor`` is set).

    Under the manifest's own registry, whatever ``--map-registry`` asked instead: a lock is read
    through the map as a manifest is, so one lock serves the mirror and the registry alike.
    """
    descriptor = resolution.descriptor
    if descriptor is None:
        raise ValueError(f"{resolution.reference} did not resolve")
    entry = target.entry
    upstream = None
    if entry.upstream is not None and target.describe is not None:
        upstream = LockedUpstream(entry.upstream.repo, entry.upstream.commit, target.describe)
    registry = ImageReference.parse(entry.name).registry
    return LockEntry(
        source=target.source._replace(registry=registry),
        target=target.destination._replace(registry=registry),
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        resolved_at=resolved_at,
        platforms=tuple(LockedPlatform(c.platform_name, c.digest) for c in resolution.children),
        src_ref=entry.src_ref,
        upstream=upstream,
    )


def lock_entries(
    actions: Sequence[Action], registries: RegistryReaders, *, jobs: int
) -> tuple[list[LockEntry], list[str]]:
    """A lock entry for each action whose source resolved; a message for each other one."""
    now = timestamp()

    def entry_of(action: Action) -> LockEntry | str:
        target, descriptor = action.target, action.source
        if action.kind not in (Kind.CREATE, Kind.PRESENT) or target is None or descriptor is None:
            where = action.item.entry.location()
            return f"{where}: {action.item.entry.field_path}: {action.kind.value}: {action.message}"
        client = registries.client(target.source.registry)
        resolution = with_children(client, Resolution(target.source, descriptor))
        if resolution.error is not None:
            return resolution.error
        return lock_entry(target, resolution, now)

    results = map_in_threads(entry_of, list(actions), jobs)
    return [r for r in results if not isinstance(r, str)], [
        r for r in results if isinstance(r, str)
    ]
