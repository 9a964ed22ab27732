"""Real signals to real ``tagmgr`` runs that delete, move and write, against a real registry.

Issue 21: after ``SIGTERM: nothing new starts``, expire went on and deleted every image it had
selected, and promote moved ``dev``. Here a fault proxy in front of the registry sends the signal
as a chosen request arrives and holds that request, so the signal lands while it is in flight;
what was done and what was not is then read from the registry. Every run is bounded
(``launch.TIMEOUT``).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.documents.atomic import is_temporary
from tests.integration.test_e2e_expire import POLICY
from tests.integration.test_expire_faults import KEPT, repository
from tests.support.e2e import one_entry_manifest, run_tagmgr
from tests.support.expiring import place
from tests.support.faults import Fault, FaultProxy, fault_proxy
from tests.support.gitrepos import ISOLATED_ENV, UpstreamRepo
from tests.support.intact import problems, tags_of
from tests.support.launch import TIMEOUT, Finished, bounded, launch
from tests.support.oci import Image, ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNALS = pytest.mark.parametrize("signum", list(CODES), ids=lambda s: s.name)
HOLD = 0.5  # seconds the request the signal came with is held: it lands while that is in flight


class SignalOn:
    """A proxy rule: at the first request ``when`` accepts, send ``signum`` to tagmgr and hold
    that request ``HOLD`` seconds."""

    def __init__(self, signum: signal.Signals, when: Callable[[str, str], bool]) -> None:
        self.signum, self.when = signum, when
        self.pid = 0
        self.started = threading.Event()
        self.fired = False

    def __call__(self, method: str, target: str) -> Fault | None:
        if self.fired or not self.when(method, target) or not self.started.wait(TIMEOUT):
            return None
        self.fired = True
        os.kill(self.pid, self.signum)
        return Fault("delay", seconds=HOLD)


def run_signalled(workdir: Path, rule: SignalOn, *args: str | Path) -> Finished:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    process, marker, tmpdir = launch(workdir, *args)
    rule.pid = process.pid
    rule.started.set()
    with bounded(process):
        out, err = process.communicate(timeout=TIMEOUT)
    assert rule.fired, err
    assert "Traceback" not in err
    return Finished(process.returncode, out, err, time.monotonic() - started, marker, tmpdir)


def requests(proxy: FaultProxy, method: str) -> list[str]:
    return [seen for seen in proxy.seen if seen.startswith(f"{method} ")]


# expire


@SIGNALS
@pytest.mark.parametrize("output", ["text", "json"])
def test_expire_finishes_the_delete_in_flight_and_starts_no_other(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    signum: signal.Signals,
    output: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    place(registry.address, repo, repository(images))
    rule = SignalOn(signum, lambda method, _: method == "DELETE")
    with fault_proxy(registry.address, rule) as proxy:
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY.format(name=f"{proxy.address}/{repo}"))
        args = ("--max-delete-share", "100", "--yes", "--output", output)
        done = run_signalled(tmp_path, rule, "expire", "--policy", policy, *args)
    assert done.code == CODES[signum], done.err
    assert f"tagmgr: {signum.name}: nothing new starts" in done.err
    assert done.err.endswith("tagmgr: interrupted\n")
    assert len(requests(proxy, "DELETE")) == 1  # the one in flight, and no other
    if output == "json":
        results = [
            image["result"]
            for image in json.loads(done.out)["repositories"][0]["images"]
            if image["action"] == "delete"
        ]
        assert sorted(results) == ["deleted", *["not-started"] * 7]
    else:
        assert "\nexpire: 1 deleted, 7 not started, " in done.out
        assert sum(line.startswith("not-started ") for line in done.out.splitlines()) == 7
    assert problems(registry.address, repo) == []  # nothing broken: no signature without image

    policy.write_text(POLICY.format(name=f"{registry.address}/{repo}"))
    again = run_tagmgr(capsys, "expire", "--policy", policy, "--max-delete-share", "100", "--yes")
    assert (again.code, again.err) == (0, "")
    assert "\nexpire: 7 deleted, " in again.out
    assert set(tags_of(registry.address, repo)) == KEPT
    assert problems(registry.address, repo) == []


# promote and rollback


def promote_args(name: str, digest: str) -> tuple[str, ...]:
    return ("promote", f"{name}@{digest}", "--to", "dev", "--yes", "--output", "json")


def promote_signalled(
    address: str, repo: str, image: Image, workdir: Path, rule: SignalOn
) -> tuple[Finished, FaultProxy]:
    """``dev`` of ``repo`` promoted to ``image`` through the proxy, signalled as ``rule`` says."""
    push(address, repo, "build-1", image)
    with fault_proxy(address, rule) as proxy:
        done = run_signalled(workdir, rule, *promote_args(f"{proxy.address}/{repo}", image.digest))
    assert done.code == CODES[rule.signum], done.err
    return done, proxy


@SIGNALS
def test_a_promotion_asked_to_stop_before_its_write_moves_nothing(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    signum: signal.Signals,
) -> None:
    """The signal comes as the manifest to write is read, the last request but one before the
    environment's PUT."""
    image = images.oci()
    rule = SignalOn(signum, lambda method, target: method == "GET" and image.digest in target)
    done, proxy = promote_signalled(registry.address, repo, image, tmp_path, rule)
    assert requests(proxy, "PUT") == []
    assert tags_of(registry.address, repo) == ["build-1"]
    record = json.loads(done.out)["promotion"]
    assert (record["result"], record["now"]) == (
        "not-started",
        {"digest": None, "history_tag": None},
    )
    assert f"tagmgr: asked to stop before the move; {proxy.address}/{repo}:dev" in done.err


