"""Copying through tagmgr's own registry client: a retag costs one manifest PUT.

Same repository: the source's exact bytes are PUT under the tag (an index's children are there
already). Another repository of the same registry: each blob is mounted (streamed when the
registry will not mount), each child of an index PUT by digest, then the top under the tag.
Another registry: each blob missing there is streamed across, one chunk in memory at a time.
Every manifest is read by digest, so its bytes are checked, and every PUT's answer is checked
against what was sent: the descriptor returned is the verified result.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from tagmgr.errors import ImageFormatError, RegistryError, TagmgrError
from tagmgr.oci.content import ImageIndex, parse_manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryClient
from tagmgr.system import logs

log = logs.get(__name__)

ENTRY_DEADLINE_SECONDS = 300.0
SOURCE_MANIFESTS_KEPT = 256
WRITES_PER_REPOSITORY = 4  # concurrent manifest PUTs into one repository: docs/design.md


class Unreadable(TagmgrError):
    """A manifest whose media type or contents the api engine does not understand."""


class DeadlineExceeded(TagmgrError):
    """An entry took longer than its deadline; what was written so far is left for a re-run."""


@dataclass
class _Copy:
    """One entry's copy: where from, where to, what was done (for ``-v``), and its deadline."""

    source: RegistryClient
    source_repository: str
    destination: RegistryClient
    destination_repository: str
    deadline: float
    clock: Callable[[], float]
    entry: str
    done: dict[str, int] = field(default_factory=dict)

    def check_deadline(self) -> None:
        if self.clock() > self.deadline:
            raise DeadlineExceeded(
                f"{self.entry}: not done within {ENTRY_DEADLINE_SECONDS:g} s (deadline per "
                "entry); blobs copied so far stay, and a re-run goes on from there"
            )

    def count(self, what: str) -> None:
        self.done[what] = self.done.get(what, 0) + 1


class ApiEngine:
    """The native engine: same-registry copies never move a blob through tagmgr."""

    writes_per_repository = WRITES_PER_REPOSITORY

    def __init__(
        self,
        registries: Registries,
        *,
        deadline: float = ENTRY_DEADLINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registries = registries
        self._deadline = deadline
        self._clock = clock
        self._sources = SourceManifests()

    def copy(self, source: ImageReference, destination: ImageReference) -> Descriptor:
        if source.digest is None or destination.tag is None:
            raise RegistryError(source.registry, f"{source}: the api engine copies by digest")
        job = _Copy(
            self._registries.client(source.registry),
            source.repository,
            self._registries.client(destination.registry),
            destination.repository,
            self._clock() + self._deadline,
            self._clock,
            str(destination),
        )
        descriptor, content = self._sources.read(job.source, source.repository, source.digest)
        if (source.registry, source.repository) != (destination.registry, destination.repository):
            _copy_contents(job, descriptor, content)
        job.check_deadline()
        written = job.destination.put_manifest(
            destination.repository, destination.tag, descriptor.media_type, content
        )
        log.info("%s: %s", destination, describe_path(source, destination, job.done))
        return written


class SourceManifests:
    """Source manifests read once per run, the last ``limit`` kept.

    Many tags of one build are made at once; docker-registry's filesystem storage rewrites a
    manifest's revision link on every PUT of it, and a GET of that manifest meanwhile can get a
    500. One read per source, made before its first PUT, keeps the reads out of the way.
    """

    def __init__(self, limit: int = SOURCE_MANIFESTS_KEPT) -> None:
        self._limit = limit
        self._held: OrderedDict[tuple[str, str, str], tuple[Descriptor, bytes]] = OrderedDict()
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def read(
        self, client: RegistryClient, repository: str, digest: str
    ) -> tuple[Descriptor, bytes]:
        key = (client.registry, repository, digest)
        with self._lock:
            reading = self._locks.setdefault(key, threading.Lock())
        with reading:
            with self._lock:
                if key in self._held:
                    self._held.move_to_end(key)
                    return self._held[key]
            manifest = client.get_manifest(repository, digest)
            with self._lock:
                self._held[key] = manifest
                if len(self._held) > self._limit:
                    dropped, _ = self._held.popitem(last=False)
                    self._locks.pop(dropped, None)
            return manifest


def describe_path(source: ImageReference, destination: ImageReference, done: dict[str, int]) -> str:
    """Which path a copy took, for ``-v``."""
    if (source.registry, source.repository) == (destination.registry, destination.repository):
        where = "same repository"
    elif source.registry == destination.registry:
        where = f"from {source.repository} (same registry)"
    else:
        where = f"from {source.registry}"
    counts = [f"{n} {what}" for what, n in sorted(done.items())]
    return f"api engine, {where}: " + ", ".join([*counts, "manifest PUT"])


def _copy_contents(job: _Copy, descriptor: Descriptor, content: bytes) -> None:
    """Everything a manifest needs, in the destination, before the manifest itself."""
    what = f"manifest {job.source.registry}/{job.source_repository}@{descriptor.digest}"
    try:
        manifest = parse_manifest(content, descriptor.media_type, what)
    except ImageFormatError as error:
        raise Unreadable(f"{job.entry}: {error}; use --engine skopeo") from error
    if manifest is None:
        raise Unreadable(
            f"{job.entry}: the api engine cannot copy a {descriptor.media_type or 'untyped'} "
            "manifest to another repository; use --engine skopeo"
        )
    if isinstance(manifest, ImageIndex):
        _copy_children(job, manifest)
        return
    for blob in manifest.blobs:
        job.check_deadline()
        _copy_blob(job, blob)


def _copy_children(job: _Copy, index: ImageIndex) -> None:
    for child in (entry.digest for entry in index.manifests):
        job.check_deadline()
        child_descriptor, child_content = job.source.get_manifest(job.source_repository, child)
        _copy_contents(job, child_descriptor, child_content)
        job.destination.put_manifest(
            job.destination_repository, child, child_descriptor.media_type, child_content
        )
        job.count("child manifests PUT")


def _copy_blob(job: _Copy, digest: str) -> None:
    same_registry = job.source is job.destination
    if same_registry and job.destination.mount_blob(
        job.destination_repository, digest, job.source_repository
    ):
        job.count("blobs mounted")
        return
    if (
        not same_registry
        and job.destination.head_blob(job.destination_repository, digest) is not None
    ):
        job.count("blobs present")
        return
    with job.source.open_blob(job.source_repository, digest) as chunks:
        job.destination.upload_blob(job.destination_repository, digest, chunks)
    job.count("blobs streamed")
