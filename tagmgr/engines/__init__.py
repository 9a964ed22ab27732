"""Copy engines: one Protocol, a table of names to implementations.

An engine copies the manifest a source reference points at, and everything it refers to, to a
destination tag, preserving the manifest's bytes and so its digest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tagmgr.descriptor import Descriptor
from tagmgr.engines.api import ApiEngine
from tagmgr.engines.auto import AutoEngine
from tagmgr.engines.skopeo import SkopeoEngine
from tagmgr.reference import ImageReference
from tagmgr.registry import Registries


class CopyEngine(Protocol):
    writes_per_repository: int
    """How many copies into one repository may run at once."""

    def copy(self, source: ImageReference, destination: ImageReference) -> Descriptor | None:
        """Make ``destination`` point at exactly what ``source`` points at; raise TagmgrError.

        Returns what was written when the registry's answers verified it, else None (the caller
        reads the tag back).
        """


ENGINES: dict[str, Callable[[Registries], CopyEngine]] = {
    "api": ApiEngine,
    "auto": AutoEngine,
    "skopeo": SkopeoEngine,
}
