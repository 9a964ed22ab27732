"""tagmgr's loggers, made when the first record that may be shown is logged.

The command line records its verbosity here before it runs a command. A module's logger
(``log = logs.get(__name__)``) stands in for logging's: while ``logging`` is not imported, a
record below that verbosity is dropped without importing it, which cost 17 M of the 436 M
instructions of ``validate``'s start-up (callgrind) and 3.8 ms of a plan's, whose registry
client logs only at -v. The first record that may be shown imports it and installs the handler.

Outside the command line (tagmgr used as a library, or under pytest) nothing is installed and
nothing is dropped: records go wherever the host's logging configuration sends them.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

ROOT = "tagmgr"
DEBUG, INFO, WARNING = 10, 20, 30  # logging's levels
_FORMAT = "tagmgr: %(levelname)s: %(message)s"

_pending: int | None = None  # the verbosity asked for, until the handler is installed
_least_shown: int | None = None  # the lowest level the command line shows; None: not asked
_installing = threading.Lock()


def configure(verbosity: int) -> None:
    """Only tagmgr's own loggers: libraries (httpcore, git) log output and headers at debug."""
    global _pending, _least_shown  # noqa: PLW0603 - one setting per process, as logging's own are
    _pending = verbosity
    _least_shown = _level(verbosity)
    if "logging" in sys.modules:  # a tagmgr logger may exist already; installing costs nothing
        _install_pending()


class Logger:
    """A module's logger: ``logging``'s of the same name, looked up on the first record that the
    command line may show (see above). The methods are the ones tagmgr calls, with logging's
    names; a record names the line that logged it, not this class."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def isEnabledFor(self, level: int) -> bool:
        return self._enabled(level) is not None

    def debug(self, message: str, *args: object, **options: Any) -> None:
        if logger := self._enabled(DEBUG):
            logger.debug(message, *args, **_from_caller(options))

    def info(self, message: str, *args: object, **options: Any) -> None:
        if logger := self._enabled(INFO):
            logger.info(message, *args, **_from_caller(options))

    def warning(self, message: str, *args: object, **options: Any) -> None:
        if logger := self._enabled(WARNING):
            logger.warning(message, *args, **_from_caller(options))

    def _enabled(self, level: int) -> logging.Logger | None:
        """logging's logger if a record at ``level`` is to be made, else None."""
        if self._logger is None:
            if _least_shown is not None and level < _least_shown and "logging" not in sys.modules:
                return None
            self._logger = _logger(self._name)
        return self._logger if self._logger.isEnabledFor(level) else None


def _from_caller(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with one more frame to skip: the record's file and line are the caller's."""
    return {**options, "stacklevel": options.get("stacklevel", 1) + 1}


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
    """The handler, once; a thread that comes meanwhile (the first record shown may be logged
    by several reading threads at once) waits until it is in place."""
    global _pending
    with _installing:
        verbosity, _pending = _pending, None
        if verbosity is None:
            return
        import logging  # noqa: PLC0415

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        log = logging.getLogger(ROOT)
        log.handlers = [handler]
        log.setLevel(_level(verbosity))
        log.propagate = False
