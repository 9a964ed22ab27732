"""The applier's decisions, with a fake engine and an in-memory registry (pure logic only;
the real thing is covered end to end in test_e2e_*.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from tagmgr.errors import CommandError, CopyRefused, Location, RegistryError, TransientWriteError
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.apply import Applier, group_by_repository
from tagmgr.reconcile.outcome import Outcome, Result, apply_exit_code
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.recheck import AbsenceCheck
from tagmgr.reconcile.targets import Target
from tests.support.memory import MemoryRegistry

SOURCE = Descriptor(OCI_INDEX, "sha256:" + "1" * 64, 10)
OTHER = Descriptor(OCI_INDEX, "sha256:" + "2" * 64, 10)


class FakeEngine:
    writes_per_repository = 1

    def __init__(self, registry: MemoryRegistry, writes: Descriptor = SOURCE) -> None:
        self.registry = registry
        self.writes = writes
        self.copies: list[tuple[str, str]] = []
        self.busy: Counter[str] = Counter()
        self.most_busy = 0
        self.lock = threading.Lock()

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        with self.lock:
            self.copies.append((str(source), str(destination)))
            self.busy[destination.repository] += 1
            self.most_busy = max(self.most_busy, self.busy[destination.repository])
        time.sleep(0.01)
        if destination.tag == "broken":
            raise CommandError("skopeo copy exited with 1: boom")
        self.registry.tags[(destination.repository, str(destination.tag))] = self.writes
        with self.lock:
            self.busy[destination.repository] -= 1


def create(repository: str, tag: str) -> Action:
    name = ImageReference.parse(f"registry.example/{repository}")
    entry = ImageEntry(name.name, "build-1", tag, "images[0]", {"": Location("m.yaml", 1, 3)})
    return Action(Kind.CREATE, Target(entry, name.with_tag("build-1"), name.with_tag(tag)), SOURCE)


def test_creates_by_digest_and_verifies() -> None:
    registry = MemoryRegistry()
    engine = FakeEngine(registry)
    [outcome] = Applier(engine, registry).apply([create("app", "v1")])
    assert outcome.result is Result.CREATED
    assert engine.copies == [(f"registry.example/app@{SOURCE.digest}", "registry.example/app:v1")]


def test_a_tag_that_appeared_meanwhile_is_never_overwritten() -> None:
    registry = MemoryRegistry()
    registry.tags[("app", "same")] = SOURCE
    registry.tags[("app", "other")] = OTHER
    engine = FakeEngine(registry)
    outcomes = Applier(engine, registry).apply([create("app", "same"), create("app", "other")])
    assert [(o.result, o.message) for o in outcomes] == [
        (Result.PRESENT, "created meanwhile by someone else"),
        (
            Result.FAILED,
            f"registry.example/app:other appeared meanwhile at {OTHER.digest}; left untouched",
        ),
    ]
    assert engine.copies == []
    assert registry.tags[("app", "other")] == OTHER


def test_verification_and_engine_failures_are_per_entry() -> None:
    registry = MemoryRegistry()
    wrong = Applier(FakeEngine(registry, writes=OTHER), registry)
    [outcome] = wrong.apply([create("app", "v1")])
    assert (outcome.result, outcome.message) == (
        Result.FAILED,
        f"verification failed: registry.example/app:v1 points at {OTHER.digest}, "
        f"expected {SOURCE.digest}",
    )
    applier = Applier(FakeEngine(registry), registry, sleep=lambda _: None)
    outcomes = applier.apply([create("a", "broken"), create("b", "v1")], jobs=2)
    assert [(o.result, o.message) for o in outcomes] == [
        (Result.FAILED, "skopeo copy exited with 1: boom"),
        (Result.CREATED, ""),
    ]
    assert apply_exit_code(outcomes) == 1


def test_one_repository_is_written_serially_and_results_keep_manifest_order() -> None:
    registry = MemoryRegistry()
    engine = FakeEngine(registry)
    actions = [create(repo, f"v{n}") for n in range(4) for repo in ("a", "b", "c")]
    seen: list[str] = []
    outcomes = Applier(engine, registry).apply(
        actions, jobs=3, on_outcome=lambda o: seen.append(str(o.action.item.entry.tag))
    )
    assert [o.action for o in outcomes] == actions
    assert all(o.result is Result.CREATED for o in outcomes)
    assert engine.most_busy == 1
    assert len(seen) == len(actions)


def test_threads_start_on_different_repositories_in_waves_of_as_many() -> None:
    """Each of the first ``width`` groups is another repository's first lane, so no thread
    waits for another's listing; a repository's lanes still come close together."""
    actions = [create(repo, f"v{n}") for repo in ("a", "b", "c") for n in range(3)]
    groups = group_by_repository(actions, lanes=2, width=2)
    shown = [[f"{a.item.entry.name[-1]}{a.item.entry.tag}" for a in group] for group in groups]
    assert shown == [["av0", "av2"], ["bv0", "bv2"], ["av1"], ["bv1"], ["cv0", "cv2"], ["cv1"]]


def test_after_a_stop_no_creation_starts_and_those_left_are_not_started() -> None:
    registry = MemoryRegistry()
    engine = FakeEngine(registry)
    actions = [create(repo, f"v{n}") for repo in ("a", "b", "c") for n in range(3)]
    stop = threading.Event()

    def stop_after_two(outcome: Outcome) -> None:
        if len(engine.copies) >= 2:
            stop.set()

    outcomes = Applier(engine, registry, stop=stop.is_set).apply(
        actions, jobs=3, on_outcome=stop_after_two
    )
    started = len(engine.copies)
    assert 2 <= started <= 4  # those in flight on the three threads when the stop came
    results = Counter(o.result for o in outcomes)
    assert results == {Result.CREATED: started, Result.NOT_STARTED: len(actions) - started}
    assert {o.message for o in outcomes if o.result is Result.NOT_STARTED} == {
        "interrupted before it started"
    }
    assert apply_exit_code(outcomes) == 1


class RivalEngine(FakeEngine):
    """Copies as asked; while copying ``v2``, a rival writer moves ``v1`` to ``OTHER``."""

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        super().copy(source, destination)
        if destination.tag == "v2":
            self.registry.tags[("app", "v1")] = OTHER


def test_a_tag_moved_after_its_read_back_is_a_conflict_in_the_final_re_read() -> None:
    registry = MemoryRegistry()
    applier = Applier(RivalEngine(registry), registry)
    outcomes = applier.apply([create("app", "v1"), create("app", "v2")])
    assert [(o.result, o.message) for o in outcomes] == [
        (
            Result.CONFLICT,
            f"created at {SOURCE.digest}, but another writer has since moved "
            f"registry.example/app:v1 to {OTHER.digest}",
        ),
        (Result.CREATED, ""),
    ]
    assert apply_exit_code(outcomes) == 1


UNSENT = TransientWriteError("registry.example", "PATCH /v2/a/blobs/uploads/1: 500")


class FlakyEngine(FakeEngine):
    """Fails its first ``failures`` copies with ``error``: before writing, or ``after_writing``
    the tag."""

    def __init__(
        self,
        registry: MemoryRegistry,
        failures: int,
        *,
        after_writing: bool,
        error: Exception = UNSENT,
    ) -> None:
        super().__init__(registry)
        self.failures = failures
        self.after_writing = after_writing
        self.error = error
        self.attempts = 0

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        self.attempts += 1
        if self.attempts > self.failures or self.after_writing:
            super().copy(source, destination)
        if self.attempts <= self.failures:
            raise self.error


def test_a_write_sent_once_is_run_again_only_while_the_tag_is_absent() -> None:
    """The policy's attempts and waits: 4 in all, 0.5, 1, 2 s apart (jitter off)."""
    registry = MemoryRegistry()
    slept: list[float] = []
    transient = FlakyEngine(registry, 2, after_writing=False)
    [outcome] = Applier(transient, registry, sleep=slept.append).apply([create("a", "v1")])
    assert (outcome.result, transient.attempts, slept) == (Result.CREATED, 3, [0.5, 1.0])
    written = FlakyEngine(registry, 1, after_writing=True)
    [outcome] = Applier(written, registry, sleep=slept.append).apply([create("b", "v1")])
    assert (outcome.result, written.attempts) == (Result.CREATED, 1)
    broken = FlakyEngine(registry, 9, after_writing=False)
    [outcome] = Applier(broken, registry, sleep=slept.append).apply([create("c", "v1")])
    assert (outcome.result, outcome.message) == (Result.FAILED, str(UNSENT))
    assert broken.attempts == 4


