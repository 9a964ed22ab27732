"""What reconciling reads from registries, as Protocols.

``registry.Registries`` and its ``RegistryClient`` satisfy them; a unit test of the inventory,
the re-check or the applier substitutes an in-memory registry for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tagmgr.oci.descriptor import Descriptor
    from tagmgr.registry import RegistryOptions


class RegistryReader(Protocol):
    """One registry's tags and manifests, read."""

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None: ...

    def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]: ...

    def list_tags(self, repository: str) -> list[str]: ...

    def find_tags(self, repository: str) -> list[str] | None:
        """The repository's tags; None when the registry knows no such repository."""

    def listing_pages(self, repository: str) -> int | None:
        """How many pages the last complete listing of ``repository`` took; None if none."""


class RegistryReaders(Protocol):
    """A reader per registry host, and the options they were made with."""

    @property
    def options(self) -> RegistryOptions: ...

    def client(self, registry: str) -> RegistryReader: ...
