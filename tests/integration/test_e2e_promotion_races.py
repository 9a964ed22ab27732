"""promote and rollback against a real registry that fails, or with a rival writer at the same time.

After every outcome an environment and its newest history tag point at the same digest, no history
tag records a digest its environment never pointed at (so it admits nothing to the next one), no
history tag is moved, and a run that reports success is right about it at the end.
"""

from __future__ import annotations

import io
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tagmgr import cli
from tagmgr.commands import lifecycle_run as run
from tagmgr.manifest.environments import TIMESTAMP_PATTERN
from tests.support.e2e import Run, run_tagmgr
from tests.support.faults import Fault, Rule, fault_proxy
from tests.support.oci import ImageFactory
from tests.support.push import ACCEPT, open_client, push
from tests.support.registry import RegistryServer

CHAIN = ("--chain", "dev,stg")
MOVING = ("--yes", "--output", "json", *CHAIN)
TRIALS = 52
SUCCEEDED = {"promoted", "rolled-back", "present"}
AT_ONCE = {"Retry-After": "0"}  # a 500 the transport tries again without waiting
RACE_DEADLINE = 120.0  # seconds for the trials of one race test: 20 to 30 s on 2 busy cores


START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reading of the clock a minute after the last: promotions one after another, not
    racing, never share a second."""
    times = [START]

    def tick() -> datetime:
        times.append(times[-1] + timedelta(minutes=1))
        return times[-1]

    monkeypatch.setattr(run, "now", tick)


@pytest.fixture
def trial_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """A clock that stands still within a trial, so the two racers always share its second (the
    hardest case for naming history tags), and that a call moves on a minute for the next."""
    times = [START]
    monkeypatch.setattr(run, "now", lambda: times[-1])
    return lambda: times.append(times[-1] + timedelta(minutes=1))


class ThreadOutput(io.TextIOBase):
    """``sys.stdout`` for commands run in threads: each thread writes to a buffer of its own."""

    def __init__(self) -> None:
        self._local = threading.local()

    def write(self, text: str) -> int:
        if not hasattr(self._local, "buffer"):
            self._local.buffer = io.StringIO()
        return int(self._local.buffer.write(text))

    def take(self) -> str:
        buffer = getattr(self._local, "buffer", None)
        self._local.buffer = io.StringIO()
        return buffer.getvalue() if buffer else ""


def in_thread(output: ThreadOutput, *args: str) -> Run:
    """The command as ``main`` runs it, minus the signal handlers only the main thread may set."""
    arguments = list(args)
    code = cli._run(cli.build_parser(arguments).parse_args(arguments))
    return Run(code, output.take(), "")


def race(output: ThreadOutput, first: list[str], second: list[str], offset: float) -> list[Run]:
    """``first``, then ``second`` ``offset`` seconds later, each in its own thread."""
    runs: dict[int, Run] = {}

    def start(index: int, args: list[str]) -> threading.Thread:
        thread = threading.Thread(target=lambda: runs.update({index: in_thread(output, *args)}))
        thread.start()
        return thread

    threads = [start(0, first)]
    time.sleep(offset)
    threads.append(start(1, second))
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing command did not finish in 60 s"
    return [runs[0], runs[1]]


def digest_at(client: httpx.Client, repo: str, ref: str) -> str | None:
    """``head_digest`` over a client kept open: the checks after every trial add up."""
    response = client.head(f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response
    return response.headers["Docker-Content-Digest"]


def history(client: httpx.Client, repo: str, env: str) -> list[str]:
    """The history tags of ``env``, oldest first (the timestamps have a fixed width)."""
    tags = client.get(f"/v2/{repo}/tags/list").json()["tags"] or []
    return sorted(tag for tag in tags if re.fullmatch(rf"{env}-{TIMESTAMP_PATTERN}", tag))


def disagreement(client: httpx.Client, repo: str, env: str) -> str | None:
    """Why ``env`` and its newest history tag disagree, or None."""
    at = digest_at(client, repo, env)
    tags = history(client, repo, env)
    newest = digest_at(client, repo, tags[-1]) if tags else None
    if at == newest:
        return None
    return f"{env} points at {at}, its newest history tag {tags[-1] if tags else None} at {newest}"


def audit(puts: list[tuple[str, str]], repo: str, env: str) -> Counter[str]:
    """From the PUTs the registry received: history tags of ``env`` written at a digest that
    ``env`` was never written at, and history tags written at two digests (moved)."""
    written: dict[str, set[str]] = {}
    for path, digest in puts:
        written.setdefault(path.removeprefix(f"/v2/{repo}/manifests/"), set()).add(digest)
    held = written.get(env, set())
    history = [d for tag, d in written.items() if re.fullmatch(rf"{env}-{TIMESTAMP_PATTERN}", tag)]
    found: Counter[str] = Counter()
    found["history tag at a digest the environment never held"] = sum(
        bool(digests - held) for digests in history
    )
    found["history tag moved"] = sum(len(digests) > 1 for digests in history)
    return +found


def result(run: Run) -> str:
    """The ``result`` of a run's JSON report; ``error`` for an error document."""
    return str(run.json().get("promotion", {}).get("result", "error")) if run.out else "-"