@SIGNALS
def test_a_promotion_asked_to_stop_during_its_write_records_the_move(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    signum: signal.Signals,
) -> None:
    """Once ``dev`` is written, its history tag is written too: the two agree."""
    image = images.oci()
    rule = SignalOn(signum, lambda method, target: method == "PUT" and target.endswith("/dev"))
    done, _ = promote_signalled(registry.address, repo, image, tmp_path, rule)
    record = json.loads(done.out)["promotion"]
    assert record["result"] == "promoted"
    history = record["history_tag"]
    assert record["now"] == {"digest": image.digest, "history_tag": history}
    assert head_digest(registry.address, repo, "dev") == image.digest
    assert head_digest(registry.address, repo, history) == image.digest


def test_a_rollback_asked_to_stop_before_its_write_moves_nothing(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = images.oci("first"), images.oci("second")
    name = f"{registry.address}/{repo}"
    for number, image in enumerate((first, second)):
        push(registry.address, repo, f"build-{number}", image)
        moved = run_tagmgr(capsys, *promote_args(name, image.digest))
        assert moved.code == 0, moved.err
        time.sleep(1.1)  # history tags are named by the second
    before = tags_of(registry.address, repo)
    rule = SignalOn(
        signal.SIGTERM, lambda method, target: method == "GET" and first.digest in target
    )
    with fault_proxy(registry.address, rule) as proxy:
        args = ("rollback", f"{proxy.address}/{repo}", "--env", "dev", "--yes")
        done = run_signalled(tmp_path, rule, *args)
    assert done.code == 143, done.err
    assert requests(proxy, "PUT") == []
    assert tags_of(registry.address, repo) == before
    assert head_digest(registry.address, repo, "dev") == second.digest
    assert done.out.startswith(f"not-started {proxy.address}/{repo}:dev -> {first.digest}")


# what writes files: each reads before its first write, and stops at once while it reads


def stopped_at_once(done: Finished, signum: signal.Signals) -> None:
    assert done.code == CODES[signum], done.err
    assert (done.out, done.err) == ("", f"tagmgr: {signum.name}: stopped at once\n")


@SIGNALS
def test_lock_and_check_update_stop_at_once_while_they_read(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    signum: signal.Signals,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image, rebuilt = images.oci("image"), images.oci("rebuilt")
    for tag in ("build-1", "v1"):
        push(registry.address, repo, tag, image)
    lock = tmp_path / "tagmgr.lock"
    manifest = one_entry_manifest(tmp_path / "m.yaml", f"{registry.address}/{repo}")
    rule = SignalOn(signum, lambda method, _: method == "HEAD")
    with fault_proxy(registry.address, rule) as proxy:
        mapping = f"--map-registry={registry.address}={proxy.address}"
        args = ("lock", manifest, "--lock-file", lock, "--yes", mapping)
        done = run_signalled(tmp_path / "lock", rule, *args)
    stopped_at_once(done, signum)
    assert not lock.exists()

    assert run_tagmgr(capsys, "lock", manifest, "--lock-file", lock, "--yes").code == 0
    written = lock.read_bytes()
    push(registry.address, repo, "v1", rebuilt)  # moved: check --update would rewrite the lock
    rule = SignalOn(signum, lambda method, _: method == "HEAD")
    with fault_proxy(registry.address, rule) as proxy:
        mapping = f"--map-registry={registry.address}={proxy.address}"
        done = run_signalled(tmp_path / "check", rule, "check", lock, "--update", "--yes", mapping)
    stopped_at_once(done, signum)
    assert lock.read_bytes() == written


@SIGNALS
def test_versions_update_stops_at_once_while_it_compares(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    signum: signal.Signals,
) -> None:
    push(registry.address, f"{repo}/web", "v1", images.oci("v1"))
    push(registry.address, f"{repo}/web", "b2", images.oci("b2"))
    versions = tmp_path / "versions.yaml"
    versions.write_text(f"images:\n- name: docker.io/{repo}/web\n  version: v1\n")
    written = versions.read_bytes()
    rule = SignalOn(signum, lambda method, _: method == "GET")
    with fault_proxy(registry.address, rule) as proxy:
        args = ("versions", "update", versions, "--build", "b2", "--write")
        done = run_signalled(tmp_path, rule, *args, f"--map-registry=docker.io={proxy.address}")
    stopped_at_once(done, signum)
    assert versions.read_bytes() == written
    assert [name for name in os.listdir(tmp_path) if is_temporary(name)] == []


def test_describe_write_finishes_the_file_in_flight_and_writes_no_other(tmp_path: Path) -> None:
    """Six manifests of 3 MB (comments), so that replacing one takes a while: the signal is sent
    as the first temporary file appears beside them."""
    upstream = UpstreamRepo(tmp_path / "upstream")
    upstream.commit("import")
    upstream.tag("v1.0", annotated=True)
    tip = upstream.commit("fix")[:7]
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    padding = ("# " + "x" * 1000 + "\n") * 3000
    paths = []
    for number in range(6):
        path = manifests / f"m{number}.yaml"
        path.write_text(
            f"images:\n- name: docker.io/team/app{number}\n  src_build_tag: build-1\n"
            f"  upstream: {{repo: 'file://{upstream.path}', commit: '{tip}'}}\n"
            f'  tag: "v-{{describe}}"\n{padding}'
        )
        paths.append(path)
    before = {path: path.read_bytes() for path in paths}
    cache = f"--git-cache={tmp_path / 'git-cache'}"
    process, _, _ = launch(tmp_path, "describe", "--write", cache, *paths, env=ISOLATED_ENV)
    with bounded(process):
        while not any(map(is_temporary, os.listdir(manifests))) and process.poll() is None:
            time.sleep(0.0002)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, err
    assert len(out.splitlines()) == len(paths)  # the report names every entry described
    written = [path.read_bytes() != before[path] for path in paths]
    assert 1 <= sum(written) < len(paths)
    assert written == sorted(written, reverse=True)  # in order, and none after the signal
    assert all(
        b"v-v1.0-1-g" in path.read_bytes() for path in paths if path.read_bytes() != before[path]
    )
    unwritten = [
        f"tagmgr: {path} was not written: interrupted"
        for path, it in zip(paths, written, strict=True)
        if not it
    ]
    assert err.splitlines()[-len(unwritten) - 1 :] == [*unwritten, "tagmgr: interrupted"]
    assert "Traceback" not in err
    assert [name for name in os.listdir(manifests) if is_temporary(name)] == []


def test_versions_release_pins_what_it_created_and_creates_nothing_more(
    registry: RegistryServer, repo: str, images: ImageFactory, tmp_path: Path
) -> None:
    """The signal comes with the first tag's manifest PUT: that tag is created and pinned; the
    second is not started and stays unpinned."""
    built = {name: images.oci(name) for name in ("api", "web")}
    for name, image in built.items():
        push(registry.address, f"{repo}/{name}", "b2", image)
    versions = tmp_path / "versions.yaml"
    entries = (f"- name: docker.io/{repo}/{name}\n  version: null\n" for name in built)
    versions.write_text("images:\n" + "".join(entries))
    rule = SignalOn(
        signal.SIGTERM, lambda method, target: method == "PUT" and "/manifests/v2" in target
    )
    with fault_proxy(registry.address, rule) as proxy:
        args = ("versions", "release", versions, "v2", "--build", "b2", "--write", "--jobs", "1")
        done = run_signalled(tmp_path, rule, *args, f"--map-registry=docker.io={proxy.address}")
    assert done.code == 143, done.err
    assert [head_digest(registry.address, f"{repo}/{name}", "v2") for name in built] == [
        built["api"].digest,
        None,
    ]
    assert versions.read_text() == (
        f"images:\n- name: docker.io/{repo}/api\n  version: v2\n"
        f"- name: docker.io/{repo}/web\n  version: null\n"
    )
    assert "interrupted before it started" in done.out
