"""Applying a plan: the only place that changes a registry.

Each creation re-checks that the tag is still absent, copies the source *by digest* (so what was
planned is what gets written, even if the build tag moves meanwhile), then reads the tag back and
compares digests. Failures are recorded per entry; one never stops the others.

A stop (SIGINT or SIGTERM, see ``interrupt``) is looked at before each creation: once it is
requested no creation starts, those in flight finish and are verified, and the creations left
are reported as ``not-started``. Once every write is done, each tag created is read once more:
one that another writer moved meanwhile is reported as a ``conflict``.

Writes to one repository run one at a time, different repositories in parallel: docker-registry's
filesystem storage answers 500 when several manifests are put into one repository at once
(measured with 12 concurrent skopeo copies of one index), and a typical manifest has one entry per
repository anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tagmgr import exitcodes, interrupt
from tagmgr.concurrency import map_in_threads
from tagmgr.descriptor import Descriptor
from tagmgr.engines import CopyEngine
from tagmgr.errors import TagmgrError
from tagmgr.plan import Action, Kind
from tagmgr.reference import ImageReference
from tagmgr.registry import Registries
from tagmgr.targets import Target


class Result(StrEnum):
    CREATED = "created"
    PRESENT = "present"
    FAILED = "failed"
    CONFLICT = "conflict"
    NOT_STARTED = "not-started"


FAILURES = frozenset({Result.FAILED, Result.CONFLICT, Result.NOT_STARTED})


@dataclass(frozen=True)
class Outcome:
    action: Action
    result: Result
    message: str = ""


class Applier:
    def __init__(
        self,
        engine: CopyEngine,
        registries: Registries,
        *,
        stop: Callable[[], bool] = interrupt.requested,
    ) -> None:
        self._engine = engine
        self._registries = registries
        self._stop = stop

    def apply(
        self,
        actions: Sequence[Action],
        *,
        jobs: int = 1,
        on_outcome: Callable[[Outcome], None] = lambda _: None,
    ) -> list[Outcome]:
        def run_serially(group: list[Action]) -> list[Outcome]:
            outcomes = []
            for action in group:
                outcomes.append(self.apply_one(action))
                on_outcome(outcomes[-1])
            return outcomes

        groups = group_by_repository(actions)
        done = {
            id(outcome.action): outcome
            for outcomes in map_in_threads(run_serially, groups, jobs)
            for outcome in outcomes
        }
        outcomes = [done[id(action)] for action in actions]
        return map_in_threads(self._read_again, outcomes, jobs)

    def _read_again(self, outcome: Outcome) -> Outcome:
        """A tag created earlier in this run, read once more now that every write is done.

        Another writer may have moved it since its own read-back: that is a conflict to report,
        not a creation. A read that fails says nothing either way; the creation stands.
        """
        target, source = outcome.action.target, outcome.action.source
        if outcome.result is not Result.CREATED or target is None or source is None:
            return outcome
        try:
            now = self._head(target.destination)
        except TagmgrError as error:
            return Outcome(outcome.action, Result.CREATED, f"the final re-read failed: {error}")
        if now is not None and now.digest == source.digest:
            return outcome
        found = now.digest if now else "nothing (deleted)"
        return Outcome(
            outcome.action,
            Result.CONFLICT,
            f"created at {source.digest}, but another writer has since moved "
            f"{target.destination} to {found}",
        )

    def apply_one(self, action: Action) -> Outcome:
        target = action.target
        if action.kind is Kind.PRESENT:
            return Outcome(action, Result.PRESENT)
        if action.kind is not Kind.CREATE or target is None or action.source is None:
            return Outcome(action, Result.FAILED, action.message)
        if self._stop():
            return Outcome(action, Result.NOT_STARTED, "interrupted before it started")
        try:
            return self._create(action, target, action.source)
        except TagmgrError as error:
            return Outcome(action, Result.FAILED, str(error))

    def _create(self, action: Action, target: Target, source: Descriptor) -> Outcome:
        existing = self._head(target.destination)
        if existing is not None:
            if existing.digest == source.digest:
                return Outcome(action, Result.PRESENT, "created meanwhile by someone else")
            return Outcome(
                action,
                Result.FAILED,
                f"{target.destination} appeared meanwhile at {existing.digest}; left untouched",
            )
        self._engine.copy(target.source.with_digest(source.digest), target.destination)
        written = self._head(target.destination)
        if written is None or written.digest != source.digest:
            found = written.digest if written else "nothing"
            return Outcome(
                action,
                Result.FAILED,
                f"verification failed: {target.destination} points at {found}, "
                f"expected {source.digest}",
            )
        return Outcome(action, Result.CREATED)

    def _head(self, ref: ImageReference) -> Descriptor | None:
        return self._registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))


def group_by_repository(actions: Sequence[Action]) -> list[list[Action]]:
    """Actions in groups that share a destination repository, in first-seen order."""
    groups: dict[tuple[str, str] | int, list[Action]] = {}
    for action in actions:
        target = action.target
        key = (target.destination.registry, target.destination.repository) if target else id(action)
        groups.setdefault(key, []).append(action)
    return list(groups.values())


def apply_exit_code(outcomes: Sequence[Outcome]) -> int:
    failed = any(o.result in FAILURES for o in outcomes)
    return exitcodes.FAILURE if failed else exitcodes.OK