def claims(runs: list[Run], client: httpx.Client, repo: str, env: str) -> Counter[str]:
    """What the runs reported as done must be true now: each one's history tag at its digest,
    and the environment at the digest of the one recorded last."""
    done = [run.json()["promotion"] for run in runs if run.code == 0 and result(run) in SUCCEEDED]
    found: Counter[str] = Counter()
    if not done:
        found["no run succeeded"] += 1
        return found
    for record in done:
        at = digest_at(client, repo, record["history_tag"])
        found["a success whose history tag is not at its digest"] += at != record["digest"]
    last = max(done, key=lambda record: str(record["history_tag"]))
    found["a success the environment is not at"] += digest_at(client, repo, env) != last["digest"]
    return +found


def outcomes(runs: list[Run]) -> list[str]:
    return [f"{run.code}:{result(run)}" for run in runs]


def pushed(address: str, repo: str, images: ImageFactory, count: int) -> list[str]:
    digests = []
    for index in range(count):
        image = images.oci(str(index))
        push(address, repo, f"build-{index}", image)
        digests.append(image.digest)
    return digests


def failing_puts(share: float, seed: int) -> Rule:
    """A rule: a 500 for ``share`` of the manifest PUTs, chosen by a seeded generator."""
    chance = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret

    def rule(method: str, target: str) -> Fault | None:
        if method == "PUT" and "/manifests/" in target and chance.random() < share:
            return Fault("status", status=500, headers=AT_ONCE)
        return None

    return rule


