"""``--map-registry FROM=TO`` as a value: which registry stands in for which.

A command reads it once from its command line and applies it to every reference it reads, from
files and from the command line alike, just before a registry is asked anything: a mirror stands
in for ``docker.io``, a staging registry for production. What is written back into files (pins,
derived tags) keeps the names as the files give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from tagmgr.errors import TagmgrError
from tagmgr.oci.reference import ImageReference


class RegistryMap(NamedTuple):
    """Registry hosts rewritten (``FROM -> TO``), each FROM once; empty rewrites nothing."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> RegistryMap:
        mapping = cls()
        for source, destination in pairs:
            mapping = mapping.adding(source, destination)
        return mapping

    def adding(self, source: str, destination: str) -> RegistryMap:
        """This map and ``source -> destination``; a second, different TO for one FROM is an
        error (which one was meant?)."""
        known = dict(self.pairs)
        if known.get(source, destination) != destination:
            raise TagmgrError(
                f"{source} is mapped to both {known[source]} and {destination}; give it once"
            )
        if source in known:
            return self
        return RegistryMap((*self.pairs, (source, destination)))

    def registry(self, registry: str) -> str:
        """The registry that stands in for ``registry`` (itself when none does)."""
        return dict(self.pairs).get(registry, registry)

    def apply(self, reference: ImageReference) -> ImageReference:
        """``reference`` on the registry that stands in for its own."""
        registry = self.registry(reference.registry)
        return reference if registry == reference.registry else reference.with_registry(registry)

    def __bool__(self) -> bool:
        return bool(self.pairs)


def parse_registry_pair(pair: str) -> tuple[str, str]:
    """Parse ``FROM=TO``: two registry hosts, nothing more (``docker.io=127.0.0.1:5000``).

    A path after the host is refused: tagmgr's client and skopeo would read it differently.
    """
    source, sep, destination = pair.partition("=")
    hosts = (_registry_host(source), _registry_host(destination)) if sep else None
    if hosts is None or None in hosts:
        raise TagmgrError(
            f"{pair!r}: expected FROM=TO, two registry hosts such as docker.io=127.0.0.1:5000"
        )
    return hosts[0] or "", hosts[1] or ""


def _registry_host(text: str) -> str | None:
    """``text`` normalised if it is exactly one registry host[:port], else None."""
    if "/" in text:
        return None
    try:
        return ImageReference.parse(f"{text}/probe").registry
    except TagmgrError:
        return None
