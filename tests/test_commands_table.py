"""The command line's static tables agree with what they stand for."""

from __future__ import annotations

from tagmgr.engines import ENGINES
from tagmgr.engines.names import ENGINE_NAMES


def test_engine_names_are_the_engine_table() -> None:
    assert tuple(sorted(ENGINES)) == ENGINE_NAMES
