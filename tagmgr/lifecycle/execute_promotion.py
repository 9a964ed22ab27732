"""Carrying out a promotion or a rollback: the lifecycle's writer of environment and history tags.

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

Failed writes. The transport (``registry.retry``) sends a PUT to a tag again, up to the retry
policy's ``attempts`` in all (``registry.policy``), only while the tag is absent or already at
those bytes, so never over another digest: an environment's PUT that fails left nothing behind,
and the run fails. A history tag's PUT gets those attempts; if it fails all the same, the loop
above tries once more after a fresh reading, because giving up leaves the environment moved but
unrecorded, the state the invariant forbids. If that fails too, the environment is put back where
the plan found it (``unrecorded``); only if that PUT fails as well does it stay at the digest
unrecorded, and the report says that promoting the digest again records it. Last, the digest must
still exist: if it was deleted under the move (an expire), the environment points at nothing and
is put back the same way (``vanished``).

A stop (SIGINT, SIGTERM: ``interrupt``) is looked at before each write up to the environment's;
once it is requested, none of them starts. A promotion stopped before its environment write is
``not-started`` and has written nothing but the signatures it copied, if any (referrers of an
image the other repository does not hold yet; the next promotion of it finds them there). Once
the environment tag is written, a stop waits until the move is recorded and checked as above: cut
short, it would leave the environment moved with no history tag saying so, the state the
invariant forbids. A second signal does cut it short; promoting the digest to that environment
again records the move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from tagmgr.engines import CopyEngine
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.lifecycle.promotion import Promotion, PromotionOutcome, PromotionResult, Reading
from tagmgr.manifest.environments import Chain, HistoryTag, history_of, next_history_tag
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryClient
from tagmgr.system import interrupt

SETTLE_READS = 4
"""Readings per run: this run's record, a second try of it, and a rival's move in between."""


def promote(
    promotion: Promotion,
    registries: Registries,
    engine: CopyEngine,
    signatures: Mapping[str, str],
    clock: Callable[[], datetime],
    *,
    stop: Callable[[], bool] = interrupt.requested,
) -> PromotionOutcome:
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
    return _judged(client, promotion, clock, after=after, wrote=wrote, problem=problem)


def _judged(
    client: RegistryClient,
    promotion: Promotion,
    clock: Callable[[], datetime],
    *,
    after: Reading,
    wrote: bool,
    problem: str | None,
) -> PromotionOutcome:
    """What became of the move, from the reading after it; put back what must not stay."""
    gone = client.head_manifest(promotion.destination.repository, promotion.digest) is None
    if gone or after.at is None:  # no tag is deleted but with the manifest it points at
        deleted = promotion.source if gone else f"what {promotion.environment_ref} pointed at"
        problem = f"{deleted} was deleted while it was promoted (an expire?)"
        return PromotionOutcome(
            PromotionResult.VANISHED, _put_back(client, promotion, clock, None), wrote, problem
        )
    if after.at != promotion.digest:
        return PromotionOutcome(PromotionResult.SUPERSEDED, after, wrote)
    if not after.agrees:
        after = _put_back(client, promotion, clock, promotion.digest) if wrote else after
        return PromotionOutcome(PromotionResult.UNRECORDED, after, wrote, problem)
    return PromotionOutcome(PromotionResult.MOVED, after, wrote)


def _not_started(promotion: Promotion) -> PromotionOutcome:
    """Stopped before the environment write: nothing of it read again, as planned."""
    return PromotionOutcome(
        PromotionResult.NOT_STARTED, promotion.before, False, "asked to stop before the move"
    )


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
