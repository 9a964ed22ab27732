"""``--in-use`` values to in-use records: one dispatcher for every kind of source.

A value with a scheme (``docker://``, ``docker://HOST``) goes to the reader registered for that
scheme in ``SCHEMES``; anything else is a file, read once, and handed to the first reader in
``FILE_READERS`` whose test accepts its documents. A new source is a line in one of the two
tables. A file no reader accepts is an error: expiry never guesses that nothing is in use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tagmgr.documents.located import LocatedDocument
from tagmgr.documents.yamlfile import load_documents
from tagmgr.errors import Location, ManifestError, Problem
from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.lifecycle.inusefiles import images_in_use, is_manifest, manifest_in_use
from tagmgr.lifecycle.runtime import docker_in_use, is_pod_list, pods_in_use
from tagmgr.lock import LOCK_FORMAT, read_lock
from tagmgr.oci.registrymap import RegistryMap

Documents = list[LocatedDocument]


@dataclass(frozen=True)
class FileReader:
    kind: str
    accepts: Callable[[Documents], bool]
    read: Callable[[str, Documents], list[InUse]]


def _is_lock(documents: Documents) -> bool:
    data = documents[0].data if len(documents) == 1 else None
    return isinstance(data, dict) and data.get("format") == LOCK_FORMAT


def lock_in_use(path: Path) -> list[InUse]:
    """Every (reference, digest) the lock at ``path`` names, each reference carrying its digest."""
    return [
        InUse(reference._replace(digest=digest), f"{path}: {reference}")
        for reference, digest in read_lock(path).references()
    ]


def _lock_in_use(path: str, _documents: Documents) -> list[InUse]:
    return lock_in_use(Path(path))


FILE_READERS: tuple[FileReader, ...] = (
    FileReader("tagmgr lock file", _is_lock, _lock_in_use),
    FileReader("tagmgr manifest", is_manifest, manifest_in_use),
    FileReader("kubectl pod list", is_pod_list, pods_in_use),
    FileReader("Kubernetes, compose or Helm YAML", lambda _docs: True, images_in_use),
)
SCHEMES: dict[str, Callable[[str], list[InUse]]] = {"docker": docker_in_use}


def read_in_use(values: Sequence[str], registry_map: RegistryMap | None = None) -> InUseSet:
    """Every source's records, ``registry_map`` (``--map-registry``) applied to each reference;
    all files' problems reported together."""
    records: list[InUse] = []
    problems: list[Problem] = []
    for value in values:
        try:
            records += read_source(value)
        except ManifestError as error:
            problems += error.problems
    if problems:
        raise ManifestError(problems)
    mapping = registry_map or RegistryMap()
    return InUseSet(replace(r, reference=mapping.apply(r.reference)) for r in records)


def read_source(value: str) -> list[InUse]:
    scheme, separator, _ = value.partition("://")
    if separator and scheme in SCHEMES:
        return SCHEMES[scheme](value)
    if separator:
        known = ", ".join(f"{name}://" for name in sorted(SCHEMES))
        problem = f"unknown in-use source scheme {scheme}:// (known: {known})"
        raise ManifestError([Problem(Location(value, 1, 1), "", problem)])
    documents = load_documents(value)
    reader = next(r for r in FILE_READERS if r.accepts(documents))
    records = reader.read(value, documents)
    if not records:
        problem = f"read as {reader.kind}, it names no image; is it the right file?"
        raise ManifestError([Problem(Location(value, 1, 1), "", problem)])
    return records
