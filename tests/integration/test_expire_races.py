"""expire racing promote on a real registry: whatever a promotion points at, expire leaves alone.

The deterministic tests stop the deleting thread at one point (a wrapped client method waits),
run ``tagmgr promote`` there, and let it go on. The trial loop runs both at once with a random
offset, no pause anywhere. Then every tag must pull whole, and a promotion that said it
succeeded must still be there.
"""

from __future__ import annotations

import functools
import random
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pytest

from tagmgr.lifecycle import execute_expiry
from tagmgr.lifecycle.expiry import RepositoryPlan
from tagmgr.manifest.environments import parse_history_tag
from tagmgr.registry import Registries, RegistryClient, RegistryOptions
from tests.support.e2e import Run, run_tagmgr
from tests.support.expiring import (
    CHAIN,
    OLD_TAGS,
    content,
    index_of,
    place,
    signature_tag,
    stage,
)
from tests.support.intact import problems, pulls, tags_of
from tests.support.oci import Image, ImageFactory, single
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration
TIMEOUT = 20.0
TRIALS = 50


def promote(capsys: pytest.CaptureFixture[str], address: str, repo: str, image: Image) -> Run:
    return run_tagmgr(capsys, "promote", f"{address}/{repo}@{image.digest}", "--to", "dev", "--yes")


def history_tags(address: str, repo: str) -> list[str]:
    return [t for t in tags_of(address, repo) if parse_history_tag(t, CHAIN)]


