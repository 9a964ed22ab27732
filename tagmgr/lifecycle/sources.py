"""``--in-use`` values to in-use records: one dispatcher for every kind of source.

A value with a scheme (``docker://``, ``docker://HOST``) goes to the reader registered for that
scheme in ``SCHEMES``; anything else is a file, read once through the finder's reader. A tagmgr
lock file or manifest goes to its own reader in ``FILE_READERS``; every other file's references
are the ones the one finder (``tagmgr.filerefs``, pin-refs' too) finds in it, and a pod list adds
what its containers run. A new source is a line in one of the two tables. A file naming no image
is an error: expiry never guesses that nothing is in use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from tagmgr.documents.located import LocatedDocument
from tagmgr.documents.textfile import BOM
from tagmgr.documents.yamldoc import TOOL_RULES, parse_yaml_documents
from tagmgr.errors import DocumentError, Location, Problem
from tagmgr.filerefs.find import find_references, read_file
from tagmgr.lifecycle.inuse import InUse, InUseSet
from tagmgr.lifecycle.inusefiles import is_manifest, manifest_in_use, references_in_use
from tagmgr.lifecycle.runtime import docker_in_use, is_pod_list, pods_running
from tagmgr.lock import LOCK_FORMAT, read_lock
from tagmgr.oci.registrymap import RegistryMap

Documents = list[LocatedDocument]


@dataclass(frozen=True)
class FileReader:
    """A kind of file read as a document; ``references`` when the finder's references in it
    count too."""

    kind: str
    accepts: Callable[[Documents], bool]
    read: Callable[[str, Documents], list[InUse]]
    references: bool = False


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


def _none(_path: str, _documents: Documents) -> list[InUse]:
    return []


FILE_READERS: tuple[FileReader, ...] = (
    FileReader("tagmgr lock file", _is_lock, _lock_in_use),
    FileReader("tagmgr manifest", is_manifest, manifest_in_use),
    FileReader("kubectl pod list", is_pod_list, pods_running, references=True),
    FileReader("a file of image references", lambda _docs: True, _none, references=True),
)
SCHEMES: dict[str, Callable[[str], list[InUse]]] = {"docker": docker_in_use}


def read_in_use(values: Sequence[str], registry_map: RegistryMap | None = None) -> InUseSet:
    """Every source's records, ``registry_map`` (``--map-registry``) applied to each reference;
    all files' problems reported together."""
    records = _all_or_every_problem([partial(read_source, value) for value in values])
    mapping = registry_map or RegistryMap()
    return InUseSet(replace(r, reference=mapping.apply(r.reference)) for r in records)


def read_source(value: str) -> list[InUse]:
    scheme, separator, _ = value.partition("://")
    if separator and scheme in SCHEMES:
        return SCHEMES[scheme](value)
    if separator:
        known = ", ".join(f"{name}://" for name in sorted(SCHEMES))
        problem = f"unknown in-use source scheme {scheme}:// (known: {known})"
        raise DocumentError([Problem(Location(value, 1, 1), "", problem)])
    text = read_file(value, regular_only=False)  # <(kubectl get pods -o json) is a pipe
    if isinstance(text, Problem):
        raise DocumentError([text])
    documents = _documents(value, text)
    reader = next(r for r in FILE_READERS if r.accepts(documents))
    readings: list[Callable[[], list[InUse]]] = [partial(reader.read, value, documents)]
    if reader.references:
        readings.append(lambda: references_in_use(find_references(value, text)))
    records = _all_or_every_problem(readings)
    if not records:
        problem = f"read as {reader.kind}, it names no image; is it the right file?"
        raise DocumentError([Problem(Location(value, 1, 1), "", problem)])
    return records


def _documents(path: str, text: str) -> Documents:
    """The file as YAML documents, for the readers that take one; none when it is not YAML."""
    documents = parse_yaml_documents(path, text.removeprefix(BOM), TOOL_RULES)
    return [] if any(doc.problems for doc in documents) else documents


def _all_or_every_problem(readings: Sequence[Callable[[], list[InUse]]]) -> list[InUse]:
    """Every reading's records, or every reading's problems at once."""
    records: list[InUse] = []
    problems: list[Problem] = []
    for reading in readings:
        try:
            records += reading()
        except DocumentError as error:
            problems += error.problems
    if problems:
        raise DocumentError(problems)
    return records
