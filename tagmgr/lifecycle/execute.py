"""Carrying out a promotion or an expiry plan: the only part of the lifecycle that writes.

A promotion (or rollback) is one consistent step: the invariant it keeps is in ``promotion``'s
docstring. Just before writing, the environment must still point where the plan found it; if
another writer moved it since, that move stands and this run writes no environment tag
(``superseded``). Else the environment tag is written, and no history tag before it: within one
repository by a PUT of the manifest; into another, the signature tags that refer to the image
(``sha256-<hex>.sig`` and the like) are copied first, then the image by the copy engine straight
to the environment tag (every blob and child, digest kept).

Then, whatever happened, the environment and its newest history tag are read, and while they
disagree a history tag is written for the digest the environment points at *now*, named by the
clock at that moment (``next_history_tag``), and only if, just before the PUT, that name is still
absent and the environment still there; then they are read again, at most ``SETTLE_READS`` times.
What the environment points at is what gets recorded, a rival's digest too, so of two writers
racing, the last to read leaves the two agreeing, whichever move won.

Failed writes. The transport (``registry.retry``) sends a PUT to a tag again, up to 4 times in all,
only while the tag is absent or already at those bytes, so never over another digest: an
environment's PUT that fails left nothing behind, and the run fails. A history tag's PUT gets those
4 attempts; if it fails all the same, the loop above tries once more after a fresh reading, because
giving up leaves the environment moved but unrecorded, the state the invariant forbids. If that
fails too, the environment is put back where the plan found it (``unrecorded``); only if that PUT
fails as well does it stay at the digest unrecorded, and the report says that promoting the digest
again records it. Last, the digest must still exist: if it was deleted under the move (an expire),
the environment points at nothing and is put back the same way (``vanished``).

Expiry deletes by digest, which takes every tag on it, one digest at a time in the order of
``deletion.deletion_steps`` (a referrer before its image, an index before its children); a DELETE
is sent only once all before it went, so one that failed or was skipped keeps what comes after
it. Just before each DELETE the tags are read again (listed, each HEADed, listed once more), and
the digest is skipped if a tag, an index or a referrer the plan did not see is now on it or on
what it is part of or about (a promotion meanwhile, say), or if a history tag on it is, among the
tags read now, one that keeps its digest (``retention``). Between that read and the DELETE is a
window nothing closes: the distribution API has no conditional DELETE (README, "Expire"). A
DELETE not answered 202 is checked: gone with its tags (the answer was lost), still there, or
gone with its tags left behind, which docker-registry does when a tag is written meanwhile.

A stop (SIGINT, SIGTERM: ``interrupt``) is looked at before each DELETE and before each write of
a promotion up to its environment's; once it is requested, none of them starts. An expiry stopped
is as one whose next DELETE failed: by the order above nothing is left broken (an image whose
signature went before the stop is still expired, and the next run deletes it), and the DELETEs
not sent are ``not-started``. A promotion stopped before its environment write is ``not-started``
and has written nothing but the signatures it copied, if any (referrers of an image the other
repository does not hold yet; the next promotion of it finds them there). Once the environment
tag is written, a stop waits until the move is recorded and checked as above: cut short, it would
leave the environment moved with no history tag saying so, the state the invariant forbids. A
second signal does cut it short; promoting the digest to that environment again records the move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tagmgr.engines import CopyEngine
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.lifecycle.deletion import Step, deletion_steps
from tagmgr.lifecycle.expiry import RepositoryPlan
from tagmgr.lifecycle.holdings import Holdings, referrer_subject
from tagmgr.lifecycle.promotion import Outcome, Promotion, Reading, Result
from tagmgr.lifecycle.retention import HistoryWindow
from tagmgr.lifecycle.survey import manifest_links, tag_digests
from tagmgr.manifest.environments import Chain, HistoryTag, history_of, next_history_tag
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryClient
from tagmgr.system import interrupt

SETTLE_READS = 4
"""Readings per run: this run's record, a second try of it, and a rival's move in between."""


def referrer_tags(tags: Sequence[str], digest: str) -> list[str]:
    """The tags that refer to ``digest`` by the tag scheme (cosign's signatures and the like)."""
    return sorted(tag for tag in tags if referrer_subject(tag) == digest)


def promote(
    promotion: Promotion,
    registries: Registries,
    engine: CopyEngine,
    signatures: Mapping[str, str],
    clock: Callable[[], datetime],
    *,
    stop: Callable[[], bool] = interrupt.requested,
) -> Outcome:
    """``signatures``: tag -> digest of the referrer tags to carry into another repository.

    Raises the environment write's error when it failed and the environment is elsewhere.
    """
    source, destination = promotion.source, promotion.destination
    repository = destination.repository
    _expect(registries, source, promotion.digest, "before promoting")
    for tag, digest in sorted(signatures.items()):
        if stop():
            return _not_started(promotion)
        engine.copy(source.with_digest(digest), destination.with_tag(tag))
    client = registries.client(destination.registry)
    # Read first, so that nothing but the PUT comes between the check and the write.
    manifest = None if promotion.copy else client.get_manifest(repository, promotion.digest)
    found = client.head_manifest(repository, promotion.environment)
    at = found.digest if found else None
    if stop():  # the last moment: once the environment is written, the move gets recorded
        return _not_started(promotion)
    # Anywhere but where the plan found it, another writer moved it since: that move stands.
    wrote = at == promotion.current and at != promotion.digest
    failure = _move(promotion, client, engine, manifest) if wrote else None
    after, problem = _settle(client, promotion, clock)
    if failure is not None and after.at != promotion.digest:
        raise failure
    gone = client.head_manifest(repository, promotion.digest) is None
    if gone or after.at is None:  # no tag is deleted but with the manifest it points at
        deleted = source if gone else f"what {promotion.environment_ref} pointed at"
        problem = f"{deleted} was deleted while it was promoted (an expire?)"
        return Outcome(Result.VANISHED, _put_back(client, promotion, clock, None), wrote, problem)
    if after.at != promotion.digest:
        return Outcome(Result.SUPERSEDED, after, wrote)
    if not after.agrees:
        after = _put_back(client, promotion, clock, promotion.digest) if wrote else after
        return Outcome(Result.UNRECORDED, after, wrote, problem)
    return Outcome(Result.MOVED, after, wrote)


def _not_started(promotion: Promotion) -> Outcome:
    """Stopped before the environment write: nothing of it read again, as planned."""
    return Outcome(Result.NOT_STARTED, promotion.before, False, "asked to stop before the move")


def _move(
    promotion: Promotion,
    client: RegistryClient,
    engine: CopyEngine,
    manifest: tuple[Descriptor, bytes] | None,
) -> TagmgrError | None:
    """Point the environment tag at the digest: PUT ``manifest``, or without one copy the image
    into the other repository. The error if that failed (the write may have landed all the same:
    the reading after says)."""
    try:
        if manifest is None:
            engine.copy(promotion.source, promotion.environment_ref)
        else:
            descriptor, content = manifest
            repository = promotion.destination.repository
            client.put_manifest(repository, promotion.environment, descriptor.media_type, content)
    except TagmgrError as error:
        return error
    return None


def _settle(
    client: RegistryClient, promotion: Promotion, clock: Callable[[], datetime]
) -> tuple[Reading, str | None]:
    """The last reading, once the environment and its newest history tag agree (or it points at
    nothing); and the error of a history write that failed twice."""
    failed: str | None = None
    for _ in range(SETTLE_READS - 1):
        reading = _read(client, promotion)
        if reading.at is None or reading.agrees:
            return reading, failed
        try:
            entry = next_history_tag(promotion.environment, clock(), reading.newest)
            _record(client, promotion, reading.at, entry)
        except TagmgrError as error:
            if failed is not None:
                return _read(client, promotion), str(error)
            failed = str(error)
    return _read(client, promotion), failed


def _read(client: RegistryClient, promotion: Promotion) -> Reading:
    """The environment, then its newest history tag that still exists."""
    repository, environment = promotion.destination.repository, promotion.environment
    found = client.head_manifest(repository, environment)
    at = found.digest if found else None
    # A chain of this one environment: history_of only asks it whether a name is an environment.
    history = history_of(client.list_tags(repository), Chain((environment,)), environment)
    for entry, tag in reversed(history):
        recorded = client.head_manifest(repository, tag)
        if recorded is not None:
            return Reading(at, entry, recorded.digest)
    return Reading(at, None, None)


def _put_back(
    client: RegistryClient, promotion: Promotion, clock: Callable[[], datetime], left: str | None
) -> Reading:
    """Point the environment back where the plan found it if it is still as this run left it
    (``left``: at nothing after a deletion, at the digest if no history tag records it)."""
    reading = _read(client, promotion)
    if reading.at != left or promotion.current is None:
        return reading
    repository = promotion.destination.repository
    try:
        descriptor, content = client.get_manifest(repository, promotion.current)
        client.put_manifest(repository, promotion.environment, descriptor.media_type, content)
    except TagmgrError:  # that digest is gone too, or the registry failed: nothing to put back
        return _read(client, promotion)
    return _settle(client, promotion, clock)[0]


def _record(client: RegistryClient, promotion: Promotion, at: str, entry: HistoryTag) -> None:
    """Point the history tag ``entry`` at ``at``, what the environment was read at, if the tag is
    absent and the environment still there just before the PUT (else the next reading decides).

    The checks come last: two writers recording different digests under one name (one second)
    both pass them only if one's environment write, and the five requests after it, all fall
    between the other's last check and its PUT.
    """
    repository, environment = promotion.destination.repository, promotion.environment
    descriptor, content = client.get_manifest(repository, at)
    if client.head_manifest(repository, entry.tag) is not None:
        return
    found = client.head_manifest(repository, environment)
    if found is not None and found.digest == at:
        client.put_manifest(repository, entry.tag, descriptor.media_type, content)


def _expect(registries: Registries, ref: ImageReference, digest: str, when: str) -> None:
    found = registries.client(ref.registry).head_manifest(ref.repository, ref.tag or digest)
    if found is None or found.digest != digest:
        actual = found.digest if found else "nothing"
        raise RegistryError(ref.registry, f"{when}: {ref} points at {actual}, not {digest}")


DONE = frozenset({"deleted", "gone"})
NOT_STARTED = "not-started"


def delete(
    plan: RepositoryPlan, registries: Registries, *, stop: Callable[[], bool] = interrupt.requested
) -> dict[str, str]:
    """Digest -> deleted, gone (not there when deleted), skipped: why, failed: why, or
    not-started (asked to stop before its DELETE)."""
    repository = _Repository(registries.client(plan.holdings.registry), plan)
    results: dict[str, str] = {}
    for step in deletion_steps(plan):
        results[step.digest] = NOT_STARTED if stop() else _carry_out(step, repository, results)
    return results


def _carry_out(step: Step, repository: _Repository, results: Mapping[str, str]) -> str:
    waiting = [d for d in step.after if results.get(d) not in DONE]
    if waiting:
        return f"skipped: {', '.join(map(_short, waiting))} had to go first and did not"
    try:
        now = repository.now()
    except TagmgrError as error:
        return f"failed: reading the tags again: {error}"
    found = objections(step, repository.holdings, now, repository.window)
    if found:
        unsigned = _deleted_referrers(step)
        return f"skipped: {'; '.join(found)} since the plan{unsigned}"
    return repository.delete(step.digest, now)


@dataclass(frozen=True)
class Now:
    """What a repository holds as read just before a DELETE."""

    tags: Mapping[str, str]  # tag -> digest
    links: Mapping[str, tuple[str, ...]]  # digests the plan did not know -> the digests they name


def objections(step: Step, holdings: Holdings, now: Now, window: HistoryWindow) -> list[str]:
    """Why ``step``'s DELETE must not be sent: on a digest it watches, a tag the plan did not see
    (an environment or history tag among them), a history tag that keeps its digest among the
    tags as read now, or an index or a referrer pushed since. A history tag beyond ``window``,
    which the plan saw, is no objection: that is what the window is for."""
    unseen = {
        tag: digest
        for tag, digest in sorted(now.tags.items())
        if digest not in holdings.images or tag not in holdings.images[digest].tags
    }
    kept = _kept_history(step, now, window, unseen)
    return _tagged(step, unseen) + kept + _naming(step, unseen, now.links)


def _kept_history(
    step: Step, now: Now, window: HistoryWindow, unseen: Mapping[str, str]
) -> list[str]:
    """History tags the plan saw beyond the window that are within it now (newer entries of
    their environment deleted since, say); one the plan did not see is ``_tagged`` already."""
    return [
        f"{'' if digest == step.digest else _short(digest) + ' '}tag {tag} is {why}"
        for tag, why in sorted(window.kept(now.tags).items())
        if (digest := now.tags[tag]) in step.watch and tag not in unseen
    ]


def _tagged(step: Step, unseen: Mapping[str, str]) -> list[str]:
    gained: dict[str, list[str]] = {}
    for tag, digest in unseen.items():
        if digest in step.watch:
            gained.setdefault(digest, []).append(tag)
    return [
        f"{'' if digest == step.digest else _short(digest) + ' '}tagged {', '.join(tags)}"
        for digest, tags in sorted(gained.items(), key=lambda item: item[0] != step.digest)
    ]


def _naming(
    step: Step, unseen: Mapping[str, str], links: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Referrer tags about a watched digest, and manifests new to the plan that name one."""
    found = []
    for tag, digest in unseen.items():
        about = referrer_subject(tag)
        if about in step.watch:
            found.append(f"{tag} refers to {_it(step, about)}")
        found += [
            f"{_short(digest)} ({tag}) names {_it(step, named)}"
            for named in sorted(set(step.watch).intersection(links.get(digest, ())))
        ]
    return list(dict.fromkeys(found))


def _deleted_referrers(step: Step) -> str:
    """What a skipped image lost before the skip: its signatures went first (``after``)."""
    if not step.referrers:
        return ""
    if len(step.referrers) == 1:
        return f"; its referrer {_short(step.referrers[0])} was deleted before that: sign it again"
    shown = ", ".join(map(_short, step.referrers))
    return f"; its referrers {shown} were deleted before that: sign it again"


class _Repository:
    """The repository being expired: read again before each DELETE, and deleted from."""

    def __init__(self, client: RegistryClient, plan: RepositoryPlan) -> None:
        self.client, self.holdings, self.window = client, plan.holdings, plan.window
        self.links: dict[str, tuple[str, ...]] = {}  # a manifest never changes: read once

    def now(self) -> Now:
        """The tags, each HEADed, then listed once more: a tag created while the HEADs ran (a
        promotion's history tag, written before it moves the environment tag) is HEADed too."""
        name = self.holdings.repository
        tags = tag_digests(self.client, name, self.client.list_tags(name))
        created = set(self.client.list_tags(name)) - set(tags)
        tags.update(tag_digests(self.client, name, created))
        for digest in sorted(set(tags.values()) - set(self.holdings.images) - set(self.links)):
            self.links[digest] = manifest_links(self.client, name, digest)
        return Now(tags, self.links)

    def delete(self, digest: str, now: Now) -> str:
        try:
            if self.client.delete_manifest(self.holdings.repository, digest):
                return "deleted"
            answer = "gone"
        except TagmgrError as error:
            answer = f"failed: {error}"
        return self._carried_out(digest, now, answer)

    def _carried_out(self, digest: str, now: Now, answer: str) -> str:
        """After a DELETE not answered 202: gone if the registry carried it out (a lost answer),
        and whole, that is, without leaving the tags it had listed (README, "Expire")."""
        name = self.holdings.repository
        had = {tag for tag, at in now.tags.items() if at == digest}
        try:
            if self.client.head_manifest(name, digest) is not None:
                return answer
            left = sorted(had.intersection(self.client.list_tags(name)))
        except TagmgrError:
            return answer
        if left:
            return (
                f"failed: deleted, but the registry left its tags {', '.join(left)} listed,"
                " pointing at nothing (a tag written in the repository at that moment broke its"
                " clean-up): they do not pull"
            )
        return "gone"


def _it(step: Step, digest: str | None) -> str:
    return "it" if digest == step.digest else _short(str(digest))


def _short(digest: str) -> str:
    return digest[:19]