class Pause:
    """Holds the deleting thread at one point until the test has done its part."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.resume = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        if not self.resume.wait(TIMEOUT):
            raise TimeoutError("the test never let the deleting thread go on")


def wrap(
    monkeypatch: pytest.MonkeyPatch,
    client: RegistryClient,
    name: str,
    *,
    before: Callable[[tuple[Any, ...]], bool] | None = None,
    after: Callable[[tuple[Any, ...]], bool] | None = None,
    pause: Pause,
) -> None:
    """Make ``client.name`` hold at ``pause`` before or after the call its arguments pick."""
    original = getattr(client, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before and before(args):
            pause.hold()
        result = original(*args, **kwargs)
        if after and after(args):
            pause.hold()
        return result

    monkeypatch.setattr(client, name, wrapped)


def interleaved(
    plan: RepositoryPlan, registries: Registries, pause: Pause, promotion: Callable[[], Run]
) -> tuple[dict[str, str], Run]:
    """Delete in a thread; when it holds, promote; then let it finish."""
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(execute_expiry.delete, plan, registries)
        try:
            assert pause.reached.wait(TIMEOUT), "the deleting thread never reached the pause"
            promoted = promotion()
        finally:
            pause.resume.set()
        return deleting.result(TIMEOUT), promoted


@pytest.fixture
def registries() -> Iterator[Registries]:
    with Registries(RegistryOptions()) as opened:
        yield opened


@pytest.fixture
def old(images: ImageFactory) -> list[Image]:
    return [single(f"{images.prefix}#old-{n}", layers=1) for n in range(len(OLD_TAGS))]


@pytest.fixture
def current(images: ImageFactory) -> Image:
    return single(f"{images.prefix}#current", layers=1)


Interleave = Callable[..., tuple[dict[str, str], str]]


@pytest.fixture
def interleave(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    registry: RegistryServer,
    repo: str,
) -> Iterator[Interleave]:
    """``interleave(plan, target, method, before=..., after=...)``: delete ``plan`` in a thread
    held at the client's ``method`` (before or after the call the predicate picks), promote
    ``target`` to dev meanwhile, which must succeed, then let the deletions finish. Returns
    the deletions' results and the promotion's history tag."""
    with Registries(RegistryOptions()) as registries:

        def run(plan: RepositoryPlan, target: Image, method: str, **at: Any) -> Any:
            pause = Pause()
            wrap(monkeypatch, registries.client(registry.address), method, **at, pause=pause)
            promotion = functools.partial(promote, capsys, registry.address, repo, target)
            results, promoted = interleaved(plan, registries, pause, promotion)
            assert promoted.code == 0, promoted.err
            [history] = re.findall(r"history tag (\S+);", promoted.out)
            return results, history

        yield run


@pytest.fixture
def signed(
    registry: RegistryServer, repo: str, old: list[Image], current: Image, images: ImageFactory
) -> tuple[Image, Image, RepositoryPlan]:
    """An expired image and its signature, and the plan that deletes both."""
    target, signature = old[0], single(f"{images.prefix}#signature", layers=1)
    pushed = content([target], current, {signature_tag(target): signature})
    return target, signature, stage(registry.address, repo, pushed)


def test_a_promotion_before_the_last_deletion_keeps_that_digest(
    registry: RegistryServer,
    repo: str,
    old: list[Image],
    current: Image,
    interleave: Interleave,
) -> None:
    # Reading the tags once before every DELETE lost dev here: the promotion came after that read.
    plan = stage(registry.address, repo, content(old, current))
    target = max(old, key=lambda image: image.digest)  # the one deleted last
    others = {image.digest for image in old} - {target.digest}
    sent: set[str] = set()

    def after_the_others(args: tuple[Any, ...]) -> bool:
        sent.add(args[1])
        return sent == others

    results, history = interleave(plan, target, "delete_manifest", after=after_the_others)
    assert results[target.digest] == f"skipped: tagged dev, {history} since the plan"
    assert {results[d] for d in others} == {"deleted"}
    assert head_digest(registry.address, repo, "dev") == target.digest
    assert head_digest(registry.address, repo, history) == target.digest
    assert problems(registry.address, repo) == []


def test_a_promotion_before_its_signature_goes_keeps_the_image_and_its_signature(
    registry: RegistryServer,
    repo: str,
    signed: tuple[Image, Image, RepositoryPlan],
    interleave: Interleave,
) -> None:
    target, signature, plan = signed
    results, history = interleave(plan, target, "list_tags", before=lambda args: True)
    assert results == {
        signature.digest: f"skipped: {target.digest[:19]} tagged dev, {history} since the plan",
        target.digest: f"skipped: {signature.digest[:19]} had to go first and did not",
    }
    assert head_digest(registry.address, repo, signature_tag(target)) == signature.digest
    assert problems(registry.address, repo) == []


def test_a_promotion_after_its_signature_went_keeps_the_image_and_says_so(
    registry: RegistryServer,
    repo: str,
    signed: tuple[Image, Image, RepositoryPlan],
    interleave: Interleave,
) -> None:
    target, signature, plan = signed
    went = signature.digest
    results, history = interleave(plan, target, "delete_manifest", after=lambda a: a[1] == went)
    assert results == {
        signature.digest: "deleted",
        target.digest: f"skipped: tagged dev, {history} since the plan; its referrer"
        f" {signature.digest[:19]} was deleted before that: sign it again",
    }
    assert pulls(registry.address, repo, "dev")
    assert problems(registry.address, repo) == []


def test_the_window_left_is_between_the_last_read_and_the_delete(
    registry: RegistryServer,
    repo: str,
    old: list[Image],
    current: Image,
    interleave: Interleave,
) -> None:
    # The distribution API has no conditional DELETE: a tag put on the digest after its last
    # read and before the DELETE goes with it. docs/commands/expire.md states this window; here
    # it is.
    target = old[0]
    plan = stage(registry.address, repo, content([target], current))
    results, _ = interleave(plan, target, "delete_manifest", before=lambda args: True)
    assert results == {target.digest: "deleted"}
    assert head_digest(registry.address, repo, "dev") is None


def test_what_was_pushed_since_the_plan_keeps_what_it_needs(
    registry: RegistryServer,
    repo: str,
    current: Image,
    images: ImageFactory,
    registries: Registries,
) -> None:
    # An index pushed since the plan shares a child of an expired index; a signature pushed
    # since the plan is about an expired image. Neither may be left without what it names.
    expired_index, signed = images.index("expired"), images.oci("signed")
    plan = stage(registry.address, repo, content([expired_index, signed], current))
    child = expired_index.children[0]
    newer = single(f"{images.prefix}#newer-child", layers=1)
    sharing = index_of(child, newer)
    push(registry.address, repo, "build-20991230T000000Z", sharing)
    signature = single(f"{images.prefix}#late-signature", layers=1)
    push(registry.address, repo, signature_tag(signed), signature)
    results = execute_expiry.delete(plan, registries)
    assert results[expired_index.digest] == "deleted"
    assert results[expired_index.children[1].digest] == "deleted"
    assert results[child.digest] == (
        f"skipped: {sharing.digest[:19]} (build-20991230T000000Z) names it since the plan"
    )
    assert results[signed.digest] == (
        f"skipped: {signature_tag(signed)} refers to it since the plan"
    )
    assert problems(registry.address, repo) == []


def test_expire_racing_promote_loses_nothing_outside_the_window_the_readme_states(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    old: list[Image],
    current: Image,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real concurrency, no pause: the promotion's writes fall anywhere in the deletions' run.

    The client's calls are timed (wrappers that only record), and each trial starts the
    deletions at a random offset drawn so that the promotion's first PUT, as long as the last
    trials took to reach it, lands before, during or just after them. A trial may lose dev only
    if a PUT of the promotion overlapped the window of the promoted digest: from the start of
    the last tag listing before its DELETE to the DELETE's answer, with no other DELETE in it.
    """
    rng = random.Random(21)  # noqa: S311 - seeded offsets, not secrets
    target = max(old[:3], key=lambda image: image.digest)  # the one deleted last
    calls = record_calls(monkeypatch, ("list_tags", "delete_manifest", "put_manifest"))
    took: dict[str, list[float]] = {"put": [], "delete": []}
    outcomes: dict[str, int] = {}
    lost: dict[str, list[str]] = {}
    started = time.monotonic()
    images = content(old[:3], current)
    first = stage(registry.address, f"{repo}/0", images)
    losses = 0
    for trial in range(TRIALS):
        name = f"{repo}/{trial}"
        if trial:  # the first trial's images, mounted: its plan holds for this repository too
            place(registry.address, name, images, blobs_from=f"{repo}/0")
        plan = replace(first, holdings=replace(first.holdings, repository=name))
        put, delete = (statistics.median(t) if t else 0.0 for t in took.values())
        # Until a PUT was timed, the deletions wait until the promotion is surely done.
        offset = rng.uniform(put - delete * 1.2, put + 0.005) if put else 0.5
        calls.clear()
        promoted, results = _race(capsys, registry.address, plan, target, offset, took, calls)
        window = _window(calls, target.digest)
        outcome = f"promote {promoted.code}, {results[target.digest].partition(':')[0]}"
        outcome += ", a write in the window" if window.hit else ""
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        found = _lost(registry.address, name, target, current, promoted, results)
        losses += bool(found)
        if found and not (window.hit and window.alone):
            lost[name] = [*found, f"{name}: {window}", f"{name}: {results}"]
    elapsed = time.monotonic() - started
    print(f"\n{TRIALS} trials in {elapsed:.1f} s: {outcomes}; {losses} lost a tag")
    assert not lost, f"{len(lost)} of {TRIALS} trials lost a tag ({outcomes}):\n" + "\n".join(
        problem for found in lost.values() for problem in found
    )


