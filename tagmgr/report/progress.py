"""Progress on a terminal: one line on stderr, redrawn as work is done, erased at the end.

Only when stderr is a terminal and the report is text: a CI log, a pipe, ``--output json`` or
``markdown``, and ``-vv`` (whose debug log would tear the line) get nothing. The report itself
goes to stdout, so progress never mixes with it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO

from tagmgr.report.model import Options

INTERVAL = 0.1
"""Seconds between redraws: a count of thousands of quick lookups would otherwise spend more
on the terminal than on the registry. The last of the work known is always drawn."""


class Progress:
    """``label: done/total what``. Work may be added as it becomes known (``expect``): a plan
    learns how many references it must read only as each repository's tags are listed."""

    def __init__(
        self,
        label: str,
        *,
        enabled: bool,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label = label
        self._enabled = enabled
        self._stream = stream or sys.stderr
        self._clock = clock
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._drawn_at: float | None = None
        self._width = _columns(self._stream) if enabled else 0

    @classmethod
    def on_terminal(cls, label: str, options: Options, stream: IO[str] | None = None) -> Progress:
        stream = stream or sys.stderr
        shown = options.format == "text" and options.verbose < 2 and _is_terminal(stream)
        return cls(label, enabled=shown, stream=stream)

    @property
    def shown(self) -> bool:
        """Whether anything is drawn at all."""
        return self._enabled

    def expect(self, count: int) -> None:
        with self._lock:
            self._total += count

    def advance(self, what: str = "") -> None:
        with self._lock:
            self._done += 1
            now = self._clock()
            due = self._drawn_at is None or now - self._drawn_at >= INTERVAL
            if self._enabled and (due or self._done >= self._total):
                self._drawn_at = now
                self._draw(what)

    def finish(self) -> None:
        with self._lock:
            if self._enabled and self._drawn_at is not None:
                self._stream.write("\r\033[K")
                self._stream.flush()
            self._drawn_at = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish()

    def _draw(self, what: str) -> None:
        """One line, narrower than the terminal: a long name loses its start, not its tag."""
        count = f"{self._label}: {self._done}/{max(self._total, self._done)}"
        room = self._width - 1 - len(count) - 1
        what = _printable(what)
        if len(what) > room:
            what = "..." + what[len(what) - room + 3 :] if room > 3 else ""
        self._stream.write(f"\r\033[K{f'{count} {what}'.rstrip()[: self._width - 1]}")
        self._stream.flush()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):  # closed
        return False


def _columns(stream: IO[str]) -> int:
    """The terminal's width: a line longer than it would wrap, and ``\\r`` erase only its end."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (ValueError, OSError):
        columns = 0
    return columns or 80  # 0: a terminal whose size nobody set


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)
