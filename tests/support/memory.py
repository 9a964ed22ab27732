"""An in-memory registry for unit tests of pure logic that reads registries.

It plays ``reconcile.readers.RegistryReaders`` and each ``RegistryReader`` at once (one store for
every host), and ``lifecycle.survey.RepositoryReader``, and records the reads it answers. The
real client is covered against real registries in tests/integration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tagmgr.errors import RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.registry import RegistryOptions
from tagmgr.registry.policy import RetryPolicy
from tests.support.oci import Image


class MemoryRegistry:
    """Tags by (repository, tag), manifests' and blobs' bytes by digest."""

    options = RegistryOptions(retry=RetryPolicy(jitter=0.0))
    registry = "registry.example"

    def __init__(self, pages: int | None = 1) -> None:
        self.tags: dict[tuple[str, str], Descriptor] = {}
        self.manifests: dict[str, tuple[Descriptor, bytes]] = {}
        self.blobs: dict[str, bytes] = {}
        self.pages = pages
        self.requests: list[str] = []

    def client(self, registry: str) -> MemoryRegistry:
        return self

    def push(self, repository: str, tag: str, image: Image) -> Descriptor:
        """``image`` tagged ``tag``, its children held untagged; returns its descriptor."""
        for manifest in image.manifests():
            held = Descriptor(manifest.media_type, manifest.digest, manifest.size)
            self.manifests[held.digest] = (held, manifest.manifest_bytes)
        self.blobs.update(image.all_blobs())
        descriptor = self.manifests[image.digest][0]
        self.tags[(repository, tag)] = descriptor
        return descriptor

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        self.requests.append(f"HEAD {repository}:{reference}")
        if reference.startswith("sha256:"):
            return self.manifests.get(reference, (None, b""))[0]
        return self.tags.get((repository, reference))

    def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        self.requests.append(f"GET {repository}:{reference}")
        tagged = self.tags.get((repository, reference))
        reference = tagged.digest if tagged is not None else reference
        if reference not in self.manifests:
            raise RegistryError(self.registry, f"GET {repository}:{reference}: 404")
        return self.manifests[reference]

    def list_tags(self, repository: str) -> list[str]:
        return self.find_tags(repository) or []

    def find_tags(self, repository: str) -> list[str] | None:
        self.requests.append(f"list {repository}")
        tags = [tag for repo, tag in self.tags if repo == repository]
        return tags or None

    def listing_pages(self, repository: str) -> int | None:
        return self.pages

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[Iterator[bytes]]:
        self.requests.append(f"GET blob {repository}:{digest}")
        if digest not in self.blobs:
            raise RegistryError(self.registry, f"GET blob {repository}:{digest}: 404")
        yield iter([self.blobs[digest]])
