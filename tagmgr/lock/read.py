"""Lock files in: JSON read with line marks, checked against ``schemas/lock.schema.json``.

A lock is JSON, which is YAML: read as every reviewed file is (``documents.loader``), each value
has its line and column, so a hand-edited or truncated lock is reported where it went wrong, never
as a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tagmgr.documents.loader import DocumentKind, load_valid
from tagmgr.documents.located import LocatedDocument
from tagmgr.documents.schema import Described
from tagmgr.documents.yamldoc import MANIFEST_RULES
from tagmgr.errors import InvalidReferenceError, LockError, Problem
from tagmgr.lock.model import Lock, LockedPlatform, LockedUpstream, LockEntry
from tagmgr.manifest.explain import missing_key
from tagmgr.oci.reference import ImageReference

SCHEMA_PATH = Path(__file__).with_name("lock.schema.json")
MAX_LOCK_BYTES = 16 * 1024 * 1024


class _LockWords(Described):
    """A refused value is "not" its rule's description; a missing key as in a manifest."""

    def missing_key(self, key: str, instance: Mapping[str, object]) -> str:
        return missing_key(key, instance)


LOCK = DocumentKind(
    MANIFEST_RULES._replace(
        noun="lock file",
        empty="the file is empty; write one with tagmgr lock",
        needs="a lock file needs 5",
    ),
    LockError,
    MAX_LOCK_BYTES,
    SCHEMA_PATH,
    _LockWords("the lock file schema's rule"),
    regular_only=False,
)


def read_lock(path: Path) -> Lock:
    """The lock in ``path``; ``LockError`` naming every problem, each with line and column."""
    return _lock(load_valid(str(path), LOCK))


def read_lock_if_any(path: Path) -> Lock:
    """``read_lock``, or an empty lock where there is no file yet (the first ``lock``)."""
    return read_lock(path) if path.exists() else Lock()


def _lock(doc: LocatedDocument) -> Lock:
    data: dict[str, Any] = doc.data  # type: ignore[assignment]  # the schema vouches for it
    entries: dict[ImageReference, int] = {}
    built, problems = [], []
    for index, item in enumerate(data["entries"]):
        where = doc.location(("entries", index))
        try:
            entry = _entry(item)
        except InvalidReferenceError as error:
            problems.append(Problem(where, f"entries[{index}]", str(error)))
            continue
        first = entries.setdefault(entry.target, index)
        if first != index:
            message = f"{entry.target} is locked twice; the first entry is entries[{first}]"
            problems.append(Problem(where, f"entries[{index}].target", message))
        built.append(entry)
    if problems:
        raise LockError(problems)
    return Lock.of(built)


def _entry(item: dict[str, Any]) -> LockEntry:
    upstream = item.get("upstream")
    return LockEntry(
        source=ImageReference.parse(item["source"]),
        target=ImageReference.parse(item["target"]),
        digest=item["digest"],
        media_type=item["media_type"],
        resolved_at=item["resolved_at"],
        platforms=tuple(LockedPlatform(p["platform"], p["digest"]) for p in item["platforms"]),
        src_ref=item.get("src_ref"),
        upstream=LockedUpstream(upstream["repo"], upstream["commit"], upstream["describe"])
        if upstream
        else None,
    )
