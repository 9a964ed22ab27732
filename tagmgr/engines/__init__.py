"""Copy engines: one Protocol, a table of names to implementations.

An engine copies the manifest a source reference points at, and everything it refers to, to a
destination tag, preserving the manifest's bytes and so its digest.

Importing this package stays light (``engines.names`` is read to build the command line): each
engine's module, and the registry client, is imported by its factory in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tagmgr.oci.descriptor import Descriptor
    from tagmgr.oci.reference import ImageReference
    from tagmgr.registry import Registries


class CopyEngine(Protocol):
    writes_per_repository: int
    """How many copies into one repository may run at once."""

    def copy(self, source: ImageReference, destination: ImageReference) -> Descriptor | None:
        """Make ``destination`` point at exactly what ``source`` points at; raise TagmgrError.

        Returns what was written when the registry's answers verified it, else None (the caller
        reads the tag back).
        """


def _api(registries: Registries) -> CopyEngine:
    from tagmgr.engines.api import ApiEngine  # noqa: PLC0415

    return ApiEngine(registries)


def _auto(registries: Registries) -> CopyEngine:
    from tagmgr.engines.auto import AutoEngine  # noqa: PLC0415

    return AutoEngine(registries)


def _docker(registries: Registries) -> CopyEngine:
    from tagmgr.engines.docker import DockerEngine  # noqa: PLC0415

    return DockerEngine(registries)


def _skopeo(registries: Registries) -> CopyEngine:
    from tagmgr.engines.skopeo import SkopeoEngine  # noqa: PLC0415

    return SkopeoEngine(registries)


ENGINES: dict[str, Callable[[Registries], CopyEngine]] = {
    "api": _api,
    "auto": _auto,
    "docker": _docker,
    "skopeo": _skopeo,
}