@pytest.mark.usefixtures("clock")
def test_promotions_through_failing_puts_leave_no_history_that_opens_the_chain(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    """Twelve promotions to dev while 35 % of manifest PUTs answer 500 (issue 21). Before, the
    history tag was written first: 4 of these 12 (23 of 72 with five more seeds) left a dev
    history tag at a digest dev never pointed at, which stg then took."""
    digests = pushed(registry.address, repo, images, 12)
    found: Counter[str] = Counter()
    codes = []
    with (
        open_client(registry.address) as look,
        fault_proxy(registry.address, failing_puts(0.35, seed=21)) as proxy,
    ):
        name = f"{proxy.address}/{repo}"
        for digest in digests:
            promoted = run_tagmgr(capsys, "promote", f"{name}@{digest}", "--to", "dev", *MOVING)
            codes.append(outcomes([promoted])[0])
            at = digest_at(look, repo, "dev")
            found["reported promoted, dev elsewhere"] += promoted.code == 0 and at != digest
            found["failed, yet dev at it"] += promoted.code != 0 and at == digest
            found["dev and its newest history disagree"] += bool(disagreement(look, repo, "dev"))
        faults, puts = len(proxy.faults), list(proxy.puts)
    found += audit(puts, repo, "dev")
    held = {digest for path, digest in puts if path == f"/v2/{repo}/manifests/dev"}
    for digest in sorted(set(digests) - held):
        onward = run_tagmgr(
            capsys, "promote", f"{registry.address}/{repo}@{digest}", "--to", "stg", *MOVING
        )
        found["stg took a digest dev never held"] += onward.code != 1
    assert faults >= 5, f"only {faults} faults: the test did not test much"
    assert held, codes
    found = +found
    assert not found, f"{dict(found)} in 12 promotions ({faults} faults): {codes}"


@pytest.mark.parametrize("rival", ["promote", "rollback"])
def test_a_rival_promotion_or_rollback_leaves_the_environment_and_its_history_agreeing(
    monkeypatch: pytest.MonkeyPatch,
    trial_clock: Callable[[], None],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    rival: str,
) -> None:
    """52 trials of two moves of dev started 0 to 40 ms apart, in one second: a promotion, and
    a second promotion or a rollback (issue 21). Before, history tags were named when planned and
    checked only then: 6 to 11 trials of 52 left dev and its newest history tag apart, 5 to 10 had
    a run report a success untrue at the end, and 28 to 40 history tags were written twice."""
    output = ThreadOutput()
    monkeypatch.setattr(sys, "stdout", output)
    # Trials take turns among a few repositories: planning reads every history tag, and these
    # grow by one or two a trial.
    repos = [f"{repo}/r{index}" for index in range(4)]
    digests = [pushed(registry.address, name, images, 6) for name in repos][-1]  # all alike
    chance = random.Random(f"race-{rival}")  # noqa: S311 - a reproducible draw, not a secret
    found: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    started = time.monotonic()
    with (
        open_client(registry.address) as look,
        fault_proxy(registry.address, lambda method, target: None) as proxy,
    ):

        def promotion(where: str, digest: str) -> list[str]:
            return ["promote", f"{proxy.address}/{where}@{digest}", "--to", "dev", *MOVING]

        def rollback(where: str) -> list[str]:
            return ["rollback", f"{proxy.address}/{where}", "--env", "dev", *MOVING]

        for where in repos:
            for digest in digests[:2]:
                trial_clock()
                assert in_thread(output, *promotion(where, digest)).code == 0
        for trial in range(TRIALS):
            assert time.monotonic() - started < RACE_DEADLINE, f"too slow: {dict(seen)}"
            trial_clock()
            where = repos[trial % len(repos)]
            now = digest_at(look, where, "dev")
            first, second = chance.sample([d for d in digests if d != now], 2)
            other = promotion(where, second) if rival == "promote" else rollback(where)
            runs = race(output, promotion(where, first), other, chance.uniform(0, 0.040))
            seen.update(outcomes(runs))
            problems = claims(runs, look, where, "dev")
            problems["dev and its newest history disagree"] += bool(
                disagreement(look, where, "dev")
            )
            found.update(dict.fromkeys(+problems, 1))  # trials, not occurrences
        puts = list(proxy.puts)
    for where in repos:
        found += audit(puts, where, "dev")
    # The one window the API leaves (docs/concepts/environments.md, "What remains racy"): two
    # writers naming one history tag in one second, each passing its checks before the other's
    # PUT. Threads of one busy process widen it: seen in 1 of 52 trials on two loaded workers.
    moved = found.pop("history tag moved", 0)
    assert not found, f"{dict(found)} in {TRIALS} trials; outcomes {dict(seen)}"
    assert moved <= 1, f"{moved} history tags moved in {TRIALS} trials; outcomes {dict(seen)}"


def meddling(repo: str, digest: str, when: str, action: Callable[[], int]) -> Rule:
    """A rule passing everything on that runs ``action`` once, ``before`` the environment's
    write (at the executor's first request: does the source still serve ``digest``?) or just
    ``after`` it (at the first request after the PUT of ``dev``)."""
    dev = f"/v2/{repo}/manifests/dev"
    done: list[int] = []
    wrote: list[str] = []

    def rule(method: str, target: str) -> Fault | None:
        starting = method == "HEAD" and target == f"/v2/{repo}/manifests/{digest}"
        if not done and (starting if when == "before" else bool(wrote)):
            done.append(action())
        if method == "PUT" and target == dev:
            wrote.append(target)
        return None

    return rule


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("meddler", ["expire", "rival"])
def test_a_deletion_or_a_rival_move_around_the_write_is_reported_as_what_it_is(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    meddler: str,
    when: str,
) -> None:
    """After the plan, ``before`` this run's write of dev or just ``after`` it, an expire deletes
    the digest by digest (which takes dev with it, when it points there: dev is put back), or a
    rival writer (a person with skopeo, say: no history tag) moves dev. No success is reported,
    and dev's history ends agreeing with it."""
    old, new, rival = pushed(registry.address, repo, images, 3)
    name = f"{registry.address}/{repo}"
    assert run_tagmgr(capsys, "promote", f"{name}@{old}", "--to", "dev", *MOVING).code == 0

    def meddle() -> int:
        with open_client(registry.address) as client:
            if meddler == "expire":
                return client.delete(f"/v2/{repo}/manifests/{new}").status_code
            content = client.get(f"/v2/{repo}/manifests/{rival}", headers={"Accept": ACCEPT})
            media_type = {"Content-Type": content.headers["Content-Type"]}
            return client.put(
                f"/v2/{repo}/manifests/dev", content=content.content, headers=media_type
            ).status_code

    with fault_proxy(registry.address, meddling(repo, new, when, meddle)) as proxy:
        moved, image = f"{proxy.address}/{repo}:dev", f"{proxy.address}/{repo}@{new}"
        promoted = run_tagmgr(
            capsys, "promote", f"{proxy.address}/{repo}:build-1", "--to", "dev", *MOVING
        )
    expected = {
        ("expire", "before"): (1, "error", old, f"points at nothing, not {new}"),
        ("expire", "after"): (
            1,
            "vanished",
            old,
            f"tagmgr: error: {image} was deleted while it was promoted (an expire?);"
            f" {moved} points at {old}",
        ),
        ("rival", "before"): (
            4,
            "superseded",
            rival,
            f"tagmgr: {moved} was moved to {rival} by another writer since the plan;"
            " this run left it",
        ),
        ("rival", "after"): (
            4,
            "superseded",
            rival,
            f"tagmgr: {moved} was moved to {rival} by another writer after this run's write",
        ),
    }[meddler, when]
    with open_client(registry.address) as look:
        dev, apart = digest_at(look, repo, "dev"), disagreement(look, repo, "dev")
        kept = digest_at(look, repo, new) == new
    assert (promoted.code, result(promoted), dev, apart) == (*expected[:3], None), promoted.out
    assert promoted.err.endswith(f"{expected[3]}\n"), promoted.err
    assert kept == (meddler == "rival")


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("put_back", [True, False])
def test_a_move_no_history_tag_can_record_is_put_back_or_reported_unrecorded(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    put_back: bool,
) -> None:
    """The registry answers 500 to 8 history PUTs in a row (the transport's 4 attempts, twice):
    dev is put back where it was, or, when that PUT fails too, left at the digest and reported
    ``unrecorded``; promoting the digest again then records it."""
    old, new = pushed(registry.address, repo, images, 2)
    name = f"{registry.address}/{repo}"
    assert run_tagmgr(capsys, "promote", f"{name}@{old}", "--to", "dev", *MOVING).code == 0
    history_puts = Fault("status", status=500, headers=AT_ONCE, times=8)
    dev_puts: list[str] = []

    def rule(method: str, target: str) -> Fault | None:
        if method == "PUT" and target.startswith(f"/v2/{repo}/manifests/dev-"):
            return history_puts
        if method == "PUT" and target == f"/v2/{repo}/manifests/dev":
            dev_puts.append(target)
            return (
                None
                if put_back or len(dev_puts) != 2
                else Fault("status", status=500, headers=AT_ONCE)
            )
        return None

    with fault_proxy(registry.address, rule) as proxy:
        moved = f"{proxy.address}/{repo}:dev"
        promote = ("promote", f"{proxy.address}/{repo}:build-1", "--to", "dev", "--yes", *CHAIN)
        unrecorded = run_tagmgr(capsys, *promote)
        with open_client(registry.address) as look:
            left = (digest_at(look, repo, "dev"), disagreement(look, repo, "dev"))
            newest = history(look, repo, "dev")[-1]
        again = run_tagmgr(capsys, *promote)
        faults = len(proxy.faults)
    assert (unrecorded.code, unrecorded.out) == (
        1,
        f"unrecorded {moved} -> {new} (was {old})\n"
        f"{'':<10} now at {left[0]}, newest history tag {newest}; allowed: dev is the first"
        " environment of dev,stg\n",
    )
    assert unrecorded.err.startswith(f"tagmgr: error: no history tag could record {moved} -> ")
    if put_back:
        assert left == (old, None)
        assert unrecorded.err.endswith(f"; {moved} is back at {old}\n")
    else:
        assert left == (new, f"dev points at {new}, its newest history tag {newest} at {old}")
        assert unrecorded.err.endswith(
            f"; {moved} points at it: promoting that digest to dev again records it\n"
        )
    assert (again.code, again.out.splitlines()[0], faults) == (
        0,
        f"promoted   {moved} -> {new} (was {old if put_back else new})",
        8 if put_back else 9,
    )
    with open_client(registry.address) as look:
        assert disagreement(look, repo, "dev") is None