def _race(
    capsys: pytest.CaptureFixture[str],
    address: str,
    plan: RepositoryPlan,
    target: Image,
    offset: float,
    took: dict[str, list[float]],
    calls: list[Call],
) -> tuple[Run, dict[str, str]]:
    """Promote ``target`` in this thread, delete in another ``offset`` seconds later (or
    earlier, if negative); record how long the deletions and the way to the first PUT took."""
    with Registries(RegistryOptions()) as registries, ThreadPoolExecutor(1) as pool:
        begun = time.monotonic()
        deleting = pool.submit(_delete_after, max(offset, 0.0), plan, registries)
        time.sleep(max(-offset, 0.0))
        promoted = promote(capsys, address, plan.holdings.repository, target)
        results, seconds = deleting.result(TIMEOUT)
    puts = [call for call in calls if call.name == "put_manifest"]
    if puts:
        took["put"].append(puts[0].start - begun - max(-offset, 0.0))
    took["delete"].append(seconds)
    return promoted, results


@dataclass(frozen=True)
class Call:
    name: str
    deleting: bool  # made by the deleting thread (else by the promotion, on the main thread)
    argument: str
    start: float
    end: float


@dataclass(frozen=True)
class Window:
    hit: bool  # a PUT of the promotion overlapped it
    alone: bool  # no other DELETE in it: it is one read of the tags and the DELETE long
    calls: tuple[Call, ...]


