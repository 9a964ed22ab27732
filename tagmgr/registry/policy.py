"""The time and retry budget of every registry request, in one value.

================  ======  ==================================================================
attempts          4       sends of one request at most, the first included
first_delay       0.5 s   the wait before the second attempt, doubled for each one after
max_delay         10 s    the longest wait, and the cap on a registry's ``Retry-After``
jitter            0.5     up to this fraction of each doubling wait is taken off at random
request_timeout   30 s    one request's whole time, its attempts and waits included
                          (``--request-timeout``): an attempt waits for an answer only as
                          long as is left of it
registry_timeout  60 s    how long a registry may answer nothing before it is down for the
                          run (``--registry-timeout``; see ``reachability``)
down_after        4       connection attempts failed in a row that settle it as down
================  ======  ==================================================================

``retry.RetryTransport`` keeps it for tagmgr's own requests; skopeo and the applier take their
retries from it too (see ``retry``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SECONDS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which float() refuses


class RetryPolicy(NamedTuple):
    """The budget of every registry request: the table in this module's docstring."""

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 10.0
    jitter: float = 0.5
    request_timeout: float = 30.0
    registry_timeout: float = 60.0
    down_after: int = 4

    def delay(self, attempt: int, retry_after: str | None, chance: float = 0.0) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

        ``Retry-After`` is used as given when it is a number of seconds; an HTTP-date is ignored.
        ``chance`` in [0, 1) picks how much of the jitter is taken off.
        """
        if retry_after is not None and _SECONDS.fullmatch(retry_after.strip()):
            return min(float(retry_after), self.max_delay)
        backoff = min(self.first_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1.0 - self.jitter * chance)
