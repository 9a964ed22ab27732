"""SIGINT and SIGTERM as a request to stop, checked between units of work.

The handler only records the signal: no exception is raised at whatever point the main thread
happened to be (inside the logging module's lock, say, which an exception would leave held). The
applier asks ``requested()`` before each entry it starts; work in flight finishes. A second
signal stops at once: what registered with ``on_abort`` runs (``process`` kills every child) and
tagmgr exits with the first signal's code. Nothing needs removing first: no secret is ever on
disk, and a file being replaced holds signals off (``held``) until its temporary is gone.
A command that writes nothing calls ``stop_at_once``: it has nothing to finish, so the first
signal stops it as the second would; one that writes reads under ``stopping_at_once`` until its
first write, then asks ``requested()`` between writes.
Before ``handling_signals`` (while the interpreter imports tagmgr) ``install`` makes a signal stop
tagmgr at once, nothing having started, with its exit code and no ``KeyboardInterrupt``.
This module imports nothing of tagmgr's but the exit codes: every command, ``validate`` too,
runs inside ``handling_signals``.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from tagmgr import exitcodes

EXIT_CODES = {signal.SIGINT: exitcodes.INTERRUPTED, signal.SIGTERM: exitcodes.TERMINATED}

_received: list[int] = []  # the signals that came; appending takes no lock a handler could block on
_wakeup: list[int] = []  # the read end of the pipe signal.set_wakeup_fd writes to
_on_abort: list[Callable[[], None]] = []  # what a second signal runs before exiting
_at_once: list[bool] = []  # not empty: the first signal stops at once (a read-only command)


def on_abort(action: Callable[[], None]) -> None:
    """Run ``action`` when a second signal stops tagmgr at once; it must be safe in a handler."""
    _on_abort.append(action)


def install() -> None:
    """Until ``handling_signals``, a SIGINT or SIGTERM stops tagmgr at once: for the entry point,
    before it imports the rest of tagmgr."""
    for signum in EXIT_CODES:
        signal.signal(signum, _before_start)


def stop_at_once() -> None:
    """Let the first signal stop tagmgr at once: for a command that writes nothing."""
    _at_once.append(True)


@contextmanager
def stopping_at_once() -> Iterator[None]:
    """While the block runs, the first signal stops tagmgr at once: for what a command reads
    before its first write, which a stop leaves nothing of to finish."""
    _at_once.append(True)
    try:
        yield
    finally:
        _at_once.pop()


def requested() -> bool:
    """True once SIGINT or SIGTERM has come."""
    return bool(_received)


def exit_code() -> int:
    """The exit code the first signal asks for (130 for SIGINT, 143 for SIGTERM)."""
    return EXIT_CODES[signal.Signals(_received[0])]


@contextmanager
def handling_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``requested()`` (main thread only); restore on exit."""
    reader, writer = os.pipe()  # not inherited (PEP 446); os.pipe2 is Linux's alone
    for end in (reader, writer):
        os.set_blocking(end, False)
    previous = {signum: signal.signal(signum, _on_signal) for signum in EXIT_CODES}
    previous_wakeup = signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
    _wakeup.append(reader)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _wakeup.remove(reader)
        os.close(reader)
        os.close(writer)
        _received.clear()
        _at_once.clear()


@contextmanager
def held() -> Iterator[None]:
    """Hold off every signal the calling thread can hold while the block runs; one that comes
    meanwhile is delivered, and handled or ends tagmgr, as the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def readline(stream: IO[str]) -> str | None:
    """A line from ``stream`` (``""`` at its end), or None if a signal comes first."""
    while _wakeup:
        ready, _, _ = select.select([stream.fileno(), _wakeup[0]], [], [])
        if requested():
            return None
        if stream.fileno() in ready:
            break
    return stream.readline()


def _on_signal(signum: int, frame: object) -> None:
    """Said with a bare write: a handler must not take a lock the code it interrupted holds."""
    _received.append(signum)
    name = signal.Signals(signum).name
    if len(_received) == 1 and not _at_once:
        os.write(2, f"tagmgr: {name}: nothing new starts; send it again to stop at once\n".encode())
        return
    _stop_now()


def _before_start(signum: int, frame: object) -> None:
    _received.append(signum)
    _stop_now()


def _stop_now() -> None:
    for action in _on_abort:
        action()
    again = " again" if len(_received) > 1 else ""
    name = signal.Signals(_received[-1]).name
    os.write(2, f"tagmgr: {name}{again}: stopped at once\n".encode())
    os._exit(exit_code())
