"""What one repository holds, as plain values: each manifest by digest, its tags, its children,
what it refers to, and the time that orders it.

The distribution API records no push time, so images are ordered by the newest build timestamp
in one of their tags (``master-centos-stable-20191203T153530Z.0``), else by the ``created`` time
in their config (for an index, its newest child's). An image with neither has no time: no age
rule can judge it, and expiry keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tagmgr.manifest.environments import Chain, build_time

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


class TimeSource(StrEnum):
    BUILD_TAG = "build-tag"
    CONFIG_CREATED = "config-created"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ImageTime:
    when: datetime | None
    source: TimeSource
    tag: str | None = None  # the build tag the time came from

    def __str__(self) -> str:
        if self.when is None:
            return "no time (no build timestamp in a tag, no config created)"
        stamp = self.when.strftime(RFC3339)
        if self.source is TimeSource.BUILD_TAG:
            return f"{stamp} from build tag {self.tag}"
        return f"{stamp} from config created"


@dataclass(frozen=True)
class Held:
    """One manifest in the repository."""

    digest: str
    media_type: str
    size: int
    tags: tuple[str, ...] = ()
    children: tuple[str, ...] = ()  # an index's manifests
    subject: str | None = None  # what a referrer (signature, SBOM) is about
    created: datetime | None = None  # from the config; for an index, the newest child's
    missing: tuple[str, ...] = ()  # children the registry does not hold: the index is broken

    def time(self, chain: Chain) -> ImageTime:
        found = build_time(self.tags, chain)
        if found:
            return ImageTime(found[0], TimeSource.BUILD_TAG, found[1])
        if self.created is not None:
            return ImageTime(self.created, TimeSource.CONFIG_CREATED)
        return ImageTime(None, TimeSource.UNKNOWN)


@dataclass(frozen=True)
class Holdings:
    registry: str
    repository: str
    images: Mapping[str, Held]  # by digest

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def parents_of(self, digest: str) -> list[str]:
        return sorted(d for d, held in self.images.items() if digest in held.children)

    def referrers_of(self, digest: str) -> list[str]:
        return sorted(d for d, held in self.images.items() if held.subject == digest)

    @property
    def problems(self) -> list[str]:
        """Indexes that name a child the registry does not hold (a run that deleted the child
        and failed to delete the index, say): they do not pull, and expiry says so."""
        return [
            f"{self.name}: index {held.digest} ({', '.join(held.tags) or 'no tags'}) names"
            f" {child}, which the registry does not hold: it does not pull whole"
            for _, held in sorted(self.images.items())
            for child in held.missing
        ]


def referrer_subject(tag: str) -> str | None:
    """``sha256-<hex>.sig`` (cosign's scheme; ``.att``, ``.sbom`` too) or ``sha256-<hex>`` (the
    OCI referrers tag schema) -> ``sha256:<hex>``, the image it is about; else None."""
    algorithm, dash, rest = tag.partition("-")
    hexdigits = rest.partition(".")[0]
    lengths = {"sha256": 64, "sha512": 128}
    if not dash or lengths.get(algorithm) != len(hexdigits):
        return None
    if any(c not in "0123456789abcdef" for c in hexdigits):
        return None
    return f"{algorithm}:{hexdigits}"
