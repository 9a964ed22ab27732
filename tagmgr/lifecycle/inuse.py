"""What is in use: the images something still needs, which expiry must never delete.

Every source (lock files, manifests, Kubernetes and compose files, Docker hosts, pod lists) yields
``InUse`` records; ``InUseSet`` answers "is this digest or tag in use, and by what?".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tagmgr.oci.reference import ImageReference


@dataclass(frozen=True)
class InUse:
    """One image something uses: by digest where the source knows it, else by tag.

    ``reference`` names the repository, with the tag and/or digest the source gave;
    ``where`` says which source found it, for a person: ``pods.json: default/web/nginx``.
    """

    reference: ImageReference
    where: str


class InUseSet:
    """In-use records, looked up by (registry, repository) and digest or tag."""

    def __init__(self, records: Iterable[InUse] = ()) -> None:
        self._by_digest: dict[tuple[str, str, str], list[InUse]] = {}
        self._by_tag: dict[tuple[str, str, str], list[InUse]] = {}
        for record in records:
            self.add(record)

    def add(self, record: InUse) -> None:
        ref = record.reference
        if ref.digest:
            self._by_digest.setdefault((ref.registry, ref.repository, ref.digest), []).append(
                record
            )
        if ref.tag:
            self._by_tag.setdefault((ref.registry, ref.repository, ref.tag), []).append(record)

    def uses_of_digest(self, registry: str, repository: str, digest: str) -> list[InUse]:
        return _in_order(self._by_digest.get((registry, repository, digest), []))

    def uses_of_tag(self, registry: str, repository: str, tag: str) -> list[InUse]:
        return _in_order(self._by_tag.get((registry, repository, tag), []))


def _in_order(records: list[InUse]) -> list[InUse]:
    """By reference text, then source: references without a tag or digest sort too."""
    return sorted(records, key=lambda record: (str(record.reference), record.where))
