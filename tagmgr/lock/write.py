"""Lock files out: one fixed layout, so equal locks are equal bytes.

JSON with sorted keys, two-space indentation, every value a string (no numbers, booleans or nulls:
an absent field is left out), entries sorted by target, a final newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tagmgr.documents.atomic import replace_file
from tagmgr.errors import Location, LockError, Problem
from tagmgr.lock.model import LOCK_FORMAT, Lock, LockEntry
from tagmgr.lock.read import read_lock_if_any


def render_lock(lock: Lock) -> str:
    document = {
        "format": LOCK_FORMAT,
        "entries": [_entry(e) for e in Lock.of(lock.entries).entries],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def lock_differs(path: Path, lock: Lock) -> bool:
    """Whether ``write_lock`` would write: ``path`` does not hold exactly ``lock``'s bytes."""
    return not (path.is_file() and path.read_bytes() == render_lock(lock).encode("utf-8"))


def write_lock(path: Path, lock: Lock, *, read_as: Lock | None = None) -> bool:
    """Write ``lock`` to ``path`` unless it already holds exactly these bytes; True if written.

    ``read_as``: the lock as it was read before the registry reads and the question (an empty
    one for a file that was not there). A file that holds another lock now (another run's
    ``apply --lock``, an edit) is not written over: its entries would be lost.
    """
    if not lock_differs(path, lock):
        return False
    if read_as is not None and read_lock_if_any(path) != read_as:
        raise LockError(
            [
                Problem(
                    Location(str(path), 1, 1),
                    "",
                    "changed since it was read; not written (run again)",
                )
            ]
        )
    replace_file(path, render_lock(lock).encode("utf-8"))
    return True


def _entry(entry: LockEntry) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": str(entry.source),
        "target": str(entry.target),
        "digest": entry.digest,
        "media_type": entry.media_type,
        "platforms": [{"platform": p.platform, "digest": p.digest} for p in entry.platforms],
        "resolved_at": entry.resolved_at,
    }
    if entry.src_ref is not None:
        record["src_ref"] = entry.src_ref
    if entry.upstream is not None:
        upstream = entry.upstream
        record["upstream"] = {
            "repo": upstream.repo,
            "commit": upstream.commit,
            "describe": upstream.describe,
        }
    return record
