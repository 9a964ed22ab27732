"""map_in_threads: results in order, the first failure raised, signals left to the main thread."""

from __future__ import annotations

import signal
import threading

import pytest

from tagmgr.system.concurrency import map_in_threads


def blocked_here() -> set[signal.Signals | int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_results_come_in_input_order_from_worker_threads() -> None:
    names = map_in_threads(lambda n: (n, threading.current_thread().name), range(8), 4)
    assert [n for n, _ in names] == list(range(8))
    assert threading.main_thread().name not in {name for _, name in names}


def test_workers_are_born_blocking_sigint_and_sigterm_and_the_main_thread_is_left_as_it_was() -> (
    None
):
    before = blocked_here()
    masks = map_in_threads(lambda _: blocked_here(), range(4), 4)
    assert all({signal.SIGINT, signal.SIGTERM} <= mask for mask in masks)
    assert blocked_here() == before


def test_the_first_failure_in_input_order_is_raised() -> None:
    def fail_on_odd(n: int) -> int:
        if n % 2:
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match=r"^1$"):
        map_in_threads(fail_on_odd, range(6), 3)
