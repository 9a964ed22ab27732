"""Real signals to a real ``tagmgr apply`` against a real registry, timed by its ``-vv`` log.

A signal is sent as the log says a skopeo copy starts: the first copy of a serial apply, or the
second of a parallel one over four repositories. Each case runs ten times (four at a time, each
on repositories of its own) to catch a race: exit code, report, registry, no process left, nothing
left in TMPDIR.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.e2e import write_manifest
from tests.support.faults import Fault, fault_proxy
from tests.support.launch import WATCHED_APPLY, Finished, leftovers, run_and_signal
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer, SecureRegistry

RUNS = 10
PARALLEL = 4
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
QUICK = 20.0  # seconds a signalled run may take in all, start-up and the copy in flight included
REPOSITORIES = 8  # per slot: a parallel apply the signal stops part way, however late it lands


@dataclass(frozen=True)
class Sources:
    address: str
    repos: list[str]
    digests: list[str]

    def manifest(self, path: Path, tag: str, count: int) -> Path:
        entries = [
            {"name": f"{self.address}/{repo}", "src_build_tag": "build", "tag": tag}
            for repo in self.repos[:count]
        ]
        return write_manifest(path, entries)

    def tags(self, tag: str, count: int) -> list[str | None]:
        return [head_digest(self.address, repo, tag) for repo in self.repos[:count]]


@pytest.fixture(scope="module")
def slots(registry: RegistryServer) -> list[Sources]:
    """Repositories for each of the ``PARALLEL`` runs at a time: docker-registry answers 500 to
    manifests put into one repository at once, which concurrent runs would otherwise do."""
    images = ImageFactory("test_signals")
    slots = []
    for slot in range(PARALLEL):
        repos, digests = [], []
        for index in range(REPOSITORIES):
            image = images.index() if index % 2 else images.oci()
            repo = f"test-signals/s{slot}-r{index}"
            push(registry.address, repo, "build", image)
            repos.append(repo)
            digests.append(image.digest)
        slots.append(Sources(registry.address, repos, digests))
    return slots


@pytest.fixture
def sources(slots: list[Sources]) -> Sources:
    return slots[0]


def in_parallel(slots: list[Sources], run: Callable[[Sources, int], Finished]) -> list[Finished]:
    """``RUNS`` runs, ``PARALLEL`` at a time, each slot's runs one after another."""

    def serially(slot: int) -> list[Finished]:
        return [run(slots[slot], index) for index in range(slot, RUNS, PARALLEL)]

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        done = dict(zip(range(PARALLEL), pool.map(serially, range(PARALLEL)), strict=True))
    return [done[index % PARALLEL][index // PARALLEL] for index in range(RUNS)]


def assert_clean_ending(finished: Finished, code: int) -> None:
    assert finished.code == code, finished.err
    assert finished.err.endswith("tagmgr: interrupted\n")
    assert finished.seconds < QUICK
    assert leftovers(finished.marker) == []
    assert list(finished.tmpdir.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_as_a_copy_starts_lets_it_finish_and_starts_nothing_more(
    slots: list[Sources], tmp_path: Path, signum: signal.Signals
) -> None:
    def run(sources: Sources, index: int) -> Finished:
        workdir = tmp_path / f"run{index}"
        workdir.mkdir()
        tag = f"start-{signum.name}-{index}"
        manifest = sources.manifest(workdir / "m.yaml", tag, 3)
        args = (*WATCHED_APPLY, "--output", "json", "--jobs", "1", manifest)
        return run_and_signal(workdir, *args, signals=(signum,), on_copy=1)

    for index, finished in enumerate(in_parallel(slots, run)):
        assert_clean_ending(finished, EXIT_CODES[signum])
        assert finished.results() == ["created", "not-started", "not-started"]
        sources = slots[index % PARALLEL]
        tag = f"start-{signum.name}-{index}"
        assert sources.tags(tag, 3) == [sources.digests[0], None, None]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_way_through_a_parallel_apply_stops_every_repository(
    slots: list[Sources], tmp_path: Path, signum: signal.Signals
) -> None:
    """Eight repositories on two threads; the signal is sent as the second copy starts. The
    copies running when it lands finish, and the rest are not started: two or three when it lands
    at once, a few more when the machine is busy and the test reads tagmgr's log late (each
    skopeo copy takes some 70 ms), never all eight."""
    count = REPOSITORIES

    def run(sources: Sources, index: int) -> Finished:
        workdir = tmp_path / f"run{index}"
        workdir.mkdir()
        manifest = sources.manifest(workdir / "m.yaml", f"mid-{signum.name}-{index}", count)
        args = (*WATCHED_APPLY, "--output", "json", "--jobs", "2", manifest)
        return run_and_signal(workdir, *args, signals=(signum,), on_copy=2)

    for index, finished in enumerate(in_parallel(slots, run)):
        assert_clean_ending(finished, EXIT_CODES[signum])
        sources = slots[index % PARALLEL]
        results = finished.results()
        created = results.count("created")
        assert 2 <= created < count, [e["message"] for e in json.loads(finished.out)["entries"]]
        assert Counter(results) == {"created": created, "not-started": count - created}
        assert finished.summary() == {
            "created": created,
            "present": 0,
            "failed": 0,
            "conflict": 0,
            "not-started": count - created,
        }
        expected = [
            digest if result == "created" else None
            for digest, result in zip(sources.digests, results, strict=True)
        ]
        assert sources.tags(f"mid-{signum.name}-{index}", count) == expected


def test_the_text_report_names_the_entries_not_started(sources: Sources, tmp_path: Path) -> None:
    manifest = sources.manifest(tmp_path / "m.yaml", "text-report", 3)
    finished = run_and_signal(
        tmp_path,
        *WATCHED_APPLY,
        "--jobs",
        "1",
        manifest,
        signals=(signal.SIGINT,),
        on_copy=1,
    )
    assert_clean_ending(finished, 130)
    lines = []
    for index, (repo, digest) in enumerate(zip(sources.repos[:3], sources.digests, strict=False)):
        kind = "index" if index % 2 else "manifest"
        word = "created" if index == 0 else "not-started"
        lines.append(
            f"{word:<15} {sources.address}/{repo}:text-report <- build  {digest} "
            f"application/vnd.oci.image.{kind}.v1+json\n"
        )
        if index:
            lines.append(f"{'':<15} interrupted before it started\n")
    recap = [
        f"  {manifest}:{2 + 3 * index}:3: images[{index}]: not-started: "
        f"{sources.address}/{repo}:text-report: interrupted before it started\n"
        for index, repo in enumerate(sources.repos[1:3], 1)
    ]
    assert finished.out == (
        "".join(lines)
        + "\napply: 1 created, 0 present, 0 failed, 2 not started\n\nproblems:\n"
        + "".join(recap)
    )


def test_a_second_signal_stops_at_once(sources: Sources, tmp_path: Path) -> None:
    """Through a proxy that holds each request 0.2 s, so the copy is still running when the
    second signal comes: it is killed, and tagmgr exits without waiting for it."""
    with fault_proxy(sources.address, lambda method, target: Fault("delay", seconds=0.2)) as proxy:
        slow = Sources(proxy.address, sources.repos, sources.digests)
        manifest = slow.manifest(tmp_path / "m.yaml", "twice", 3)
        finished = run_and_signal(
            tmp_path,
            *WATCHED_APPLY,
            "--jobs",
            "1",
            manifest,
            signals=(signal.SIGTERM, signal.SIGTERM),
            on_copy=1,
        )
    assert finished.code == 143
    assert finished.out == ""
    assert finished.err.endswith(
        "tagmgr: SIGTERM: nothing new starts; send it again to stop at once\n"
        "tagmgr: SIGTERM again: stopped at once\n"
    )
    assert leftovers(finished.marker) == []
    assert list(finished.tmpdir.iterdir()) == []
    assert sources.tags("twice", 3)[1:] == [None, None]


def test_sigkill_takes_the_copy_with_it_and_leaves_no_secret_behind(
    secure_registry: SecureRegistry, images: ImageFactory, tmp_path: Path
) -> None:
    """With credentials configured: nothing in TMPDIR (the issue found base64 user:password in
    /tmp/tagmgr-auth-*/auth.json), and the skopeo child is gone with tagmgr."""
    address = secure_registry.address
    auth = secure_registry.auth
    push(
        address,
        "test-signals/kill",
        "build",
        images.index(),
        ca_path=secure_registry.ca_path,
        auth=auth,
    )
    authfile = tmp_path / "auth.json"
    credentials = {"username": auth[0], "password": auth[1]}
    authfile.write_text(json.dumps({"auths": {address: credentials}}))
    entry = {"name": f"{address}/test-signals/kill", "src_build_tag": "build", "tag": "v1"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    options = ("--certs-dir", secure_registry.certs_d, "--authfile", authfile)
    for _ in range(2):
        finished = run_and_signal(
            tmp_path,
            *WATCHED_APPLY,
            *options,
            manifest,
            signals=(signal.SIGKILL,),
            on_copy=1,
        )
        assert finished.code == -signal.SIGKILL
        assert leftovers(finished.marker) == []
        assert list(finished.tmpdir.iterdir()) == []
        finished.tmpdir.rmdir()
