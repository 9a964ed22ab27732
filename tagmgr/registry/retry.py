"""Retry policy: a table from status to decision, applied by a transport wrapper.

Idempotent requests (GET and HEAD: manifests, blobs, ``tags/list`` pages, token requests) are
retried when the registry is failing or busy (500, 502, 503, 504, 429; docker-registry answers
500 for transient storage races) and when a connection fails: ``Retry-After`` seconds when the
registry gives them (capped), exponential backoff otherwise with up to ``jitter`` of it taken off
at random, so that parallel requests do not come back in step. Attempts and the total wait are
bounded. A 401 is the auth flow's to answer (it re-authenticates once); any other status is handed
up at once. A TLS handshake failure is the same every time, so it is never retried; nor is a
refused connection on a request marked ``PROBE``, whose sender has another endpoint to try.

A write (PUT, POST, PATCH, DELETE) is sent once unless its sender declares it safe to send again
with the ``RETRY_SAFE`` request extension: ``True`` when sending it twice cannot do harm (a blob
upload of bytes checked by digest), or a callable returning whether it still is, asked before
every new attempt. A manifest PUT to a tag passes one that checks the tag is still absent (or
already at these very bytes), so a retry never overwrites what a rival writer put there meanwhile.

A registry that fails ``down_after`` connection attempts in a row (any request, any thread; an
answer of any status resets the count) is settled as down for the run: every later request to it
fails at once with one message naming it, instead of each entry waiting out its own retries.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tagmgr.errors import RegistryError
from tagmgr.registry.failures import connection_refused, request_error, tls_failure
from tagmgr.system import logs

log = logs.get(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
PROBE = "tagmgr.probe"  # a request extension: True when a refused connection should not be retried
RETRY_SAFE = "tagmgr.retry_safe"  # a request extension: True, or () -> bool, for a write
_SECONDS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which float() refuses
_CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)

Outcome = httpx.Response | httpx.TransportError


class Decision(enum.Enum):
    DONE = "done"
    BACK_OFF = "back off"
    REAUTHENTICATE = "re-authenticate"
    GIVE_UP = "give up"


STATUS_DECISIONS = {
    401: Decision.REAUTHENTICATE,
    429: Decision.BACK_OFF,
    500: Decision.BACK_OFF,
    502: Decision.BACK_OFF,
    503: Decision.BACK_OFF,
    504: Decision.BACK_OFF,
}


def decide(status: int) -> Decision:
    if status < 400:
        return Decision.DONE
    return STATUS_DECISIONS.get(status, Decision.GIVE_UP)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 10.0
    total_delay: float = 30.0
    jitter: float = 0.5
    """Up to this fraction of an exponential delay is taken off at random."""
    down_after: int = 4
    """Connection attempts failed in a row that settle a registry as down for the run."""

    def delay(self, attempt: int, retry_after: str | None, chance: float = 0.0) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

        ``Retry-After`` is used as given when it is a number of seconds; an HTTP-date is ignored.
        ``chance`` in [0, 1) picks how much of the jitter is taken off.
        """
        if retry_after is not None and _SECONDS.fullmatch(retry_after.strip()):
            return min(float(retry_after), self.max_delay)
        backoff = min(self.first_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1.0 - self.jitter * chance)


class Reachability:
    """Consecutive failed connection attempts to one registry; once too many, it is down."""

    def __init__(self, registry: str, down_after: int, timeout: float) -> None:
        self._registry = registry
        self._down_after = down_after
        self._timeout = timeout
        self._failures = 0
        self._down: RegistryError | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise the registry's ``RegistryError`` if it was settled as down."""
        if self._down is not None:
            raise self._down

    def record(self, request: httpx.Request, outcome: Outcome) -> None:
        with self._lock:
            if isinstance(outcome, httpx.Response):
                self._failures = 0
                return
            if not isinstance(outcome, _CONNECT_FAILURES) or _is_probe(request):
                return
            self._failures += 1
            if self._failures < self._down_after or self._down is not None:
                return
            last = request_error(self._registry, request.url, outcome, self._timeout)
            self._down = RegistryError(
                self._registry,
                f"down: {self._failures} connection attempts in a row failed (the last: "
                f"{str(last).removeprefix(f'registry {self._registry}: ')}); "
                "nothing more is sent to it in this run",
            )
            log.debug("%s", self._down)


class RetryTransport(httpx.BaseTransport):
    """Send through ``inner``, backing off and trying again as ``policy`` and the table say."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        reachability: Reachability | None = None,
        chance: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._reachability = reachability
        self._chance = chance

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited, attempt = 0.0, 1
        while True:
            outcome = self._attempt(request)
            delay = self._backoff(request, outcome, attempt, waited)
            if delay is None:
                if isinstance(outcome, httpx.Response):
                    return outcome
                raise outcome
            if isinstance(outcome, httpx.Response):
                outcome.close()
            log.debug("%s %s: retrying in %.2f s", request.method, _shown(request), delay)
            self._sleep(delay)
            waited, attempt = waited + delay, attempt + 1

    def _attempt(self, request: httpx.Request) -> Outcome:
        """One send, logged (-vv) without its query, which may carry a signature."""
        if self._reachability is not None:
            self._reachability.check()
        started = time.monotonic()
        outcome: Outcome
        try:
            outcome = self._inner.handle_request(request)
        except httpx.TransportError as exc:
            outcome = exc
        elapsed = time.monotonic() - started
        if log.isEnabledFor(logging.DEBUG):  # the arguments cost more than a disabled call
            log.debug(
                "%s %s -> %s (%.3f s)", request.method, _shown(request), _describe(outcome), elapsed
            )
        if self._reachability is not None:
            self._reachability.record(request, outcome)
        return outcome

    def _backoff(
        self, request: httpx.Request, outcome: Outcome, attempt: int, waited: float
    ) -> float | None:
        """Seconds to wait before trying again, or None to hand ``outcome`` up."""
        if attempt >= self._policy.attempts or not _may_resend(request):
            return None
        if isinstance(outcome, httpx.Response):
            if decide(outcome.status_code) is not Decision.BACK_OFF:
                return None
            delay = self._policy.delay(attempt, outcome.headers.get("Retry-After"), self._chance())
        elif _not_worth_retrying(request, outcome):
            return None
        else:
            delay = self._policy.delay(attempt, None, self._chance())
        if waited + delay > self._policy.total_delay:
            return None
        return delay if _still_safe(request) else None

    def close(self) -> None:
        self._inner.close()


def _may_resend(request: httpx.Request) -> bool:
    return request.method in IDEMPOTENT_METHODS or bool(request.extensions.get(RETRY_SAFE))


def _still_safe(request: httpx.Request) -> bool:
    """A write's own check, asked just before it is sent again."""
    safe = request.extensions.get(RETRY_SAFE)
    return bool(safe()) if callable(safe) else True


def _is_probe(request: httpx.Request) -> bool:
    return bool(request.extensions.get(PROBE))


def _not_worth_retrying(request: httpx.Request, error: httpx.TransportError) -> bool:
    """A failed TLS handshake fails the same way again; a refused probe has elsewhere to go."""
    if tls_failure(error) is not None:
        return True
    return _is_probe(request) and connection_refused(error)


def _shown(request: httpx.Request) -> str:
    return str(request.url.copy_with(query=None))


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, httpx.Response):
        return str(outcome.status_code)
    return f"{type(outcome).__name__}: {outcome}"
