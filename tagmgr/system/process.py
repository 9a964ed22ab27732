"""The one way tagmgr runs a program: argv only, never a shell; captured output, redacted errors.

Every child runs in a process group of its own, so a Ctrl-C on the terminal reaches tagmgr alone,
which decides what stops (a copy in flight finishes, see ``interrupt``). Every child is killed when
tagmgr dies, however it dies, SIGKILL included: ``PR_SET_PDEATHSIG`` is set in the child before it
runs the program. That signal follows the *thread* that started the child, which is why ``run``
waits for its child on the thread that started it. ``kill_all`` stops every running child at once.

Built on ``subprocess``, not ``sh``: ``sh`` polls with three I/O threads and a timer per command
(115 ms to run ``true``, against 3.6 ms here), and those threads and its non-daemon timeout timer
are what kept an interrupted tagmgr from exiting. ``communicate`` needs no thread at all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from tagmgr.errors import CommandError
from tagmgr.system import interrupt, logs

log = logs.get(__name__)

REDACTED = "<redacted>"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_libc = ctypes.CDLL(None, use_errno=True)
_running: dict[int, subprocess.Popen[bytes]] = {}
_running_lock = threading.Lock()


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


def run(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    secrets: Sequence[str] = (),
    pass_fds: Sequence[int] = (),
) -> Completed:
    """Run ``argv`` and return its result whatever the exit code.

    A program killed by a signal gets a negative ``returncode``. Raises ``CommandError`` only when
    the program cannot be started or runs past ``timeout`` (it is killed then); callers judge the
    exit code. ``secrets`` are replaced in any message or log line this module writes.
    ``pass_fds`` are descriptors the program inherits (an auth file in memory, say).
    """
    shown = describe_command(argv, secrets)
    log.debug("running %s", shown)
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            pass_fds=tuple(pass_fds),
            process_group=0,
            preexec_fn=die_with(os.getpid()),  # noqa: PLW1509 (one prepared call, no locks)
        )
    except FileNotFoundError as exc:
        raise CommandError(f"{argv[0]}: command not found; is it installed?") from exc
    except PermissionError as exc:
        raise CommandError(f"{argv[0]}: cannot be run: {exc.strerror}") from exc
    with _tracked(child):
        try:
            stdout, stderr = child.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(child)
            child.communicate()
            raise CommandError(f"{shown}: still running after {timeout:g} s; stopped") from exc
    log.debug("%s: exit %d after %.2f s", shown, child.returncode, time.monotonic() - started)
    return Completed(tuple(argv), child.returncode, stdout, stderr)


def kill_all() -> None:
    """SIGKILL every running child and its process group (safe in a signal handler)."""
    for child in list(_running.values()):
        _kill_group(child)


interrupt.on_abort(kill_all)  # a second Ctrl-C leaves no child behind


def describe_command(argv: Sequence[str], secrets: Sequence[str] = ()) -> str:
    return redact(" ".join(argv), secrets)


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def die_with(parent: int, signum: signal.Signals = signal.SIGKILL) -> Callable[[], None]:
    """What the child runs before the program (a ``preexec_fn``): get ``signum`` when ``parent``
    dies, or die now if it is gone already. The test fixtures' servers use it too."""
    prctl = _libc.prctl

    def in_child() -> None:
        if prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(127)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())  # a worker thread's blocked signals

    return in_child


@contextmanager
def _tracked(child: subprocess.Popen[bytes]) -> Iterator[None]:
    with _running_lock:
        _running[child.pid] = child
    try:
        yield
    finally:
        with _running_lock:
            del _running[child.pid]


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    if child.returncode is None:  # not reaped yet, so its pid is still its own
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
