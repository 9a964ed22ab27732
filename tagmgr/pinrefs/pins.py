"""Deciding, without I/O, what each found reference should become.

A reference naming an entry's repository with the entry's build tag, or with a floating tag
(none, or a tag with a ``latest`` word, such as ``master-centos-stable-latest``), becomes the
entry's stable tag, and with ``--digest`` also ``@`` the index digest. Anything else about a
known repository is listed as unresolvable, never guessed: an unknown tag, a repository with
several entries and a floating tag, a digest that no entry names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tagmgr.errors import Location
from tagmgr.filerefs.site import Site
from tagmgr.oci.reference import ImageReference

_LATEST_WORD = re.compile(r"(?:^|[-._])latest(?:$|[-._])")


@dataclass(frozen=True)
class Pin:
    """One entry as pin-refs sees it: ``name:tag`` is where references should point."""

    name: ImageReference  # registry and repository only
    tag: str
    build_tags: frozenset[str]
    digest: str | None  # the index (or manifest) digest of name:tag, when known

    @classmethod
    def of(cls, target: ImageReference, source: ImageReference, digest: str | None) -> Pin:
        """The pin for an entry making ``target`` (name:tag) from ``source``."""
        builds = frozenset({source.tag} if source.tag else ())
        return cls(target.repository_only, str(target.tag), builds, digest)


@dataclass(frozen=True)
class Change:
    site: Site
    tag: str
    digest: str | None


@dataclass(frozen=True)
class Unresolvable:
    """A reference pin-refs cannot move, or a place that names an image it cannot read."""

    location: Location
    written: str
    message: str

    @classmethod
    def at(cls, site: Site, message: str) -> Unresolvable:
        return cls(site.location, site.written, message)


SiteDecision = Change | Unresolvable


def is_floating(tag: str | None) -> bool:
    return tag is None or bool(_LATEST_WORD.search(tag))


class PinTable:
    """The pins by repository. ``digests_known`` is False when no registry was asked for the
    digests (``--manifest`` without ``--digest``), so a missing one says nothing of the image."""

    def __init__(self, pins: Iterable[Pin], *, digests_known: bool = True) -> None:
        self.digests_known = digests_known
        self._by_name: dict[tuple[str, str], list[Pin]] = {}
        for pin in pins:
            self._by_name.setdefault((pin.name.registry, pin.name.repository), []).append(pin)

    def decide(self, site: Site, *, with_digest: bool) -> SiteDecision | None:
        """What ``site`` should become; None when it is fine as it is or names no entry."""
        ref = site.reference
        pins = self._by_name.get((ref.registry, ref.repository))
        if not pins:
            return None
        chosen = _choose(pins, ref)
        if isinstance(chosen, str):
            return Unresolvable.at(site, chosen)
        digest = chosen.digest if (with_digest or ref.digest) else None
        if (with_digest or ref.digest) and digest is None:
            return Unresolvable.at(site, self._no_digest(chosen))
        if (ref.tag, ref.digest) == (chosen.tag, digest):
            return None
        return Change(site, chosen.tag, digest)

    def _no_digest(self, pin: Pin) -> str:
        if self.digests_known:
            return f"no digest known for {pin.name}:{pin.tag}: it does not exist yet"
        return (
            f"carries a digest; without --digest no registry is asked for the digest of"
            f" {pin.name}:{pin.tag}, so give --digest"
        )


def _choose(pins: Sequence[Pin], ref: ImageReference) -> Pin | str:
    """The entry ``ref`` means, or why that cannot be told."""
    named = [
        p for p in pins if ref.tag is not None and (ref.tag == p.tag or ref.tag in p.build_tags)
    ]
    if ref.tag is None and ref.digest is not None:
        named = [p for p in pins if p.digest == ref.digest]
        if not named:
            return f"pinned to {ref.digest}, which no entry's tag points at"
    tags = ", ".join(sorted(p.tag for p in pins))
    if len(named) == 1:
        return named[0]
    if named:
        return f"{ref} matches several entries ({tags}); cannot tell which one is meant"
    if not is_floating(ref.tag):
        return f"tag {ref.tag!r} is neither a build tag nor a stable tag of {pins[0].name} ({tags})"
    if len(pins) > 1:
        return (
            f"floating tag of {pins[0].name}, which has several entries ({tags}); cannot tell which"
        )
    return pins[0]
