"""How hard tagmgr presses one registry: requests in flight, and requests per second.

Every request to a registry takes a slot: at most ``concurrency`` are in flight at once, and with
``max_rps`` set, starts are spaced ``1 / max_rps`` seconds apart (public registries throttle, and
a 429 costs more time than waiting would have). A retried attempt is a new start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tagmgr.registry.messages import Request, Response, Transport

DEFAULT_CONCURRENCY = 8


class Pace:
    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_rps: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._interval = 1.0 / max_rps if max_rps else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_start = 0.0
        self._lock = threading.Lock()

    def slot(self) -> Pace:
        """``with pace.slot():`` holds a slot, its turn waited for, for the block. The pace is its
        own context manager, not a ``contextmanager`` generator: every attempt takes a slot, and a
        generator's set-up and tear-down cost more than the slot."""
        return self

    def __enter__(self) -> None:
        self._slots.acquire()
        try:
            self._wait_for_turn()
        except BaseException:
            self._slots.release()
            raise

    def __exit__(self, *_: object) -> None:
        self._slots.release()

    def _wait_for_turn(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            self._sleep(start - now)


class PacedTransport:
    """Send through ``inner``, one ``pace`` slot per attempt (released once the headers came)."""

    def __init__(self, inner: Transport, pace: Pace) -> None:
        self._inner = inner
        self._pace = pace

    def handle_request(self, request: Request) -> Response:
        with self._pace.slot():
            return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
