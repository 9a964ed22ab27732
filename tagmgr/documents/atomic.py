"""Files a person or a job reads: replaced atomically, so a reader never sees half of one.

The new bytes go to a temporary file beside the target, ``.NAME.tagmgr-XXXXXXXX``, which is then
renamed over it. The writing thread holds every signal off while the temporary exists, so no
signal but SIGKILL (SIGINT or SIGTERM twice included) ends tagmgr with one on disk: what comes
meanwhile is acted on once it has been renamed or removed. SIGINT and SIGTERM cannot reach
another thread instead (``concurrency`` workers block them, and none runs during a write).

A temporary left by a SIGKILL or a crash is removed by the next run that writes into its
directory, once nothing holds it: its writer holds a lock on it (``flock``) until it is renamed,
and the kernel lets go of the lock when the writer dies, so a temporary another run is writing
is never taken for a stale one. One younger than ``STALE_AFTER`` seconds is left too: that
covers the instant between its creation and its lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import stat
import time
from contextlib import suppress

from tagmgr.errors import TagmgrError
from tagmgr.system import interrupt

TEMPORARY = re.compile(r"\..+\.tagmgr-[0-9a-f]{8}", re.DOTALL)
STALE_AFTER = 10.0

_swept: set[str] = set()  # directories this run has looked in for stale temporaries


def is_temporary(name: str) -> bool:
    """Whether ``name`` is that of a temporary file ``replace_file`` makes."""
    return TEMPORARY.fullmatch(name) is not None


def replace_file(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` beside ``path`` and rename it over.

    A symlink is followed (a manifest named through one): its target is replaced and the link
    stays a link. The mode is the existing file's, else ``mode``, else 0o644 (a lock file is
    meant to be shared); so is its owner, where tagmgr may and can give it (as root: ``sudo
    tagmgr`` leaves a user's file the user's; not where the file system refuses, which is no
    failure). The directory is synced after the rename, so that the new
    file outlasts a crash. ``TagmgrError`` if it cannot be written; the file is then as it was.
    """
    target = os.path.realpath(path)
    owner: tuple[int, int] | None = None
    with suppress(FileNotFoundError):
        found = os.stat(target)
        mode = stat.S_IMODE(found.st_mode)
        owner = (found.st_uid, found.st_gid) if os.geteuid() == 0 else None
    directory, name = os.path.split(target)
    try:
        remove_stale(directory)
        with interrupt.held():
            _write_and_rename(directory, name, data, 0o644 if mode is None else mode, owner)
    except OSError as error:
        raise TagmgrError(f"{os.fspath(path)}: cannot write: {error.strerror or error}") from error


def _write_and_rename(
    directory: str, name: str, data: bytes, mode: int, owner: tuple[int, int] | None
) -> None:
    temporary = os.path.join(directory, f".{name}.tagmgr-{secrets.token_hex(4)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with open(descriptor, "wb") as file:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            file.write(data)
            file.flush()
            os.fchmod(descriptor, mode)
            if owner is not None:
                with suppress(OSError):  # a user namespace, NFS or vfat: the file is still written
                    os.fchown(descriptor, *owner)
            os.fsync(descriptor)
            os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        os.unlink(temporary)
        raise
    with suppress(OSError):  # the file is replaced: a directory that cannot be synced is no failure
        _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """The rename itself on disk, where the file system lets a directory be opened and synced."""
    descriptor = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_stale(directory: str) -> None:
    """Remove the temporaries a killed run left in ``directory``; once a process and directory."""
    if directory in _swept:
        return
    _swept.add(directory)
    with suppress(OSError):
        for name in os.listdir(directory):
            if is_temporary(name):
                _remove_if_stale(os.path.join(directory, name))


def _remove_if_stale(path: str) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return  # gone meanwhile (renamed by its writer), or not ours to read
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode) or time.time() - found.st_mtime < STALE_AFTER:
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: being written
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) == (found.st_dev, found.st_ino):  # not renamed meanwhile
            os.unlink(path)
    except OSError:
        return
    finally:
        os.close(descriptor)
