"""The one way tagmgr runs a program: argv only, never a shell; captured output, redacted errors.

Every child runs in a process group of its own, so a Ctrl-C on the terminal reaches tagmgr alone,
which decides what stops (a copy in flight finishes, see ``interrupt``). On Linux every child is
also stopped when tagmgr dies, however it dies, SIGKILL included: ``PR_SET_PDEATHSIG`` is set in
the child before it runs the program. That signal follows the *thread* that started the child,
which is why ``run`` waits for its child on the thread that started it. Elsewhere (macOS, the
BSDs) there is no such signal: a child outlives a tagmgr killed by SIGKILL, and tagmgr says so
once, at info level. ``kill_all`` stops every running child at once.

Built on ``subprocess``, not ``sh``: ``sh`` polls with three I/O threads and a timer per command
(far slower to run a program: docs/design.md), and those threads and its non-daemon timeout timer
are what kept an interrupted tagmgr from exiting. ``communicate`` needs no thread at all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from tagmgr.errors import CommandError
from tagmgr.system import interrupt, logs

log = logs.get(__name__)

REDACTED = "<redacted>"
STOP_GRACE = 5.0  # seconds a program stopped by SIGTERM has before SIGKILL
WITHHELD = frozenset({"TAGMGR_AUTH_JSON"})
"""Variables that hold secrets themselves (every registry's credentials: ``registry.authfiles``),
kept from every program tagmgr runs; skopeo gets the two repositories' it needs otherwise."""
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_running: dict[int, tuple[subprocess.Popen[bytes], signal.Signals]] = {}
_running_lock = threading.Lock()
_said_no_parent_death_signal: list[bool] = []


def _load_prctl() -> Callable[..., int] | None:
    """The C library's ``prctl``: Linux only."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()


def _without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in WITHHELD}


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
    stop_signal: signal.Signals = signal.SIGKILL,
    new_session: bool = False,
) -> Completed:
    """Run ``argv`` and return its result whatever the exit code.

    A program killed by a signal gets a negative ``returncode``. Raises ``CommandError`` only when
    the program cannot be started or runs past ``timeout`` (it is stopped then); callers judge the
    exit code. ``secrets`` are replaced in any message or log line this module writes.
    ``pass_fds`` are descriptors the program inherits (an auth file in memory, say).
    ``stop_signal`` is what the program's group gets when it must stop (past ``timeout``, a second
    Ctrl-C, tagmgr gone): SIGKILL, or SIGTERM for a program that cleans up as it stops (git
    removes its lock files), followed by SIGKILL if it is still there ``STOP_GRACE`` later.
    ``new_session`` puts the program in a session of its own, with no controlling terminal, so that
    nothing it starts can prompt there (ssh under git opens /dev/tty to ask for a password).
    The program's environment is ``env``, else tagmgr's, less ``WITHHELD`` either way.
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
            env=_without_secrets(os.environ if env is None else env),
            pass_fds=tuple(pass_fds),
            start_new_session=new_session,
            process_group=None if new_session else 0,  # a new session is a new group too
            preexec_fn=die_with(os.getpid(), stop_signal),  # noqa: PLW1509 (no locks taken)
        )
    except FileNotFoundError as exc:
        raise CommandError(f"{argv[0]}: command not found; is it installed?") from exc
    except PermissionError as exc:
        raise CommandError(f"{argv[0]}: cannot be run: {exc.strerror}") from exc
    with _tracked(child, stop_signal):
        try:
            stdout, stderr = child.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _stop(child, stop_signal)
            raise CommandError(f"{shown}: still running after {timeout:g} s; stopped") from exc
    log.debug("%s: exit %d after %.2f s", shown, child.returncode, time.monotonic() - started)
    return Completed(tuple(argv), child.returncode, stdout, stderr)


def kill_all() -> None:
    """Send every running child's group its stop signal (safe in a signal handler)."""
    for child, stop_signal in list(_running.values()):
        _signal_group(child, stop_signal)


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
    dies where the system can say so (Linux), and die now if ``parent`` is gone already. The
    test fixtures' servers use it too."""
    prctl = _prctl
    if prctl is None and not _said_no_parent_death_signal:
        _said_no_parent_death_signal.append(True)
        log.info(
            "this system has no parent-death signal (Linux's PR_SET_PDEATHSIG): a program"
            " tagmgr runs keeps running if tagmgr is killed with SIGKILL"
        )

    def in_child() -> None:
        if prctl is not None and prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent:
            os._exit(127)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())  # a worker thread's blocked signals

    return in_child


@contextmanager
def _tracked(child: subprocess.Popen[bytes], stop_signal: signal.Signals) -> Iterator[None]:
    with _running_lock:
        _running[child.pid] = (child, stop_signal)
    try:
        yield
    finally:
        with _running_lock:
            del _running[child.pid]


def _stop(child: subprocess.Popen[bytes], stop_signal: signal.Signals) -> None:
    """Signal the child's group, then SIGKILL it if it outlasts ``STOP_GRACE``; reap it."""
    _signal_group(child, stop_signal)
    try:
        child.communicate(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        _signal_group(child, signal.SIGKILL)
        child.communicate()


def _signal_group(child: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    if child.returncode is None:  # not reaped yet, so its pid is still its own
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signum)