def test_a_tag_a_rival_writes_during_the_wait_is_not_copied_over() -> None:
    """The tag is read after the wait, just before the copy would run again."""
    registry = MemoryRegistry()
    engine = FlakyEngine(registry, 1, after_writing=False)

    def rival_writes_while_we_wait(_seconds: float) -> None:
        registry.tags[("a", "v1")] = OTHER

    applier = Applier(engine, registry, sleep=rival_writes_while_we_wait)
    [outcome] = applier.apply([create("a", "v1")])
    assert engine.attempts == 1
    assert registry.tags[("a", "v1")] == OTHER
    assert outcome.result is not Result.CREATED


def test_what_the_layer_below_retried_is_not_run_again() -> None:
    """skopeo retried its requests, the transport its own: one failed copy is the outcome."""
    for error in (
        CommandError("skopeo copy exited with 1: 500 Internal Server Error"),
        RegistryError("registry.example", "GET /v2/a/blobs/sha256:1: 503 Service Unavailable"),
    ):
        registry, slept = MemoryRegistry(), list[float]()
        engine = FlakyEngine(registry, 1, after_writing=False, error=error)
        [outcome] = Applier(engine, registry, sleep=slept.append).apply([create("a", "v1")])
        assert (outcome.result, outcome.message) == (Result.FAILED, str(error))
        assert (engine.attempts, slept) == (1, [])


