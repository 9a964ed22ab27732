"""Reading the registries for ``check``: each locked target and source build tag, as it is now.

One HEAD per locked target and per source build tag; with ``update``, one GET more per moved
index, for its platforms. The findings come from the pure ``lock.check``.
"""

from __future__ import annotations

from tagmgr.lock.check import Finding, State, check_entry, check_source, source_tag
from tagmgr.lock.model import Lock, LockEntry
from tagmgr.oci.registrymap import RegistryMap
from tagmgr.reconcile.inventory import UNCOUNTED, Tally
from tagmgr.reconcile.resolve import resolve, with_children
from tagmgr.registry import Registries
from tagmgr.system.concurrency import map_in_threads


def verify_lock(
    locked: Lock,
    registries: Registries,
    registry_map: RegistryMap,
    *,
    update: bool,
    jobs: int,
    tally: Tally = UNCOUNTED,
) -> list[Finding]:
    """A finding per target, then one per source build tag, entry by entry in the lock's order."""
    tally.expect(len(locked.entries))

    def verify(entry: LockEntry) -> list[Finding]:
        target = registry_map.apply(entry.target)
        client = registries.client(target.registry)
        finding = check_entry(entry, resolve(client, target))
        if update and finding.state is State.MOVED:
            finding = check_entry(entry, with_children(client, finding.now))
        tally.advance(str(target))
        build_tag = source_tag(entry)
        if build_tag is None:
            return [finding]
        source = registry_map.apply(build_tag)
        return [finding, check_source(entry, resolve(registries.client(source.registry), source))]

    pairs = map_in_threads(verify, list(locked.entries), jobs)
    return [finding for pair in pairs for finding in pair]
