"""What applying did to each entry, and the exit code that says it: the applier's results, which
the reporters render without importing the applier."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from tagmgr import exitcodes

if TYPE_CHECKING:
    from tagmgr.reconcile.plan import Action


class Result(StrEnum):
    CREATED = "created"
    PRESENT = "present"
    FAILED = "failed"
    CONFLICT = "conflict"
    NOT_STARTED = "not-started"


FAILED_RESULTS = frozenset({Result.FAILED, Result.CONFLICT, Result.NOT_STARTED})


class Outcome(NamedTuple):
    action: Action
    result: Result
    message: str = ""


def apply_exit_code(outcomes: Sequence[Outcome]) -> int:
    failed = any(o.result in FAILED_RESULTS for o in outcomes)
    return exitcodes.FAILURE if failed else exitcodes.OK
