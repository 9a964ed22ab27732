"""Promotion and rollback planning, pure: what the repositories' environment and history tags
point at in, one ``Promotion`` out, or a refusal saying why.

A digest reaches an environment only from the one before it in the chain: it must be there now,
or have been (a history tag of that environment points at it). The first environment takes any
digest. A rollback moves an environment back to an earlier history entry of its own; both are
recorded with a new history tag, which is never moved once written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tagmgr.errors import TagmgrError
from tagmgr.manifest.environments import Chain, HistoryTag, history_of, history_tag
from tagmgr.oci.reference import ImageReference


class PromotionRefused(TagmgrError):
    """A promotion or rollback that the chain or the history does not allow; nothing moved."""


class Move(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class TagState:
    """Tags of one repository and the digests they point at (only the tags that matter)."""

    repository: ImageReference  # registry and repository, no tag or digest
    tags: Mapping[str, str]

    def history(self, chain: Chain, environment: str) -> list[tuple[HistoryTag, str]]:
        return history_of(self.tags, chain, environment)


@dataclass(frozen=True)
class Promotion:
    move: Move
    source: ImageReference  # repository@digest the image comes from
    destination: ImageReference  # repository whose environment tag moves
    environment: str
    digest: str
    history: HistoryTag
    current: str | None  # what the environment points at now
    reason: str  # why the chain allows it
    copy: bool  # the destination repository does not hold the digest yet

    @property
    def changes(self) -> bool:
        return self.current != self.digest

    @property
    def environment_ref(self) -> ImageReference:
        return self.destination.with_tag(self.environment)

    @property
    def history_ref(self) -> ImageReference:
        return self.destination.with_tag(self.history.tag)


def plan_promotion(
    source: TagState,
    destination: TagState,
    *,
    digest: str,
    environment: str,
    chain: Chain,
    now: datetime,
) -> Promotion:
    """``source`` holds the image and the environment before; ``destination`` (the same state
    unless ``--to-repository``) holds ``environment``."""
    previous = chain.previous(environment)
    if previous is None:
        reason = f"{environment} is the first environment of {','.join(chain.names)}"
    else:
        reason = _reached(source, chain, previous, digest)
    holds = digest in destination.tags.values() or source.repository == destination.repository
    return _promotion(
        Move.PROMOTE,
        source,
        destination,
        digest=digest,
        environment=environment,
        now=now,
        reason=reason,
        copy=not holds,
    )


def plan_rollback(
    state: TagState, environment: str, chain: Chain, now: datetime, to: str | None = None
) -> Promotion:
    chain.index(environment)
    entries = state.history(chain, environment)
    current = state.tags.get(environment)
    if to is not None:
        chosen = next(((entry, tag) for entry, tag in entries if tag == to), None)
        if chosen is None:
            known = ", ".join(tag for _, tag in entries) or "none"
            raise PromotionRefused(
                f"{to} is not a history tag of {environment} in {state.repository}"
                f" (history: {known})"
            )
    else:
        earlier = [(e, t) for e, t in entries if state.tags[t] != current]
        if not earlier:
            raise PromotionRefused(
                f"{state.repository}: {environment} has no earlier history entry to roll back to"
            )
        chosen = earlier[-1]
    tag = chosen[1]
    return _promotion(
        Move.ROLLBACK,
        state,
        state,
        digest=state.tags[tag],
        environment=environment,
        now=now,
        reason=f"{tag} recorded it in {environment}",
        copy=False,
    )


def _reached(source: TagState, chain: Chain, previous: str, digest: str) -> str:
    if source.tags.get(previous) == digest:
        return f"{previous} points at it"
    for _entry, tag in reversed(source.history(chain, previous)):
        if source.tags[tag] == digest:
            return f"{tag} shows it was in {previous}"
    now_at = source.tags.get(previous)
    where = f"{previous} points at {now_at}" if now_at else f"{previous} is not set"
    raise PromotionRefused(
        f"{source.repository}@{digest} was never in {previous}, the environment before"
        f" the one asked for ({where}, and no {previous} history tag points at it);"
        f" promote it to {previous} first"
    )


def _promotion(
    move: Move,
    source: TagState,
    destination: TagState,
    *,
    digest: str,
    environment: str,
    now: datetime,
    reason: str,
    copy: bool,
) -> Promotion:
    entry = history_tag(environment, now)
    taken = destination.tags.get(entry.tag)
    if taken is not None and taken != digest:
        raise PromotionRefused(
            f"{destination.repository.with_tag(entry.tag)} already points at {taken};"
            " a history tag is never moved: try again in a second"
        )
    return Promotion(
        move,
        source.repository.with_digest(digest),
        destination.repository,
        environment,
        digest,
        entry,
        destination.tags.get(environment),
        reason,
        copy,
    )


def wanted_tags(tags: list[str], chain: Chain) -> list[str]:
    """Of a repository's tags, those promotion reads: environments and their history."""
    return [
        tag
        for tag in tags
        if tag in chain or any(history_of([tag], chain, env) for env in chain.names)
    ]
