"""Whether a registry still answers: settled as down once it refuses or ignores tagmgr for good.

A registry is down for the rest of the run once ``down_after`` connection attempts in a row
failed (refused, or no answer), or once it has answered nothing for ``registry_timeout``
seconds while requests waited on it: from the start of the oldest attempt still without an
answer, or the last answer, whichever is later. Every later request to it fails at once with one
message naming it, and no request waits on it longer than what is left of that time, so a
registry that hangs costs the run that long once, not once per request.

Any answer, whatever its status, resets both counts. A refused probe (an endpoint tried while
another is left, see ``retry.PROBE``) is no failure: the next endpoint may well answer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from tagmgr.errors import RegistryError
from tagmgr.registry.failures import request_error
from tagmgr.registry.messages import (
    ConnectError,
    ConnectTimeout,
    ReadTimeout,
    Request,
    Response,
    TransportError,
    WriteTimeout,
)
from tagmgr.system import logs

log = logs.get(__name__)

_CONNECT_FAILURES = (ConnectError, ConnectTimeout)
NO_ANSWER = (ConnectTimeout, ReadTimeout, WriteTimeout)

Outcome = Response | TransportError


class Reachability:
    """One registry's answers and failures, shared by every request to it; thread-safe."""

    def __init__(
        self,
        registry: str,
        *,
        down_after: int,
        registry_timeout: float,
        request_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._down_after = down_after
        self._registry_timeout = registry_timeout
        self._request_timeout = request_timeout
        self._clock = clock
        self._failures = 0
        self._last_answer = float("-inf")
        self._unanswered_since: float | None = None  # the oldest failed attempt since an answer
        self._waiting: Counter[float] = Counter()  # start times of attempts in flight
        self._down: RegistryError | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise the registry's ``RegistryError`` if it is down."""
        if self._down is not None:
            raise self._down

    def begin(self) -> float:
        """An attempt starts now (returned): it counts as waiting until ``end``."""
        started = self._clock()
        with self._lock:
            self._waiting[started] += 1
        return started

    def cancel(self, started: float) -> None:
        """The attempt that began at ``started`` ended with nothing to judge the registry by."""
        with self._lock:
            self._stop_waiting(started)

    def left(self) -> float:
        """Seconds an attempt starting now may wait before the registry is due to be down."""
        with self._lock:
            silent_since = self._silent_since()
        if silent_since is None:
            return self._registry_timeout
        return self._registry_timeout - (self._clock() - silent_since)

    def end(
        self, request: Request, outcome: Outcome, started: float, probe: bool
    ) -> RegistryError | None:
        """Record what the attempt that began at ``started`` got, and settle the registry as down
        if it is. Returns its error when this attempt's silence used up the registry's time:
        that, not the attempt's own timeout, is what to report."""
        silenced = None
        with self._lock:
            self._stop_waiting(started)
            if isinstance(outcome, Response):
                self._failures = 0
                self._last_answer = self._clock()
                self._unanswered_since = None
                return None
            if isinstance(outcome, NO_ANSWER):
                since = self._unanswered_since
                self._unanswered_since = started if since is None else min(since, started)
            if isinstance(outcome, _CONNECT_FAILURES + NO_ANSWER) and not probe:
                self._failures += 1
            if self._down is None:
                silenced = self._silent_too_long(request)
                self._down = silenced or self._failed_too_often(request, outcome)
        if self._down is not None:
            log.debug("%s", self._down)
        return silenced

    def _stop_waiting(self, started: float) -> None:
        self._waiting[started] -= 1
        if not self._waiting[started]:
            del self._waiting[started]

    def _silent_since(self) -> float | None:
        starts = list(self._waiting)
        if self._unanswered_since is not None:
            starts.append(self._unanswered_since)
        return max(min(starts), self._last_answer) if starts else None

    def _silent_too_long(self, request: Request) -> RegistryError | None:
        silent_since = self._silent_since()
        if silent_since is None or self._clock() - silent_since < self._registry_timeout:
            return None
        return RegistryError(
            self._registry,
            f"down: nothing answered within {self._registry_timeout:g} s "
            f"(--registry-timeout; the last request: {request.method} "
            f"{request.url.without_query()}); nothing more is sent to it in this run",
        )

    def _failed_too_often(self, request: Request, outcome: TransportError) -> RegistryError | None:
        if self._failures < self._down_after:
            return None
        last = request_error(self._registry, request.url, outcome, self._request_timeout)
        return RegistryError(
            self._registry,
            f"down: {self._failures} connection attempts in a row failed (the last: "
            f"{str(last).removeprefix(f'registry {self._registry}: ')}); nothing more is sent "
            "to it in this run",
        )
