"""Registries that hang, servers that are no registry, sources that are missing, and Ctrl-C, all
against real servers on 127.0.0.1, each test bounded in time.

A server that accepts connections and never answers is given a budget of a few seconds
(``--request-timeout``, ``--registry-timeout``): ``plan`` must be done within it, entries on a
healthy registry beside it must not wait for it, and the message must state the seconds.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.support.e2e import entries_for, run_tagmgr, write_manifest
from tests.support.faults import Fault, fault_proxy
from tests.support.launch import TIMEOUT, launch
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer
from tests.support.serve import serving

BUDGET = ("--request-timeout", "1", "--registry-timeout", "2")


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts every connection and never says a word; closed on leaving."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept(); close would not
        listener.close()
        for connection in held:
            connection.close()
        thread.join(5)


def test_a_registry_that_never_answers_is_down_in_its_time_and_holds_back_no_other(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One lane: before, the healthy entries queued behind the silent registry's 4 + 4 attempts
    of 30 s each (4 min 6 s); now they are read at once, and the silent one is down in 2 s."""
    healthy = [f"{repo}/h{n}" for n in range(3)]
    for name in healthy:
        push(registry.address, name, "build-1", images.oci(name))
    asked: list[float] = []

    def record(method: str, target: str) -> None:
        asked.append(time.monotonic())

    with silent_server() as silent, fault_proxy(registry.address, record) as proxy:
        manifest = write_manifest(
            tmp_path / "m.yaml",
            entries_for(silent, [f"{repo}/s{n}" for n in range(3)])
            + entries_for(proxy.address, healthy),
        )
        started = time.monotonic()
        result = run_tagmgr(capsys, "plan", "--jobs", "1", *BUDGET, manifest)
        seconds = time.monotonic() - started
    assert result.code == 1
    assert seconds < 2 + 1.5, f"{seconds:.1f} s"
    assert max(asked) - started < 1.0, "the healthy registry waited for the silent one"
    report, _, recap = result.out.partition("\n\nproblems:\n")
    lines = report.splitlines()
    assert lines[-1] == "plan: 3 to create, 0 present, 0 conflicts, 0 missing sources, 3 errors"
    assert len(recap.splitlines()) == 3
    down = (
        f"registry {silent}: down: nothing answered within 2 s (--registry-timeout; the last "
        f"request: GET http://{silent}/v2/); nothing more is sent to it in this run"
    )
    assert [line.strip() for line in lines if line.startswith(" ")][:3] == [down] * 3


def test_a_request_that_gets_no_answer_says_how_long_it_waited(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The ping answers; the HEAD that follows does not, within --request-timeout."""
    push(registry.address, repo, "build-1", images.oci())

    def stall_heads(method: str, target: str) -> Fault | None:
        return Fault("delay", seconds=3.0) if method == "HEAD" else None

    with fault_proxy(registry.address, stall_heads) as proxy:
        started = time.monotonic()
        result = run_tagmgr(
            capsys, "resolve", "--request-timeout", "1", f"{proxy.address}/{repo}:build-1"
        )
        seconds = time.monotonic() - started
    assert (result.code, seconds < 1 + 1.0) == (1, True), f"{seconds:.1f} s"
    assert result.out == (
        f"{proxy.address}/{repo}:build-1  error: registry {proxy.address}: no answer from "
        f"http://{proxy.address}/v2/{repo}/manifests/build-1 within 1 s (--request-timeout)\n"
    )


class WebSite(BaseHTTPRequestHandler):
    """Some other HTTP server on the port: a 404 page for /v2/, a web page for /."""

    def do_GET(self) -> None:
        status = 200 if self.path == "/" else 404
        body = b"<html><body>It works!</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class SinglePage(WebSite):
    """A web application that answers every path with its one page."""

    def do_GET(self) -> None:
        self.path = "/"
        super().do_GET()


@pytest.mark.parametrize(
    ("site", "answer"), [(WebSite, "404 Not Found"), (SinglePage, "200 OK, a web page")]
)
def test_a_server_that_is_no_registry_is_named_so(
    site: type[BaseHTTPRequestHandler],
    answer: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving(site) as server:
        address = f"127.0.0.1:{server.server_port}"
        manifest = write_manifest(tmp_path / "m.yaml", entries_for(address, ["team/app"]))
        planned = run_tagmgr(capsys, "plan", *BUDGET, manifest)
    assert planned.code == 1
    assert planned.out.splitlines()[:2] == [
        f"error           {address}/team/app:v1 <- build-1",
        f"                registry {address}: not a registry: http://{address}/v2/ answered "
        f"{answer}, where a registry answers 200 or 401; is it the right host and port?",
    ]


def test_missing_source_says_whether_the_repository_or_the_tag_is_missing(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    push(registry.address, f"{repo}/there", "build-1", images.oci())
    digest = "sha256:" + "0" * 64
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": f"{registry.address}/{repo}/nowhere", "src_build_tag": "b1", "tag": "v1"},
            {"name": f"{registry.address}/{repo}/there", "src_build_tag": "b9", "tag": "v1"},
            {"name": f"{registry.address}/{repo}/there", "src_digest": digest, "tag": "v2"},
        ],
    )
    planned = run_tagmgr(capsys, "plan", manifest)
    name = f"{registry.address}/{repo}"
    assert planned.code == 1
    report = planned.out.partition("\n\nproblems:\n")[0]
    assert [line.strip() for line in report.splitlines() if line.startswith(" ")] == [
        f"{name}/nowhere:b1 does not exist: the registry has no repository {repo}/nowhere",
        f"{name}/there:b9 does not exist: {repo}/there has no tag b9",
        f"{name}/there@{digest} does not exist: {repo}/there has no manifest {digest}",
    ]


@pytest.mark.parametrize("command", ["plan", "resolve"])
def test_a_first_ctrl_c_stops_a_read_only_command_at_once(
    command: str, registry: RegistryServer, repo: str, images: ImageFactory, tmp_path: Path
) -> None:
    """Against a registry paced at 1 s a request; before, the first SIGINT waited for the work
    in flight (3.1 s in this setting, 8.4 s in the field)."""
    repos = [f"{repo}/r{n}" for n in range(8)]
    for name in repos:
        push(registry.address, name, "build-1", images.oci(name))

    def paced(method: str, target: str) -> Fault:
        return Fault("delay", seconds=1.0)

    with fault_proxy(registry.address, paced) as proxy:
        manifest = write_manifest(tmp_path / "m.yaml", entries_for(proxy.address, repos))
        args = (
            [manifest]
            if command == "plan"
            else [f"{proxy.address}/{name}:build-1" for name in repos]
        )
        process, _, _ = launch(tmp_path / "run", command, "-vv", *args)
        try:
            assert process.stderr is not None
            while " -> " not in (line := process.stderr.readline()) and line:
                pass  # the first request answered: the command is at work
            process.send_signal(signal.SIGINT)
            signalled = time.monotonic()
            _, err = process.communicate(timeout=TIMEOUT)
            seconds = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130
    assert seconds < 0.5, f"{seconds:.2f} s after the signal"
    assert "tagmgr: SIGINT: stopped at once\n" in err
    assert "Traceback" not in err
