"""Where the pins come from: a lock file, or manifests, whose targets' digests are HEADed through
the registries when ``--digest`` asks for them."""

from __future__ import annotations

from collections.abc import Sequence, Set
from pathlib import Path

from tagmgr.lock import read_lock
from tagmgr.manifest.model import Manifest
from tagmgr.oci.registrymap import RegistryMap
from tagmgr.pinrefs.pins import Pin, PinTable
from tagmgr.reconcile import pipeline
from tagmgr.reconcile.targets import Target
from tagmgr.registry import Registries
from tagmgr.system.concurrency import map_in_threads


def pins_from_lock(path: Path) -> PinTable:
    entries = read_lock(path).entries
    return PinTable(Pin.of(entry.target, entry.source, entry.digest) for entry in entries)


def pins_from_manifests(
    manifests: Sequence[Manifest],
    registries: Registries | None,
    registry_map: RegistryMap,
    *,
    named: Set[tuple[str, str]],
    git_cache: Path | None,
    jobs: int,
) -> PinTable:
    """Entries as written (files name docker.io, not a mirror); when ``registries`` are given,
    the digest of each target in a repository the files name (``named``: registry, repository)
    HEADed through ``registry_map``: an entry no file names needs no registry."""
    resolved = pipeline.resolve(
        manifests, registry_map=RegistryMap(), git_cache=git_cache, jobs=jobs
    )
    targets = [t for t in resolved if isinstance(t, Target)]
    digests: list[str | None] = [None] * len(targets)
    if registries is not None:

        def head(target: Target) -> str | None:
            if (target.destination.registry, target.destination.repository) not in named:
                return None
            ref = registry_map.apply(target.destination)
            found = registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))
            return found.digest if found else None

        digests = map_in_threads(head, targets, jobs)
    pins = (
        Pin.of(t.destination, t.source, digest) for t, digest in zip(targets, digests, strict=True)
    )
    return PinTable(pins, digests_known=registries is not None)
