"""``tagmgr`` as a real child process, watched through its ``-vv`` log, for signal and fault tests.

Each launch gets a private ``TMPDIR`` and a marker in its environment, which every process it
starts inherits: ``leftovers`` finds any of them still running after tagmgr is gone, and the
temporary directory shows whatever was left on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

TIMEOUT = 60.0  # bounds every run; a tagmgr that hangs fails its test instead of hanging it
COPY_STARTS = "tagmgr: DEBUG: running skopeo copy "
WATCHED_APPLY = ("apply", "--yes", "--engine", "skopeo", "-vv")
"""An apply whose copies are seen to start: skopeo's, logged with ``COPY_STARTS`` at ``-vv``."""
MARKER = "TAGMGR_TEST_RUN"


@dataclass(frozen=True)
class Finished:
    code: int
    out: str
    err: str
    seconds: float
    marker: str
    tmpdir: Path

    def results(self) -> list[str]:
        return [entry["result"] for entry in json.loads(self.out)["entries"]]

    def summary(self) -> dict[str, int]:
        summary: dict[str, int] = json.loads(self.out)["summary"]
        return summary


def launch(
    workdir: Path, *args: str | Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str, Path]:
    """Start ``tagmgr -vv ARGS`` in ``workdir``; its stderr is read line by line by the caller."""
    marker = uuid.uuid4().hex
    tmpdir = workdir / "tmp"
    tmpdir.mkdir(parents=True)
    child_env = {
        **os.environ,
        **(env or {}),
        "TMPDIR": str(tmpdir),
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONUNBUFFERED": "1",
        MARKER: marker,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tagmgr", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
        cwd=workdir,
    )
    return process, marker, tmpdir


def run_and_signal(
    workdir: Path,
    *args: str | Path,
    signals: tuple[signal.Signals, ...],
    on_copy: int,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run tagmgr; as its ``on_copy``-th skopeo copy starts, send ``signals`` one after another."""
    started = time.monotonic()
    process, marker, tmpdir = launch(workdir, *args, env=env)
    with bounded(process):
        assert process.stderr is not None
        seen = _read_until(process.stderr, COPY_STARTS, on_copy)
        for count, signum in enumerate(signals, 1):
            process.send_signal(signum)
            if count < len(signals):  # signals sent at once would merge into one
                seen += _read_until(process.stderr, f"tagmgr: {signum.name}: ", 1)
        out, rest = process.communicate(timeout=TIMEOUT)
    seconds = time.monotonic() - started
    return Finished(process.returncode, out, seen + rest, seconds, marker, tmpdir)


@contextmanager
def bounded(process: subprocess.Popen[str]) -> Iterator[None]:
    """Kill ``process`` if it is still running ``TIMEOUT`` seconds on, or when the block ends."""
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()


def _read_until(stream: IO[str], start: str, count: int) -> str:
    """Lines up to the ``count``-th that starts with ``start``."""
    seen: list[str] = []
    found = 0
    while found < count:
        line = stream.readline()
        if not line:
            raise AssertionError(f"tagmgr ended before {start!r} #{count}:\n{''.join(seen)}")
        seen.append(line)
        found += line.startswith(start)
    return "".join(seen)


def leftovers(marker: str, timeout: float = 5.0) -> list[str]:
    """Processes that still carry ``marker`` after ``timeout`` seconds: ``pid command``."""
    deadline = time.monotonic() + timeout
    while True:
        found = carrying(marker)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def carrying(marker: str) -> list[str]:
    """Processes that carry ``marker`` now: ``pid command``."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{entry.name} {command}")
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def wait_for(condition: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """``condition()`` once it is truthy; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.02)
    return value


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM now, as ``/proc/PID/status`` says (Python
    leaves SIGTERM to its default action; tagmgr's entry point catches it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