class RefusingEngine:
    writes_per_repository = 1

    def __init__(self) -> None:
        self.attempts = 0

    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        self.attempts += 1
        raise CopyRefused("--engine docker refuses it: an OCI image index")


def test_a_refused_copy_is_not_tried_again() -> None:
    registry, engine, slept = MemoryRegistry(), RefusingEngine(), list[float]()
    [outcome] = Applier(engine, registry, sleep=slept.append).apply([create("a", "v1")])
    assert (outcome.result, outcome.message) == (
        Result.FAILED,
        "--engine docker refuses it: an OCI image index",
    )
    assert (engine.attempts, slept) == (1, [])


def at(repository: str, tag: str) -> ImageReference:
    return ImageReference.parse(f"registry.example/{repository}:{tag}")


def test_the_re_check_lists_each_repository_once_and_heads_only_listed_tags() -> None:
    registry = MemoryRegistry()
    registry.tags[("app", "same")] = SOURCE
    now = [0.0]
    actions = [create("app", f"v{n}") for n in range(5)] + [create("lone", "v1")]
    check = AbsenceCheck(registry, actions, max_age=1.0, clock=lambda: now[0])
    assert check.existing(at("app", "v0")) is None
    assert check.existing(at("app", "same")) == SOURCE
    registry.tags[("app", "v2")] = OTHER  # within the listing's age: the window that remains
    assert check.existing(at("app", "v2")) is None
    now[0] = 1.5
    registry.tags[("app", "v3")] = OTHER
    assert check.existing(at("app", "v3")) == OTHER
    assert check.existing(at("lone", "v1")) is None
    assert registry.requests == [
        "list app",
        "HEAD app:same",
        "list app",
        "HEAD app:v3",
        "HEAD lone:v1",  # one creation: a listing would cost as much as its HEAD
    ]


def test_the_re_check_heads_each_tag_where_listing_costs_more_or_fails() -> None:
    paged = MemoryRegistry(pages=3)
    check = AbsenceCheck(paged, [create("app", f"v{n}") for n in range(3)])
    assert [check.existing(at("app", f"v{n}")) for n in range(3)] == [None, None, None]
    assert paged.requests == ["HEAD app:v0", "HEAD app:v1", "HEAD app:v2"]

    class Unlistable(MemoryRegistry):
        def list_tags(self, repository: str) -> list[str]:
            super().list_tags(repository)
            raise RegistryError("registry.example", "tags/list: 500")

    broken = Unlistable()
    check = AbsenceCheck(broken, [create("app", f"v{n}") for n in range(3)])
    assert [check.existing(at("app", f"v{n}")) for n in range(3)] == [None, None, None]
    assert broken.requests == ["list app", "HEAD app:v0", "HEAD app:v1", "HEAD app:v2"]
