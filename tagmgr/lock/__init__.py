"""Lock files: every entry's references with the digests they resolved to.

The layout is ``schemas/lock.schema.json``. ``read_lock`` and ``write_lock`` are the only ways in
and out; ``read_in_use`` gives expiry what a lock names without it knowing the layout.
"""

from __future__ import annotations

from pathlib import Path

from tagmgr.lifecycle.inuse import InUse
from tagmgr.lock.model import LOCK_FORMAT, Lock, LockedPlatform, LockedUpstream, LockEntry
from tagmgr.lock.read import SCHEMA_PATH, read_lock
from tagmgr.lock.write import render_lock, write_lock


def read_in_use(path: Path) -> list[InUse]:
    """Every (reference, digest) the lock at ``path`` names, as in-use records."""
    return read_lock(path).in_use(str(path))


__all__ = [
    "LOCK_FORMAT",
    "SCHEMA_PATH",
    "Lock",
    "LockEntry",
    "LockedPlatform",
    "LockedUpstream",
    "read_in_use",
    "read_lock",
    "render_lock",
    "write_lock",
]
