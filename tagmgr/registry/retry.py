"""Retry policy: a table from status to decision, applied by a transport wrapper.

Only GET and HEAD (the idempotent requests this client sends) are retried. A busy or failing gateway
(429, 502, 503, 504) or a dropped connection means back off: ``Retry-After`` seconds when the
registry gives them (capped), exponential otherwise, for a bounded number of attempts and a bounded
total wait. A 401 is the auth flow's to answer (it re-authenticates once); any other status is
handed up at once. A TLS handshake failure is the same every time, so it is never retried; nor is
a refused connection on a request marked ``PROBE``, whose sender has another endpoint to try.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tagmgr.registry.failures import connection_refused, tls_failure

log = logging.getLogger(__name__)

RETRYABLE_METHODS = frozenset({"GET", "HEAD"})
PROBE = "tagmgr.probe"  # a request extension: True when a refused connection should not be retried
_SECONDS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which float() refuses


class Decision(enum.Enum):
    DONE = "done"
    BACK_OFF = "back off"
    REAUTHENTICATE = "re-authenticate"
    GIVE_UP = "give up"


STATUS_DECISIONS = {
    401: Decision.REAUTHENTICATE,
    429: Decision.BACK_OFF,
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

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

        ``Retry-After`` is used when it is a number of seconds; an HTTP-date is ignored.
        """
        if retry_after is not None and _SECONDS.fullmatch(retry_after.strip()):
            return min(float(retry_after), self.max_delay)
        return min(self.first_delay * 2.0 ** (attempt - 1), self.max_delay)


class RetryTransport(httpx.BaseTransport):
    """Send through ``inner``, backing off and trying again as ``policy`` and the table say."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner = inner
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

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
            log.debug(
                "%s %s: %s; retrying in %g s",
                request.method,
                request.url,
                _describe(outcome),
                delay,
            )
            self._sleep(delay)
            waited, attempt = waited + delay, attempt + 1

    def _attempt(self, request: httpx.Request) -> httpx.Response | httpx.TransportError:
        try:
            return self._inner.handle_request(request)
        except httpx.TransportError as exc:
            return exc

    def _backoff(
        self,
        request: httpx.Request,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        waited: float,
    ) -> float | None:
        """Seconds to wait before trying again, or None to hand ``outcome`` up."""
        if request.method not in RETRYABLE_METHODS or attempt >= self._policy.attempts:
            return None
        if isinstance(outcome, httpx.Response):
            if decide(outcome.status_code) is not Decision.BACK_OFF:
                return None
            delay = self._policy.delay(attempt, outcome.headers.get("Retry-After"))
        elif _not_worth_retrying(request, outcome):
            return None
        else:
            delay = self._policy.delay(attempt, None)
        return delay if waited + delay <= self._policy.total_delay else None

    def close(self) -> None:
        self._inner.close()


def _not_worth_retrying(request: httpx.Request, error: httpx.TransportError) -> bool:
    """A failed TLS handshake fails the same way again; a refused probe has elsewhere to go."""
    if tls_failure(error) is not None:
        return True
    return bool(request.extensions.get(PROBE)) and connection_refused(error)


def _describe(outcome: httpx.Response | httpx.TransportError) -> str:
    if isinstance(outcome, httpx.Response):
        return str(outcome.status_code)
    return f"{type(outcome).__name__}: {outcome}"
