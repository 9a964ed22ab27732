"""Copy engines: one Protocol, a table of names to implementations.

An engine copies the manifest a source reference points at, and everything it refers to, to a
destination tag, preserving the manifest's bytes and so its digest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tagmgr.engines.docker import DockerEngine
from tagmgr.engines.skopeo import SkopeoEngine
from tagmgr.reference import ImageReference
from tagmgr.registry import Registries


class CopyEngine(Protocol):
    def copy(self, source: ImageReference, destination: ImageReference) -> None:
        """Make ``destination`` point at exactly what ``source`` points at; raise TagmgrError."""


ENGINES: dict[str, Callable[[Registries], CopyEngine]] = {
    "skopeo": SkopeoEngine,
    "docker": DockerEngine,
}