def record_calls(monkeypatch: pytest.MonkeyPatch, names: Sequence[str]) -> list[Call]:
    """Time every call of these ``RegistryClient`` methods, in every thread."""
    calls: list[Call] = []
    main = threading.main_thread()
    for name in names:
        original = getattr(RegistryClient, name)

        def timed(self: RegistryClient, *args: Any, _name: str = name, _f: Any = original) -> Any:
            begun = time.monotonic()
            try:
                return _f(self, *args)
            finally:
                deleting = threading.current_thread() is not main
                calls.append(Call(_name, deleting, str(args[-1]), begun, time.monotonic()))

        monkeypatch.setattr(RegistryClient, name, timed)
    return calls


def _window(calls: list[Call], digest: str) -> Window:
    """The window of ``digest``'s DELETE: from the start of the last tag listing before it."""
    ours = sorted((c for c in calls if c.deleting), key=lambda c: c.start)
    deletion = next((c for c in ours if c.name == "delete_manifest" and c.argument == digest), None)
    if deletion is None:
        return Window(False, True, ())
    listings = [c for c in ours if c.name == "list_tags" and c.start < deletion.start]
    start = listings[-1].start if listings else ours[0].start
    inside = tuple(c for c in ours if start <= c.start <= deletion.start)
    alone = [c.name for c in inside].count("delete_manifest") == 1
    puts = [c for c in calls if c.name == "put_manifest" and not c.deleting]
    hit = any(put.start <= deletion.end and put.end >= start for put in puts)
    return Window(hit, alone, inside)


def _delete_after(
    seconds: float, plan: RepositoryPlan, registries: Registries
) -> tuple[dict[str, str], float]:
    time.sleep(seconds)
    begun = time.monotonic()
    results = execute_expiry.delete(plan, registries)
    return results, time.monotonic() - begun


def _lost(
    address: str,
    repo: str,
    target: Image,
    current: Image,
    promoted: Run,
    results: dict[str, str],
) -> list[str]:
    """What the trial lost: dev gone, a reported promotion not there, any tag that does not pull
    whole (``problems``), but for tags expire reports the registry left behind: docker-registry
    deletes the manifest, then untags it, and a tag written meanwhile can break the untagging."""
    left = [tag for r in results.values() if "left its tags" in r for tag in OLD_TAGS if tag in r]
    found = [
        p for p in problems(address, repo) if not p.startswith(tuple(f"{repo}:{t}: " for t in left))
    ]
    dev = head_digest(address, repo, "dev")
    if dev is None:
        found.append(f"{repo}: dev is gone (promote exited {promoted.code})")
    elif dev not in (target.digest, current.digest):
        found.append(f"{repo}: dev is at {dev}")
    elif promoted.code == 0 and dev != target.digest:
        found.append(f"{repo}: promote reported success, but dev is at {dev}")
    if promoted.code == 0 and not history_tags(address, repo):
        found.append(f"{repo}: the history tag of a reported promotion is gone")
    return found
