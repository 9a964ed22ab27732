"""Progress on a real terminal: ``tagmgr`` runs on a pseudo-terminal, and the test reads what the
terminal got, byte for byte, as a person's screen would get it. Reads go through a proxy that
holds each request 50 ms, so each phase lasts long enough to be redrawn."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.e2e import write_manifest
from tests.support.faults import Fault, FaultProxy, fault_proxy
from tests.support.oci import Image, ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer

TIMEOUT = 60.0
ERASE = "\r\x1b[K"
COUNT = re.compile(r": (\d+)/(\d+) ")


@dataclass(frozen=True)
class Screen:
    code: int
    terminal: str  # everything the terminal got: stdout and stderr, as a person sees them
    stderr: str  # stderr, when it was a pipe and not the terminal

    def frames(self, label: str) -> list[str]:
        """The progress lines drawn, in order (each one erases the one before)."""
        return [part for part in self.terminal.split(ERASE) if part.startswith(label)]

    def report(self) -> str:
        """What the terminal holds once the last progress line is erased."""
        return self.terminal.rpartition(ERASE)[2].replace("\r\n", "\n")


def on_a_terminal(
    *args: str | Path, cwd: Path, stderr_to_terminal: bool = True, columns: int = 120
) -> Screen:
    """``tagmgr ARGS`` with a terminal of ``columns`` as stdin, stdout and (unless not) stderr."""
    controller, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    stderr = side if stderr_to_terminal else subprocess.PIPE
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(cwd / "cache")}
    with subprocess.Popen(
        [sys.executable, "-m", "tagmgr", *map(str, args)],
        stdin=side,
        stdout=side,
        stderr=stderr,
        cwd=cwd,
        env=env,
    ) as process:
        os.close(side)
        try:
            seen = read_all(controller)
            code = process.wait(timeout=TIMEOUT)
            piped = process.stderr.read() if process.stderr else b""
        finally:
            if process.poll() is None:
                process.kill()
            os.close(controller)
    return Screen(code, seen.decode(), piped.decode())


def read_all(fd: int) -> bytes:
    """Until the terminal's other side is closed (EIO), within ``TIMEOUT``."""
    deadline = time.monotonic() + TIMEOUT
    seen = b""
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every process holding the terminal has closed it
            return seen
        if not chunk:
            return seen
        seen += chunk
    raise AssertionError(f"the terminal still open after {TIMEOUT} s; got {seen!r}")


@dataclass(frozen=True)
class Slow:
    proxy: FaultProxy
    image: Image
    repos: list[str]

    def manifest(self, path: Path) -> Path:
        entries = [
            {"name": f"{self.proxy.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}
            for repo in self.repos
        ]
        return write_manifest(path, entries)


@pytest.fixture
def slow(registry: RegistryServer, repo: str, images: ImageFactory) -> Iterator[Slow]:
    """Six repositories with ``build-1``, the first three with ``v1`` too, behind a proxy that
    holds every request 50 ms."""
    image = images.oci()
    repos = [f"{repo}/r{n}" for n in range(6)]
    for index, name in enumerate(repos):
        push(registry.address, name, "build-1", image)
        if index < 3:
            push(registry.address, name, "v1", image)
    delay = Fault("delay", seconds=0.05, times=1000)
    with fault_proxy(registry.address, lambda method, target: delay) as proxy:
        yield Slow(proxy, image, repos)


def counts(frames: list[str]) -> list[tuple[int, int]]:
    found = [COUNT.search(frame) for frame in frames]
    assert all(found), frames
    return [(int(m.group(1)), int(m.group(2))) for m in found if m]


def test_plan_counts_its_registry_reads_on_a_terminal_then_leaves_only_the_report(
    slow: Slow, tmp_path: Path
) -> None:
    manifest = slow.manifest(tmp_path / "m.yaml")
    screen = on_a_terminal("plan", "--jobs", "1", manifest, cwd=tmp_path)
    assert screen.code == 0, screen.terminal
    frames = screen.frames("plan: reading registries: ")
    assert len(frames) >= 3, screen.terminal
    drawn = counts(frames)
    assert drawn == sorted(drawn), "the count only goes up"
    # 6 tag lists, then a HEAD of each source and of the 3 targets listed: the requests sent (a
    # tag the listing lacks needs none, and is not counted).
    assert drawn[-1] == (15, 15)
    last = f"{slow.proxy.address}/{slow.repos[-1]}:build-1"
    assert frames[-1] == f"plan: reading registries: 15/15 ...{last[len(last) - 84 :]}"
    lines = [
        f"{'present' if n < 3 else 'create':<15} {slow.proxy.address}/{repo}:v1 <- build-1  "
        f"{slow.image.digest[:19]}\n"
        for n, repo in enumerate(slow.repos)
    ]
    assert screen.report() == (
        "".join(lines)
        + "\nplan: 3 to create, 3 present, 0 conflicts, 0 missing sources, 0 errors\n"
    )


def test_apply_counts_its_reads_then_its_writes(slow: Slow, tmp_path: Path) -> None:
    manifest = slow.manifest(tmp_path / "m.yaml")
    screen = on_a_terminal("apply", "--yes", "--jobs", "1", "-q", manifest, cwd=tmp_path)
    assert screen.code == 0, screen.terminal
    assert counts(screen.frames("apply: reading registries: "))[-1] == (15, 15)
    writes = screen.frames("apply: writing: ")
    assert counts(writes)[-1] == (6, 6)
    assert any(" created " in frame for frame in writes), writes
    assert screen.report().endswith(
        "\napply: 3 created, 3 present, 0 failed\nnot shown (--quiet): 3 present\n"
    )


def test_no_progress_off_a_terminal_or_with_a_document_for_a_program(
    slow: Slow, tmp_path: Path
) -> None:
    manifest = slow.manifest(tmp_path / "m.yaml")
    piped = on_a_terminal("plan", manifest, cwd=tmp_path, stderr_to_terminal=False)
    assert (piped.code, piped.stderr) == (0, "")
    assert ERASE not in piped.terminal
    for output in ("json", "markdown"):
        document = on_a_terminal("plan", "--output", output, manifest, cwd=tmp_path)
        assert document.code == 0
        assert "\x1b" not in document.terminal, output


def test_a_line_wider_than_the_terminal_is_cut_to_it(slow: Slow, tmp_path: Path) -> None:
    manifest = slow.manifest(tmp_path / "m.yaml")
    screen = on_a_terminal("plan", "--jobs", "1", manifest, cwd=tmp_path, columns=40)
    frames = screen.frames("plan: reading registries: ")
    assert frames, screen.terminal
    assert max(map(len, frames)) == 39  # a full line would wrap, and \r erase only its end
