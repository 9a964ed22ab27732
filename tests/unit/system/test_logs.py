"""The command line's verbosity reaches tagmgr's loggers however late they are made, and a
command that never logs never imports logging. Each case runs in a fresh interpreter, since
this one imported logging long ago."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys

import pytest

from tagmgr.registry import retry
from tagmgr.system import logs

# configure() before or after the first logger; the record is the retry layer's own, at INFO.
# Before each record: whether logging has been imported yet.
PROBE = """
import sys
from tagmgr.system import logs
order = sys.argv[1]
if order == "logger-first":
    from tagmgr.registry import retry
logs.configure(int(sys.argv[2]))
from tagmgr.registry import retry
print("logging" in sys.modules, file=sys.stderr)
retry.log.info("shown at -v")
print("logging" in sys.modules, file=sys.stderr)
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
    assert run_probe(order, 1) == [
        "False",
        "tagmgr: INFO: shown at -v",
        "True",
        "tagmgr: WARNING: always shown",
    ]


@pytest.mark.parametrize("order", ["configure-first", "logger-first"])
def test_a_record_not_shown_does_not_import_logging(order: str) -> None:
    """At the default verbosity an INFO record is dropped as it is made (logging was 4 ms of a
    plan's start-up); the first record shown imports it."""
    assert run_probe(order, 0) == ["False", "False", "tagmgr: WARNING: always shown"]


@pytest.fixture
def host_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """tagmgr's logger as a host that uses logging has it, whatever an in-process CLI run left."""
    tagmgr_logger = logging.getLogger(logs.ROOT)
    monkeypatch.setattr(tagmgr_logger, "handlers", [])
    monkeypatch.setattr(tagmgr_logger, "propagate", True)


@pytest.mark.usefixtures("host_logging")
def test_in_a_host_that_uses_logging_every_record_goes_to_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """tagmgr as a library (here under pytest, which imported logging): nothing is dropped, the
    host's configuration decides."""
    with caplog.at_level(logs.DEBUG, logger="tagmgr.registry.retry"):
        retry.log.debug("a debug record")
    assert [r.getMessage() for r in caplog.records] == ["a debug record"]


@pytest.mark.usefixtures("host_logging")
def test_a_record_names_the_line_that_logged_it(caplog: pytest.LogCaptureFixture) -> None:
    """Not the stand-in's method: a host's format may show the file, function and line."""
    with caplog.at_level(logs.DEBUG, logger="tagmgr.registry.retry"):
        retry.log.warning("here")
        line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    (record,) = caplog.records
    assert (record.filename, record.funcName, record.lineno) == (
        "test_logs.py",
        "test_a_record_names_the_line_that_logged_it",
        line,
    )
