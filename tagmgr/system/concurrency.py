"""A thin parallel layer over the serial path: ``jobs=1`` is a plain loop.

Worker threads block SIGINT and SIGTERM, so the kernel delivers them to the main thread, whose
wait is then interrupted and whose handler runs at once (``interrupt``); one delivered to a
worker would wait until the main thread next woke, while the workers start new entries.
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
    with ThreadPoolExecutor(max_workers=min(jobs, len(work)), initializer=_leave_signals) as pool:
        return list(pool.map(function, work))


def _leave_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
