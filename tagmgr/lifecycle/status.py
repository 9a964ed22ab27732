"""What each environment of a repository points at, since when, and what else names that digest.

Pure: the repository's tags (tag -> digest) and the manifests' entries in, one status out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from tagmgr.lifecycle.holdings import referrer_subject
from tagmgr.lifecycle.inuse import InUseSet
from tagmgr.lock import Lock
from tagmgr.manifest.environments import Chain, HistoryTag, build_time, history_of
from tagmgr.manifest.model import ImageEntry, Manifest
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.registrymap import RegistryMap


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    digest: str | None
    since: str | None  # the history tag that recorded it
    build_tags: tuple[str, ...] = ()
    release_tags: tuple[str, ...] = ()
    src_refs: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()  # (history tag, digest), oldest first
    in_use: tuple[
        str, ...
    ] = ()  # where the digest runs or is named (InUse.where), by digest or tag


@dataclass(frozen=True)
class RepositoryStatus:
    name: str
    environments: tuple[EnvironmentStatus, ...]


def repository_status(
    repository: ImageReference,
    tags: Mapping[str, str],
    chain: Chain,
    manifests: Sequence[Manifest] = (),
    locks: Sequence[Lock] = (),
    *,
    in_use: InUseSet | None = None,
    registry_map: RegistryMap | None = None,
) -> RepositoryStatus:
    """``locks`` give the ``src_ref`` of a digest directly; manifests by the tags at it.
    ``in_use`` answers where each digest runs: uses of the digest or of any tag at it.
    ``registry_map`` applies to the names the manifests and locks give, as to ``repository``."""
    mapping = registry_map or RegistryMap()
    locked = _locked_src_refs(locks, mapping, repository)
    entries = _entries_with_src_ref(manifests, mapping, repository)
    found = []
    for env in chain.names:
        status = _environment(tags, chain, env)
        named = {*status.build_tags, *status.release_tags}
        refs = {ref for at, ref in locked if at == status.digest}
        refs |= {e.src_ref for e in entries if e.src_ref and {e.src_build_tag, e.tag} & named}
        uses = _uses(in_use or InUseSet(), repository, status)
        found.append(replace(status, src_refs=tuple(sorted(refs)), in_use=uses))
    return RepositoryStatus(repository.name, tuple(found))


def _locked_src_refs(
    locks: Sequence[Lock], mapping: RegistryMap, repository: ImageReference
) -> list[tuple[str, str]]:
    """(digest, src_ref) of the lock entries of this repository."""
    return [
        (entry.digest, entry.src_ref)
        for lock in locks
        for entry in lock.entries
        if entry.src_ref and mapping.apply(entry.target).name == repository.name
    ]


def _entries_with_src_ref(
    manifests: Sequence[Manifest], mapping: RegistryMap, repository: ImageReference
) -> list[ImageEntry]:
    return [
        entry
        for manifest in manifests
        for entry in manifest.entries
        if entry.src_ref and mapping.apply(ImageReference.parse(entry.name)).name == repository.name
    ]


def _uses(
    in_use: InUseSet, repository: ImageReference, status: EnvironmentStatus
) -> tuple[str, ...]:
    if status.digest is None:
        return ()
    registry, name = repository.registry, repository.repository
    records = in_use.uses_of_digest(registry, name, status.digest)
    for tag in (status.environment, *status.build_tags, *status.release_tags):
        records += in_use.uses_of_tag(registry, name, tag)
    return tuple(dict.fromkeys(record.where for record in records))


def _environment(tags: Mapping[str, str], chain: Chain, environment: str) -> EnvironmentStatus:
    history = tuple((tag, tags[tag]) for _, tag in history_of(tags, chain, environment))
    digest = tags.get(environment)
    if digest is None:
        return EnvironmentStatus(environment, None, None, history=history)
    # The promotion that put it there is the latest history entry, if that entry is this digest.
    since = history[-1][0] if history and history[-1][1] == digest else None
    builds, releases = _named(tags, chain, digest)
    return EnvironmentStatus(environment, digest, since, builds, releases, history=history)


class DigestNames(NamedTuple):
    """What a person knows a digest of a repository by: its build tags, its other tags, and the
    newest history tag of an environment that recorded it there (with its time)."""

    digest: str | None
    builds: tuple[str, ...]
    releases: tuple[str, ...]
    recorded: HistoryTag | None


def digest_names(
    tags: Mapping[str, str], chain: Chain, environment: str, digest: str | None
) -> DigestNames:
    """``tags``: as many of the repository's tags as were read (tag -> digest)."""
    if digest is None:
        return DigestNames(None, (), (), None)
    builds, releases = _named(tags, chain, digest)
    recorded = [
        parsed for parsed, tag in history_of(tags, chain, environment) if tags[tag] == digest
    ]
    return DigestNames(digest, builds, releases, recorded[-1] if recorded else None)


def _named(
    tags: Mapping[str, str], chain: Chain, digest: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The build tags (a tag with a build time) and the other tags at ``digest``, neither an
    environment's, a history tag nor a signature's."""
    others = sorted(
        tag
        for tag, at in tags.items()
        if at == digest and not chain.is_reserved(tag) and referrer_subject(tag) is None
    )
    builds = tuple(tag for tag in others if build_time([tag], chain))
    return builds, tuple(tag for tag in others if tag not in builds)
