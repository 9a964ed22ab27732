"""tagmgr's loggers, made when the first record that may be shown is logged.

The command line records its verbosity here before it runs a command. A module's logger
(``log = logs.get(__name__)``) is a stand-in until then: a record below that verbosity is dropped
without importing ``logging``, which cost 17 M of the 436 M instructions of ``validate``'s
start-up (callgrind) and 4 ms of a plan's, whose registry client logs only at -v. The first
record that may be shown imports it and installs the handler.

Outside the command line (tagmgr used as a library, or under pytest) nothing is installed and
nothing is dropped: records go wherever the host's logging configuration sends them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

ROOT = "tagmgr"
DEBUG, INFO, WARNING = 10, 20, 30  # logging's levels
_FORMAT = "tagmgr: %(levelname)s: %(message)s"

_pending: int | None = None  # the verbosity asked for, until the handler is installed
_least_shown: int | None = None  # the lowest level the command line shows; None: not asked


def configure(verbosity: int) -> None:
    """Only tagmgr's own loggers: libraries (httpcore, git) log output and headers at debug."""
    global _pending, _least_shown  # noqa: PLW0603 - one setting per process, as logging's own are
    _pending = verbosity
    _least_shown = _level(verbosity)
    if "logging" in sys.modules:  # a tagmgr logger may exist already; installing costs nothing
        _install_pending()


class Logger:
    """A module's logger: ``logging``'s of the same name, made on the first record that the
    command line may show (see above). The methods are the ones tagmgr calls, with logging's
    names."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def isEnabledFor(self, level: int) -> bool:
        if _least_shown is not None and level < _least_shown and "logging" not in sys.modules:
            return False
        return _logger(self._name).isEnabledFor(level)

    def debug(self, message: str, *args: object, **options: Any) -> None:
        if self.isEnabledFor(DEBUG):
            _logger(self._name).debug(message, *args, **options)

    def info(self, message: str, *args: object, **options: Any) -> None:
        if self.isEnabledFor(INFO):
            _logger(self._name).info(message, *args, **options)

    def warning(self, message: str, *args: object, **options: Any) -> None:
        if self.isEnabledFor(WARNING):
            _logger(self._name).warning(message, *args, **options)


def get(name: str) -> Logger:
    """The logger for module ``name``: ``log = logs.get(__name__)``."""
    return Logger(name)


def _logger(name: str) -> logging.Logger:
    import logging  # noqa: PLC0415 - deferred to the first record that may be shown, see above

    _install_pending()
    return logging.getLogger(name)


def _level(verbosity: int) -> int:
    return DEBUG if verbosity >= 2 else INFO if verbosity == 1 else WARNING


def _install_pending() -> None:
    global _pending
    verbosity, _pending = _pending, None  # taken first: a second thread finds nothing to do
    if verbosity is None:
        return
    import logging  # noqa: PLC0415

    level = _level(verbosity)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    log = logging.getLogger(ROOT)
    log.handlers = [handler]
    log.setLevel(level)
    log.propagate = False
