"""Planning is pure: targets plus what the registries hold in, a list of actions out.

Nothing here does I/O, so a plan can be printed, tested and reviewed before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from tagmgr import exitcodes
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.targets import Resolved, Target, Unresolved


class Kind(StrEnum):
    CREATE = "create"
    PRESENT = "present"
    CONFLICT = "conflict"
    MISSING_SOURCE = "missing-source"
    ERROR = "error"


FAILED_KINDS = frozenset({Kind.CONFLICT, Kind.MISSING_SOURCE, Kind.ERROR})
TRUSTED = "listed by the registry; not compared (--trust-existing)"


class Lookup(NamedTuple):
    """What a registry said about one reference: a descriptor, absent (None), or an error."""

    descriptor: Descriptor | None = None
    error: str | None = None
    children: Mapping[str, str] = MappingProxyType({})  # an index's: digest -> platform
    trusted: bool = False
    """Listed by the registry and, under ``--trust-existing``, taken as present unread."""
    missing: str = ""
    """Why it is absent, when known: its repository, or its tag in the repository."""


Inventory = Mapping[ImageReference, Lookup]


class Action(NamedTuple):
    kind: Kind
    item: Resolved
    source: Descriptor | None = None
    existing: Descriptor | None = None
    message: str = ""

    @property
    def target(self) -> Target | None:
        return self.item if isinstance(self.item, Target) else None


def plan(resolved: Sequence[Resolved], inventory: Inventory) -> list[Action]:
    return [plan_one(item, inventory) for item in resolved]


def plan_one(item: Resolved, inventory: Inventory) -> Action:
    if isinstance(item, Unresolved):
        return Action(Kind.ERROR, item, message=item.message)
    existing = inventory[item.destination]
    if existing.trusted:
        return Action(Kind.PRESENT, item, message=TRUSTED)
    return _compare(item, inventory[item.source], existing)


def _compare(item: Target, source: Lookup, existing: Lookup) -> Action:
    error = source.error or existing.error
    if error:
        return Action(Kind.ERROR, item, source.descriptor, existing.descriptor, error)
    if source.descriptor is None or _pin_broken(item, source.descriptor):
        return _source_refused(item, source, existing)
    if existing.descriptor is None:
        return Action(Kind.CREATE, item, source.descriptor)
    if existing.descriptor.digest == source.descriptor.digest:
        return Action(Kind.PRESENT, item, source.descriptor, existing.descriptor)
    return Action(
        Kind.CONFLICT,
        item,
        source.descriptor,
        existing.descriptor,
        f"{item.destination} already points at {existing.descriptor.digest}, "
        f"not {source.descriptor.digest}; an existing tag is never moved",
    )


def _pin_broken(item: Target, source: Descriptor) -> bool:
    return item.pinned is not None and source.digest != item.pinned


def _source_refused(item: Target, source: Lookup, existing: Lookup) -> Action:
    """A source that is missing, or no longer the digest the manifest pinned."""
    if source.descriptor is None or item.pinned is None:
        why = f": {source.missing}" if source.missing else ""
        return Action(Kind.MISSING_SOURCE, item, message=f"{item.source} does not exist{why}")
    message = _pin_mismatch(item, item.pinned, source.descriptor.digest, source.children)
    return Action(Kind.ERROR, item, source.descriptor, existing.descriptor, message)


def _pin_mismatch(item: Target, pinned: str, actual: str, children: Mapping[str, str]) -> str:
    platform = children.get(pinned)
    if platform is not None:
        return (
            f"src_digest {pinned} is the {platform} manifest inside the index {item.source} "
            f"points at, not the index; pin the index digest {actual} so that every platform "
            "gets the tag; refused, nothing written"
        )
    return (
        f"{item.source} points at {actual}, not src_digest {pinned}: the source was rebuilt "
        "or changed since it was reviewed; refused, nothing written"
    )


def plan_exit_code(actions: Sequence[Action]) -> int:
    """0 nothing to do, 2 changes pending, 1 when anything failed (conflicts included)."""
    if any(a.kind in FAILED_KINDS for a in actions):
        return exitcodes.FAILURE
    pending = any(a.kind is Kind.CREATE for a in actions)
    return exitcodes.CHANGES_PENDING if pending else exitcodes.OK
