"""Lock files: every entry's references with the digests they resolved to.

The layout is ``schemas/lock.schema.json``. ``read_lock`` and ``write_lock`` are the only ways in
and out; ``Lock.references`` lists what a lock names without its reader knowing the layout.
"""

from __future__ import annotations

from tagmgr.lock.model import LOCK_FORMAT, Lock, LockedPlatform, LockedUpstream, LockEntry
from tagmgr.lock.read import SCHEMA_PATH, read_lock, read_lock_if_any
from tagmgr.lock.write import lock_differs, render_lock, write_lock

__all__ = [
    "LOCK_FORMAT",
    "SCHEMA_PATH",
    "Lock",
    "LockEntry",
    "LockedPlatform",
    "LockedUpstream",
    "lock_differs",
    "read_lock",
    "read_lock_if_any",
    "render_lock",
    "write_lock",
]
