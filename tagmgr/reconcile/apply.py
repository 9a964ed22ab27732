"""Applying a plan: the executor of its tag creations, each checked before and after its write.

Each creation re-checks that the tag is still absent (``recheck``: a tag list of its repository
at most ``recheck.MAX_AGE`` old, or a HEAD), copies the source *by digest* (so what was
planned is what gets written, even if the build tag moves meanwhile), then compares digests: the
one the engine's checked PUT answered with, or else the tag read back. Failures are recorded per
entry; one never stops the others.

A stop (SIGINT or SIGTERM, see ``interrupt``) is looked at before each creation: once it is
requested no creation starts, those in flight finish and are verified, and the creations left
are reported as ``not-started``. Once every write is done, each tag created is read once more:
one that another writer moved meanwhile is reported as a ``conflict``.

Writes to one repository run at most ``engine.writes_per_repository`` at a time (skopeo: one, as
docker-registry answers 500 to concurrent blob uploads into one repository from several skopeo
processes; the api engine: what was measured safe for manifest PUTs), different repositories in
parallel, up to ``jobs`` at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tagmgr.errors import TagmgrError, TransientWriteError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.recheck import AbsenceCheck
from tagmgr.reconcile.targets import Target
from tagmgr.system import interrupt, logs
from tagmgr.system.concurrency import map_in_threads

if TYPE_CHECKING:
    from tagmgr.engines import CopyEngine
    from tagmgr.reconcile.readers import RegistryReaders


log = logs.get(__name__)


class Applier:
    def __init__(
        self,
        engine: CopyEngine,
        registries: RegistryReaders,
        *,
        stop: Callable[[], bool] = interrupt.requested,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._engine = engine
        self._registries = registries
        self._stop = stop
        self._sleep = sleep
        self._policy = registries.options.retry

    def apply(
        self,
        actions: Sequence[Action],
        *,
        jobs: int = 1,
        on_outcome: Callable[[Outcome], None] = lambda _: None,
    ) -> list[Outcome]:
        check = AbsenceCheck(self._registries, actions)

        def run_serially(group: list[Action]) -> list[Outcome]:
            outcomes = []
            for action in group:
                outcomes.append(self.apply_one(action, check))
                on_outcome(outcomes[-1])
            return outcomes

        groups = group_by_repository(actions, lanes=self._engine.writes_per_repository, width=jobs)
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

    def apply_one(self, action: Action, check: AbsenceCheck) -> Outcome:
        target = action.target
        if action.kind is Kind.PRESENT:
            return Outcome(action, Result.PRESENT)
        if action.kind is not Kind.CREATE or target is None or action.source is None:
            return Outcome(action, Result.FAILED, action.message)
        if self._stop():
            return Outcome(action, Result.NOT_STARTED, "interrupted before it started")
        try:
            return self._create(action, target, action.source, check)
        except TagmgrError as error:
            return Outcome(action, Result.FAILED, str(error))

    def _create(
        self, action: Action, target: Target, source: Descriptor, check: AbsenceCheck
    ) -> Outcome:
        existing = check.existing(target.destination)
        if existing is not None:
            if existing.digest == source.digest:
                return Outcome(action, Result.PRESENT, "created meanwhile by someone else")
            return Outcome(
                action,
                Result.FAILED,
                f"{target.destination} appeared meanwhile at {existing.digest}; left untouched",
            )
        written = self._copy(target, source)
        if written is None:
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

    def _copy(self, target: Target, source: Descriptor) -> Descriptor | None:
        """The engine's copy; run again only after a write the layer below sent once.

        Retries belong to the layer that sends: the registry client's transport for each
        request, skopeo for its own (see ``registry.retry``). A failure they have retried is
        final here. A write the transport did not send again, as sending it twice is not known
        to be safe (a blob upload's PATCH), is a ``TransientWriteError``: the whole copy is run
        again, with the policy's attempts and waits, for as long as the tag is absent, since
        the same bytes sent to a tag nobody has written cannot overwrite anything. Once the tag
        exists, whatever wrote it, the read-back judges it. Returns what the engine verified it
        wrote, or None when the tag must be read back.
        """
        attempt = 1
        while True:
            try:
                return self._engine.copy(
                    target.source.with_digest(source.digest), target.destination
                )
            except TransientWriteError as error:
                if attempt >= self._policy.attempts or self._stop():
                    raise
                delay = self._policy.delay(attempt, None, random.random())  # noqa: S311
                log.info("%s: %s; trying again in %.1f s", target.destination, error, delay)
            self._sleep(delay)
            if self._head(target.destination) is not None:  # after the wait, not before it
                return None
            attempt += 1

    def _head(self, ref: ImageReference) -> Descriptor | None:
        return self._registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))


def group_by_repository(
    actions: Sequence[Action], lanes: int = 1, width: int = 1
) -> list[list[Action]]:
    """Actions in groups that share a destination repository, each repository's actions dealt
    round-robin into up to ``lanes`` groups.

    The groups come in waves of ``width`` repositories (the threads that take them), lane by
    lane: the threads start on different repositories, each taking its own listing and reading
    its own source at once, instead of three waiting behind the fourth's on the same
    repository's (a round trip each, on a distant registry).
    """
    lanes_of: dict[tuple[str, str] | int, list[list[Action]]] = {}
    for action in actions:
        target = action.target
        if target is None:
            lanes_of[id(action)] = [[action]]
            continue
        groups = lanes_of.setdefault(
            (target.destination.registry, target.destination.repository), []
        )
        if len(groups) < lanes:
            groups.append([action])
        else:
            groups[sum(map(len, groups)) % lanes].append(action)
    repositories = list(lanes_of.values())
    ordered: list[list[Action]] = []
    for start in range(0, len(repositories), width):
        wave = repositories[start : start + width]
        for lane in range(lanes):
            ordered += [groups[lane] for groups in wave if lane < len(groups)]
    return ordered
