"""A thin parallel layer over the serial path: ``jobs=1`` is a plain loop.

Worker threads block SIGINT and SIGTERM, so the kernel delivers them to the main thread, whose
wait is then interrupted and whose handler runs at once (``interrupt``); one delivered to a
worker would wait until the main thread next woke, while the workers start new entries. The
workers are started with both blocked in the main thread, so each is born blocking them: a
thread that blocked them only once it ran could take a signal first, on a busy machine.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def map_in_threads(function: Callable[[In], Out], items: Iterable[In], jobs: int) -> list[Out]:
    """``[function(i) for i in items]``, run on up to ``jobs`` threads, results in input order."""
    work = list(items)
    if jobs <= 1 or len(work) <= 1:
        return [function(item) for item in work]
    with ThreadPoolExecutor(max_workers=min(jobs, len(work))) as pool:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _LEFT_TO_THE_MAIN_THREAD)
        try:  # the pool starts its threads as work is submitted: all of them, here
            futures = [pool.submit(function, item) for item in work]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # one that came is handled now
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:  # after a failure, what has not started never starts
                future.cancel()


_LEFT_TO_THE_MAIN_THREAD = {signal.SIGINT, signal.SIGTERM}
