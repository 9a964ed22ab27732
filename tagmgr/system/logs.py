"""tagmgr's loggers, set up when the first one is made.

The command line records its verbosity here before it runs a command; the handler is installed
then if a tagmgr logger exists already, else when a module asks for its logger. A command whose
modules never log (``validate``, which a pre-commit hook runs on every commit) never imports
``logging``, which was 17 M of the 436 M instructions of its start-up (callgrind).

Outside the command line (tagmgr used as a library, or under pytest) nothing is installed:
records go wherever the host's logging configuration sends them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

ROOT = "tagmgr"
_FORMAT = "tagmgr: %(levelname)s: %(message)s"

_pending: int | None = None  # the verbosity asked for, until the handler is installed


def configure(verbosity: int) -> None:
    """Only tagmgr's own loggers: libraries (httpcore, git) log output and headers at debug."""
    global _pending  # noqa: PLW0603 - one setting per process, as logging's own are
    _pending = verbosity
    if "logging" in sys.modules:  # a tagmgr logger may exist already; installing costs nothing
        _install_pending()


def get(name: str) -> logging.Logger:
    """The logger for module ``name``: ``log = logs.get(__name__)``."""
    import logging  # noqa: PLC0415 - deferred to the first module that logs, see above

    _install_pending()
    return logging.getLogger(name)


def _install_pending() -> None:
    global _pending
    verbosity, _pending = _pending, None  # taken first: a second thread finds nothing to do
    if verbosity is None:
        return
    import logging  # noqa: PLC0415

    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    log = logging.getLogger(ROOT)
    log.handlers = [handler]
    log.setLevel(level)
    log.propagate = False
