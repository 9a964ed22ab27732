"""Retries: a table from status to decision, applied by a transport wrapper, within the budget
of ``policy.RetryPolicy`` (attempts, waits, time per request and per registry).

This transport is the one retry layer for tagmgr's own HTTP. The same budget sets the two layers
above it that cannot retry through it, and nothing else retries: skopeo, which speaks HTTP
itself, is given ``--retry-times`` of ``attempts - 1``; the applier runs a copy again, up to
``attempts`` times in all with the same waits, only when a write failed in a way another try may
mend and was not sent again here (``TransientWriteError``).

Idempotent requests (GET and HEAD: manifests, blobs, ``tags/list`` pages, token requests) are
retried when the registry is failing or busy (500, 502, 503, 504, 429; docker-registry answers
500 for transient storage races) and when a connection fails or gets no answer: ``Retry-After``
seconds when the registry gives them (capped), the doubling wait otherwise, with its jitter, so
that parallel requests do not come back in step. A 401 is the auth flow's to answer (it
re-authenticates once); any other status is handed up at once. A TLS handshake failure is the
same every time, so it is never retried; nor is a refused connection on a request marked
``PROBE``, whose sender has another endpoint to try.

A write (PUT, POST, PATCH, DELETE) is sent once unless its sender declares it safe to send again
with the ``RETRY_SAFE`` request extension: ``True`` when sending it twice cannot do harm (a blob
upload of bytes checked by digest), or a callable returning whether it still is, asked after each
wait, just before the write is sent again. A manifest PUT to a tag passes one that checks the tag
is still absent (or already at these very bytes), so a retry never overwrites what a rival writer
put there meanwhile, the wait included.
A write that failed in a way another try may mend, and was not sent again, is marked with the
``NOT_SENT_AGAIN`` extension, which the client turns into a ``TransientWriteError``; one its
check kept from being sent again, with ``OVERTAKEN``, which the client says in its error.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable

from tagmgr.registry.failures import connection_refused, tls_failure
from tagmgr.registry.messages import (
    LocalProtocolError,
    Request,
    Response,
    Transport,
    TransportError,
)
from tagmgr.registry.policy import RetryPolicy
from tagmgr.registry.reachability import Outcome, Reachability
from tagmgr.system import logs

log = logs.get(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
PROBE = "tagmgr.probe"  # a request extension: True when a refused connection should not be retried
RETRY_SAFE = "tagmgr.retry_safe"  # a request extension: True, or () -> bool, for a write
NOT_SENT_AGAIN = "tagmgr.not_sent_again"  # set on a write that failed transiently, sent once
OVERTAKEN = "tagmgr.overtaken"  # set on a write its own check kept from being sent again
_LEAST_WAIT = 0.01  # seconds: a registry out of time gets this, fails, and is settled as down


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


class RetryTransport:
    """Send through ``inner``, backing off and trying again as ``policy`` and the table say."""

    def __init__(
        self,
        inner: Transport,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        reachability: Reachability | None = None,
        chance: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._reachability = reachability
        self._chance = chance
        self._clock = clock

    def handle_request(self, request: Request) -> Response:
        deadline = self._clock() + self._policy.request_timeout
        attempt = 1
        while True:
            outcome = self._attempt(request, deadline)
            delay = self._backoff(request, outcome, attempt, deadline)
            if delay is None:
                return _hand_up(request, outcome)
            log.debug("%s %s: retrying in %.2f s", request.method, _shown(request), delay)
            self._sleep(delay)
            if not _still_safe(request):  # after the wait, which a rival writer may have used
                request.extensions[OVERTAKEN] = True
                return _hand_up(request, outcome)
            if isinstance(outcome, Response):
                outcome.close()
            attempt += 1

    def _attempt(self, request: Request, deadline: float) -> Outcome:
        """One send, waiting no longer than the request and the registry have left; logged
        (-vv) without its query, which may carry a signature."""
        reachability = self._reachability
        if reachability is not None:
            reachability.check()
            started = reachability.begin()
        else:
            started = self._clock()
        left = deadline - started
        if reachability is not None:
            left = min(left, reachability.left())
        request.timeout = max(left, _LEAST_WAIT)
        outcome: Outcome
        try:
            outcome = self._inner.handle_request(request)
        except TransportError as exc:
            outcome = exc
        except BaseException:  # refused below (an answer too large), or interrupted
            if reachability is not None:
                reachability.cancel(started)
            raise
        if log.isEnabledFor(logs.DEBUG):  # the arguments cost more than a disabled call
            log.debug(
                "%s %s -> %s (%.3f s)",
                request.method,
                _shown(request),
                _describe(outcome),
                self._clock() - started,
            )
        if reachability is not None:
            silenced = reachability.end(request, outcome, started, probe=_is_probe(request))
            if silenced is not None:
                raise silenced
        return outcome

    def _backoff(
        self, request: Request, outcome: Outcome, attempt: int, deadline: float
    ) -> float | None:
        """Seconds to wait before trying again, or None to hand ``outcome`` up."""
        if attempt >= self._policy.attempts or not _may_resend(request):
            return None
        if isinstance(outcome, Response):
            if decide(outcome.status_code) is not Decision.BACK_OFF:
                return None
            delay = self._policy.delay(attempt, outcome.headers.get("Retry-After"), self._chance())
        elif _not_worth_retrying(request, outcome):
            return None
        else:
            delay = self._policy.delay(attempt, None, self._chance())
        return None if self._clock() + delay >= deadline else delay

    def close(self) -> None:
        self._inner.close()


def _hand_up(request: Request, outcome: Outcome) -> Response:
    """``outcome`` as the answer, or raised; a write that failed in a way another try may mend,
    but was not sent again, is marked so."""
    transient = (
        decide(outcome.status_code) is Decision.BACK_OFF
        if isinstance(outcome, Response)
        else not _fails_again(outcome)
    )
    if transient and not _may_resend(request):
        request.extensions[NOT_SENT_AGAIN] = True
    if isinstance(outcome, Response):
        return outcome
    raise outcome


def _may_resend(request: Request) -> bool:
    return request.method in IDEMPOTENT_METHODS or bool(request.extensions.get(RETRY_SAFE))


def _still_safe(request: Request) -> bool:
    """A write's own check, asked just before it is sent again."""
    safe = request.extensions.get(RETRY_SAFE)
    return bool(safe()) if callable(safe) else True


def _is_probe(request: Request) -> bool:
    return bool(request.extensions.get(PROBE))


def _not_worth_retrying(request: Request, error: TransportError) -> bool:
    """One that fails the same way again, or a refused probe: it has elsewhere to go."""
    return _fails_again(error) or (_is_probe(request) and connection_refused(error))


def _fails_again(error: TransportError) -> bool:
    """A failed TLS handshake, or a request that cannot be sent as it is (a field with a line
    break, a redirect to ``ftp://``): another try meets the same."""
    return isinstance(error, LocalProtocolError) or tls_failure(error) is not None


def _shown(request: Request) -> str:
    return str(request.url.without_query())


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, Response):
        return str(outcome.status_code)
    return f"{type(outcome).__name__}: {outcome}"
