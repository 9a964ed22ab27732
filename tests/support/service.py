"""A server a test fixture starts and stops: a context manager around ``start`` and ``stop``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """Entering starts, leaving stops, and a start that fails stops what it had begun."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Undo whatever ``_start`` got done; safe to call twice."""
        raise NotImplementedError
