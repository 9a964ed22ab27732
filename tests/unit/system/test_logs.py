"""The command line's verbosity reaches tagmgr's loggers however late they are made, and a
command that never logs never imports logging. Each case runs in a fresh interpreter, since
this one imported logging long ago."""

from __future__ import annotations

import subprocess
import sys

import pytest

# configure() before or after the first logger; the record is the retry layer's own, at INFO.
PROBE = """
import sys
from tagmgr.system import logs
order = sys.argv[1]
if order == "logger-first":
    from tagmgr.registry import retry
logs.configure(int(sys.argv[2]))
print("logging" in sys.modules, file=sys.stderr)
from tagmgr.registry import retry
retry.log.info("shown at -v")
retry.log.warning("always shown")
"""


def run_probe(order: str, verbosity: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, order, str(verbosity)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stderr.splitlines()


@pytest.mark.parametrize("order", ["configure-first", "logger-first"])
def test_verbosity_reaches_loggers_made_before_or_after(order: str) -> None:
    imported_yet = "True" if order == "logger-first" else "False"
    assert run_probe(order, 1) == [
        imported_yet,
        "tagmgr: INFO: shown at -v",
        "tagmgr: WARNING: always shown",
    ]
    assert run_probe(order, 0) == [imported_yet, "tagmgr: WARNING: always shown"]
