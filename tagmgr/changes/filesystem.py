"""Layers stacked into a filesystem, whiteouts applied, as OCI image layers define it.

A ``Tree`` is what a stack of layers does to whatever lies below it: the records its layers
wrote, the paths they whited out (``.wh.NAME``) and the directories they made opaque
(``.wh..wh..opq``). Stacked on nothing it is the image's final filesystem. Stacked on a shared
base it can be compared without reading the base at all, when both trees touch the same paths in
the same way (``same_reach``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tagmgr.changes.records import Kind, Record


@dataclass
class LayerChanges:
    """One layer's entries, in effect once its whiteouts have been applied to the layers below."""

    records: dict[str, Record] = field(default_factory=dict)
    whiteouts: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)


class Tree:
    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.whiteouts: set[str] = set()
        self.opaque: set[str] = set()
        self._below: Counter[str] = Counter()  # how many records lie under each directory path

    def apply(self, layer: LayerChanges) -> None:
        """Put ``layer`` on top: its whiteouts remove what lies below, then its records land."""
        for path in layer.whiteouts:
            self._remove(path, itself=True)
        for path in layer.opaque:
            self._remove(path, itself=False)
        self.whiteouts |= layer.whiteouts
        self.opaque |= layer.opaque
        for path, record in layer.records.items():
            if record.kind is not Kind.DIRECTORY:
                self._remove(path, itself=False)  # a file over a directory replaces all of it
            self._put(path, self._linked(record, layer.records))

    def same_reach(self, other: Tree) -> bool:
        """Whether both trees, on any one base, leave the same base paths showing.

        Then paths neither tree wrote are equal in both results, and the records alone decide.
        """
        return (
            self.records.keys() == other.records.keys()
            and self.whiteouts == other.whiteouts
            and self.opaque == other.opaque
            and self._non_directories() == other._non_directories()
        )

    def over(self, base: Tree) -> dict[str, Record]:
        """The filesystem this tree makes of ``base``'s."""
        result = {path: record for path, record in base.records.items() if not self._hides(path)}
        for path, record in self.records.items():
            result[path] = self._linked(record, base.records)
        return result

    def _hides(self, path: str) -> bool:
        if path in self.whiteouts:
            return True
        for ancestor in _ancestors(path):
            if ancestor in self.whiteouts or ancestor in self.opaque:
                return True
            record = self.records.get(ancestor)
            if record is not None and record.kind is not Kind.DIRECTORY:
                return True
        return False

    def _non_directories(self) -> set[str]:
        return {path for path, record in self.records.items() if record.kind is not Kind.DIRECTORY}

    def _linked(self, record: Record, *places: Mapping[str, Record]) -> Record:
        """A hardlink is its target's file, once the target is known (this layer or below)."""
        if record.kind is not Kind.HARDLINK:
            return record
        for place in (*places, self.records):
            target = place.get(record.link)
            if target is not None and target.kind is not Kind.HARDLINK:
                return target
        return record

    def _put(self, path: str, record: Record) -> None:
        if path not in self.records:
            self._below.update(_ancestors(path))
        self.records[path] = record

    def _remove(self, path: str, *, itself: bool) -> None:
        if itself and self.records.pop(path, None) is not None:
            self._below.subtract(_ancestors(path))
        if self._below[path] <= 0:
            return
        prefix = f"{path}/" if path else ""
        for below in [p for p in self.records if p.startswith(prefix) and p != path]:
            del self.records[below]
            self._below.subtract(_ancestors(below))


def _ancestors(path: str) -> Iterator[str]:
    """``a/b/c`` -> ``""``, ``a``, ``a/b``: every directory above it, the root included."""
    yield ""
    parts = path.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])
