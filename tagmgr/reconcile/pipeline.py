"""The reconcile pipeline every command shares: manifests -> targets -> inventory -> plan.

Everything is validated before the first request, so bad input never reaches a registry; the
caller loads (and shards) the manifests, this module resolves and reads what the registries hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tagmgr.errors import GitVersionError
from tagmgr.manifest.model import Manifest
from tagmgr.oci.registrymap import RegistryMap
from tagmgr.reconcile.inventory import UNCOUNTED, Tally, take_inventory
from tagmgr.reconcile.plan import Action
from tagmgr.reconcile.plan import plan as plan_actions
from tagmgr.reconcile.readers import RegistryReaders
from tagmgr.reconcile.targets import Resolved, UpstreamKey, resolve_targets


def resolve(
    manifests: Sequence[Manifest],
    *,
    registry_map: RegistryMap,
    git_cache: Path | None,
    jobs: int,
) -> list[Resolved]:
    """Each entry as a concrete target (derived tags described with git), or why it is not.

    git and its process layer are imported only when an entry has a tag to describe.
    """

    def describe(upstreams: Sequence[UpstreamKey]) -> dict[UpstreamKey, str | GitVersionError]:
        from tagmgr.git.cache import default_cache_dir  # noqa: PLC0415
        from tagmgr.git.describe import GitVersioner  # noqa: PLC0415

        versioner = GitVersioner(git_cache or default_cache_dir(), jobs=jobs)
        return versioner.describe_all(upstreams)

    return resolve_targets(manifests, registry_map=registry_map, describe=describe)


def plan(
    manifests: Sequence[Manifest],
    registries: RegistryReaders,
    *,
    registry_map: RegistryMap,
    git_cache: Path | None,
    jobs: int,
    trust_existing: bool = False,
    tally: Tally = UNCOUNTED,
) -> list[Action]:
    """``tally`` counts the registry reads, which are most of a plan's time."""
    resolved = resolve(manifests, registry_map=registry_map, git_cache=git_cache, jobs=jobs)
    inventory = take_inventory(
        resolved, registries, jobs=jobs, trust_existing=trust_existing, tally=tally
    )
    return plan_actions(resolved, inventory)
