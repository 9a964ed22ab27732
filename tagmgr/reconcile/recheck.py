"""The re-check just before a creation: is its tag still absent?

A fresh ``tags/list`` of the destination repository, taken just before its first write, answers
for every tag it does not hold, and is shared by all that repository's write lanes (one listing
at a time per repository): one request per repository instead of a HEAD per creation. A tag it
does hold is HEADed, to tell a rival's tag at the planned digest from one elsewhere. A listing is
taken again once it is older than ``MAX_AGE`` seconds, so "absent" is never older than that at
the check (its age counts from when the listing was asked for, the latest moment it can reflect).

A listing costs a request per page: where its last listing (the plan's, or this run's) took at
least as many pages as creations are left to check in the repository, each is HEADed instead,
and so is every creation in a repository whose listing failed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tagmgr.errors import TagmgrError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.plan import Action, Kind

if TYPE_CHECKING:
    from tagmgr.reconcile.inventory import Repository
    from tagmgr.reconcile.readers import RegistryReaders

MAX_AGE = 1.0  # seconds a listing answers for absent tags


@dataclass
class _Listing:
    """One repository's shared listing; ``tags`` None once its creations are HEADed instead."""

    left: int
    """Creations in the repository not yet checked."""
    tags: frozenset[str] | None = frozenset()
    asked_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


class AbsenceCheck:
    """What each destination of ``actions`` holds now, for the creations about to write it."""

    def __init__(
        self,
        registries: RegistryReaders,
        actions: Sequence[Action],
        *,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registries = registries
        self._max_age = max_age
        self._clock = clock
        counts = Counter(
            _repository(action.target.destination)
            for action in actions
            if action.kind is Kind.CREATE and action.target is not None
        )
        self._listings = {repository: _Listing(left) for repository, left in counts.items()}

    def existing(self, ref: ImageReference) -> Descriptor | None:
        """What ``ref`` points at now; None if it is absent."""
        if self._listed_absent(ref):
            return None
        return self._registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))

    def _listed_absent(self, ref: ImageReference) -> bool:
        listing = self._listings.get(_repository(ref))
        if listing is None:
            return False
        with listing.lock:
            tags = self._fresh(ref, listing)
            listing.left -= 1
        return tags is not None and ref.tag not in tags

    def _fresh(self, ref: ImageReference, listing: _Listing) -> frozenset[str] | None:
        """The repository's listing, taken again if it is too old; None: HEAD instead."""
        if listing.tags is None or self._clock() - listing.asked_at <= self._max_age:
            return listing.tags
        client = self._registries.client(ref.registry)
        if (client.listing_pages(ref.repository) or 1) >= listing.left:
            listing.tags = None
            return None
        asked_at = self._clock()
        try:
            listing.tags = frozenset(client.list_tags(ref.repository))
        except TagmgrError:
            listing.tags = None  # each HEAD says why, entry by entry
            return None
        listing.asked_at = asked_at
        return listing.tags


def _repository(ref: ImageReference) -> Repository:
    return (ref.registry, ref.repository)
