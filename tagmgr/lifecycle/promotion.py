"""Promotion and rollback planning, pure: what the repositories' environment and history tags
point at in, one ``Promotion`` out, or a refusal saying why; and the values that say what a
carried-out promotion came to (``PromotionOutcome``).

A digest reaches an environment only from the one before it in the chain: it must be there now,
or have been (a history tag of that environment points at it). The first environment takes any
digest. A rollback moves an environment back to an earlier history entry of its own; both are
recorded with a new history tag, which is never moved once written.

The invariant ``execute_promotion.promote`` keeps, whatever the outcome (a failed write and a
rival writer's move included; the windows it cannot close are in docs/concepts/environments.md,
"What remains racy"):

- an environment tag and its newest history tag (the latest timestamp) point at the same digest;
- a history tag points at a digest its environment pointed at when the tag was written, so
  nothing a failed promotion leaves behind admits a digest to the next environment;
- a history tag, once written, is never written again.

So the environment tag is written first and history only once the move is read back; a plan
whose environment already points at the digest but whose newest history tag does not (a run cut
short) still ``changes``: carrying it out records the move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from tagmgr.errors import TagmgrError
from tagmgr.manifest.environments import Chain, HistoryTag, history_of, next_history_tag
from tagmgr.oci.reference import ImageReference


class PromotionRefused(TagmgrError):
    """A promotion or rollback that the chain or the history does not allow; nothing moved."""


class Move(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class Reading(NamedTuple):
    """An environment as read: the digest it points at and its newest history tag's."""

    at: str | None
    newest: HistoryTag | None
    recorded: str | None  # what ``newest`` points at

    @property
    def agrees(self) -> bool:
        return self.at is not None and self.at == self.recorded


@dataclass(frozen=True)
class TagState:
    """Tags of one repository and the digests they point at (only the tags that matter)."""

    repository: ImageReference  # registry and repository, no tag or digest
    tags: Mapping[str, str]

    def history(self, chain: Chain, environment: str) -> list[tuple[HistoryTag, str]]:
        return history_of(self.tags, chain, environment)

    def reading(self, chain: Chain, environment: str) -> Reading:
        entries = self.history(chain, environment)
        newest, tag = entries[-1] if entries else (None, "")
        return Reading(self.tags.get(environment), newest, self.tags.get(tag))


@dataclass(frozen=True)
class Promotion:
    move: Move
    source: ImageReference  # repository@digest the image comes from
    destination: ImageReference  # repository whose environment tag moves
    environment: str
    digest: str
    history: HistoryTag  # the tag it would record the move with now; it is named when written
    before: Reading  # the environment and its newest history tag as planned from
    reason: str  # why the chain allows it
    copy: bool  # the destination repository does not hold the digest yet
    signed_by: tuple[str, ...] = ()  # the public key files whose cosign signature was required

    @property
    def current(self) -> str | None:
        """What the environment points at now."""
        return self.before.at

    @property
    def changes(self) -> bool:
        """The environment is elsewhere, or its newest history tag does not record the digest."""
        return not (self.before.agrees and self.before.at == self.digest)

    @property
    def environment_ref(self) -> ImageReference:
        return self.destination.with_tag(self.environment)


class PromotionResult(StrEnum):
    """What carrying out a promotion came to."""

    MOVED = "moved"  # the environment points at the digest, and its newest history tag says so
    SUPERSEDED = "superseded"  # another writer moved the environment elsewhere
    UNRECORDED = "unrecorded"  # the environment points at the digest; no history tag says so
    VANISHED = "vanished"  # the digest was deleted (an expire?) while it was promoted
    NOT_STARTED = "not-started"  # asked to stop (SIGINT, SIGTERM) before the environment write


@dataclass(frozen=True)
class PromotionOutcome:
    result: PromotionResult
    after: Reading  # the environment and its newest history tag, read last
    wrote: bool  # this run wrote the environment tag
    problem: str | None = None  # why a write of this run failed


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
        chain,
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
        chain,
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
    chain: Chain,
    *,
    digest: str,
    environment: str,
    now: datetime,
    reason: str,
    copy: bool,
) -> Promotion:
    before = destination.reading(chain, environment)
    return Promotion(
        move,
        source.repository.with_digest(digest),
        destination.repository,
        environment,
        digest,
        next_history_tag(environment, now, before.newest),
        before,
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
