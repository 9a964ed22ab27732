"""Files a person or a job reads: replaced atomically, so a reader never sees half of one."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def replace_file(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` beside ``path`` and rename it over.

    The mode is the existing file's, else ``mode``, else 0o644 (a lock file is meant to be shared).
    """
    target = path.resolve()
    if target.exists():
        mode = stat.S_IMODE(target.stat().st_mode)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644 if mode is None else mode)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
