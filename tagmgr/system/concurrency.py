"""A thin parallel layer over the serial path: ``jobs=1`` is a plain loop.

``jobs`` threads take the items in order, one at a time, and put each result in its place: no
future, queue or condition per item (a thread pool's cost a plan of a thousand HEADs about
70 ms of CPU, a fifth of tagmgr's own). After a failure, no thread starts another item;
once the running ones are done, the failure of the earliest item is raised.

Worker threads block SIGINT and SIGTERM, so the kernel delivers them to the main thread, whose
wait is then interrupted and whose handler runs at once (``interrupt``); one delivered to a
worker would wait until the main thread next woke, while the workers start new entries. The
workers are started with both blocked in the main thread, so each is born blocking them: a
thread that blocked them only once it ran could take a signal first, on a busy machine.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar, cast

In = TypeVar("In")
Out = TypeVar("Out")


def map_in_threads(function: Callable[[In], Out], items: Iterable[In], jobs: int) -> list[Out]:
    """``[function(i) for i in items]``, run on up to ``jobs`` threads, results in input order."""
    work = list(items)
    if jobs <= 1 or len(work) <= 1:
        return [function(item) for item in work]
    return _Run(function, work).results(min(jobs, len(work)))


class _Run(Generic[In, Out]):
    def __init__(self, function: Callable[[In], Out], work: list[In]) -> None:
        self._function = function
        self._work = work
        self._next = 0
        self._lock = threading.Lock()
        self._failures: list[tuple[int, BaseException]] = []
        self._results: list[Out | None] = [None] * len(work)

    def results(self, threads: int) -> list[Out]:
        workers = [threading.Thread(target=self._serve, daemon=True) for _ in range(threads)]
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _LEFT_TO_THE_MAIN_THREAD)
        try:
            for worker in workers:
                worker.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # one that came is handled now
        try:
            for worker in workers:
                worker.join()
        except BaseException as interrupted:  # a signal: what has not started never starts
            with self._lock:
                self._failures.append((-1, interrupted))
            for worker in workers:
                worker.join()
            raise
        if self._failures:
            raise min(self._failures, key=lambda failed: failed[0])[1]
        return cast(list[Out], self._results)  # every place was filled

    def _serve(self) -> None:
        while True:
            with self._lock:
                index = self._next
                if self._failures or index == len(self._work):
                    return
                self._next = index + 1
            try:
                self._results[index] = self._function(self._work[index])
            except BaseException as failure:  # raised in the caller's thread
                with self._lock:
                    self._failures.append((index, failure))
                return


_LEFT_TO_THE_MAIN_THREAD = {signal.SIGINT, signal.SIGTERM}
