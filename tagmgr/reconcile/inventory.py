"""What the registries hold: one ``tags/list`` per repository, then HEADs for tags that exist.

Tags absent from the listing need no request of their own, so checking a manifest of many new tags
costs one request per repository rather than one per tag; a reference many entries share is
looked up once. ``--trust-existing`` spares the HEADs of listed destinations too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tagmgr.errors import TagmgrError
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Inventory, Lookup
from tagmgr.reconcile.readers import RegistryReaders
from tagmgr.reconcile.resolve import Resolution, with_children
from tagmgr.reconcile.targets import Resolved, Target
from tagmgr.system.concurrency import map_in_threads

Repository = tuple[str, str]  # (registry, repository name)
TagListing = frozenset[str] | None | TagmgrError
"""A repository's tags; None when the registry knows no such repository."""


class Tally(Protocol):
    """Counts the reads as they are done (``report.progress`` draws them on a terminal).
    ``expect`` adds reads as they become known: each repository's references, once listed.
    Both are called from the reading threads, several at once."""

    def expect(self, count: int) -> None: ...

    def advance(self, what: str = "") -> None: ...


class _Uncounted:
    def expect(self, count: int) -> None:
        pass

    def advance(self, what: str = "") -> None:
        pass


UNCOUNTED: Tally = _Uncounted()


def take_inventory(
    resolved: Sequence[Resolved],
    registries: RegistryReaders,
    *,
    jobs: int,
    trust_existing: bool = False,
    tally: Tally = UNCOUNTED,
) -> Inventory:
    """Each repository listed once, each reference looked up at most once.

    Each registry is read on threads of its own (up to ``jobs``), all registries at once: one
    that hangs holds up its own entries, for as long as the registry's time budget, and never
    another registry's. With ``trust_existing``, a destination its repository lists is taken as
    present unread, and a source only such destinations need is not read either.
    """
    by_registry: dict[str, list[Target]] = {}
    for item in resolved:
        if isinstance(item, Target):
            by_registry.setdefault(item.destination.registry, []).append(item)
    parts = map_in_threads(
        lambda targets: _registry_inventory(targets, registries, jobs, trust_existing, tally),
        list(by_registry.values()),
        len(by_registry),
    )
    return {ref: lookup for part in parts for ref, lookup in part.items()}


def _registry_inventory(
    targets: Sequence[Target],
    registries: RegistryReaders,
    jobs: int,
    trust_existing: bool,
    tally: Tally,
) -> dict[ImageReference, Lookup]:
    repositories = sorted(
        {(ref.registry, ref.repository) for t in targets for ref in (t.source, t.destination)}
    )
    tally.expect(len(repositories))

    def list_tags(repository: Repository) -> TagListing:
        listing = _list_tags(registries, repository)
        tally.advance("/".join(repository))
        return listing

    listings = dict(zip(repositories, map_in_threads(list_tags, repositories, jobs), strict=True))
    trusted = {
        t.destination for t in targets if trust_existing and _listed(listings, t.destination)
    }
    references = sorted(
        {ref for t in targets if t.destination not in trusted for ref in (t.source, t.destination)},
        key=str,  # a source given by digest has no tag to compare
    )

    tally.expect(sum(_asks(ref, listings[(ref.registry, ref.repository)]) for ref in references))

    def look_up(ref: ImageReference) -> Lookup:
        listing = listings[(ref.registry, ref.repository)]
        lookup = _look_up(registries, ref, listing)
        if _asks(ref, listing):
            tally.advance(str(ref))
        return lookup

    inventory = dict(zip(references, map_in_threads(look_up, references, jobs), strict=True))
    for target in targets:
        if target.pinned is not None and target.source in inventory:
            inventory[target.source] = _with_pinned_children(
                registries, target, inventory[target.source]
            )
    # A trusted destination that is another entry's source keeps what its HEAD found for that.
    inventory.update({ref: inventory.get(ref, Lookup())._replace(trusted=True) for ref in trusted})
    return inventory


def _listed(listings: dict[Repository, TagListing], ref: ImageReference) -> bool:
    listing = listings[(ref.registry, ref.repository)]
    return isinstance(listing, frozenset) and ref.tag in listing


def _list_tags(registries: RegistryReaders, repository: Repository) -> TagListing:
    registry, name = repository
    try:
        found = registries.client(registry).find_tags(name)
    except TagmgrError as error:
        return error
    return None if found is None else frozenset(found)


def _asks(ref: ImageReference, listing: TagListing) -> bool:
    """Whether looking ``ref`` up takes a request: the listing answers for a tag it lacks."""
    return isinstance(listing, frozenset) and (ref.digest is not None or ref.tag in listing)


def _look_up(registries: RegistryReaders, ref: ImageReference, listing: TagListing) -> Lookup:
    if not _asks(ref, listing):
        return _unasked(ref, listing)
    try:
        client = registries.client(ref.registry)
        descriptor = client.head_manifest(ref.repository, ref.digest or str(ref.tag))
    except TagmgrError as error:
        return Lookup(error=str(error))
    return Lookup(descriptor) if descriptor is not None else _absent(ref)


def _unasked(ref: ImageReference, listing: TagListing) -> Lookup:
    """What the listing alone says of ``ref``."""
    if isinstance(listing, TagmgrError):
        return Lookup(error=str(listing))
    if listing is None:
        return Lookup(missing=f"the registry has no repository {ref.repository}")
    return _absent(ref)


def _absent(ref: ImageReference) -> Lookup:
    return Lookup(missing=f"{ref.repository} has no {_part(ref)}")


def _part(ref: ImageReference) -> str:
    return f"manifest {ref.digest}" if ref.digest else f"tag {ref.tag}"


def _with_pinned_children(registries: RegistryReaders, target: Target, lookup: Lookup) -> Lookup:
    """A pinned source that resolved to another index gets that index's children: the pin may
    name one of them, which the plan reports as such."""
    descriptor = lookup.descriptor
    if target.pinned is None or descriptor is None or descriptor.digest == target.pinned:
        return lookup
    client = registries.client(target.source.registry)
    found = with_children(client, Resolution(target.source, descriptor))
    if found.error is not None:
        return Lookup(error=found.error)
    return lookup._replace(children={c.digest: c.platform_name for c in found.children})
