"""What one path of a filesystem is, with only the fields that matter to whoever runs the image.

Left out on purpose, as build noise: timestamps (mtime, atime, ctime and their PAX records), user
and group names (the numbers count), the tar header format, mode bits above 0o7777 and the order
entries came in.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, fields
from enum import StrEnum

PERMISSION_BITS = 0o7777
XATTR_PREFIX = "SCHILY.xattr."


class Kind(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"  # only until its target is found: then it takes the target's record
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    FIFO = "fifo"


@dataclass(frozen=True)
class Record:
    kind: Kind
    mode: int
    uid: int
    gid: int
    content: str = ""  # sha256 digest of a file's bytes
    link: str = ""  # a symlink's target, or a hardlink's target path
    device: tuple[int, int] = (0, 0)
    xattrs: tuple[tuple[str, str], ...] = ()


def normal_path(name: str) -> str:
    """``./usr/bin/``, ``/usr/bin`` and ``usr//bin`` are all ``usr/bin``; the root is ``""``."""
    path = posixpath.normpath("/" + name).lstrip("/")
    return "" if path == "." else path


def differences(a: Record, b: Record) -> list[str]:
    """``"mode 0644 -> 0755"`` and the like, one per field that differs."""
    found = []
    for field in fields(Record):
        before, after = getattr(a, field.name), getattr(b, field.name)
        if before != after:
            shown = f"{_shown(field.name, before)} -> {_shown(field.name, after)}"
            found.append(f"{field.name} {shown}")
    return found


def _shown(name: str, value: object) -> str:
    if name == "mode" and isinstance(value, int):
        return f"{value:04o}"
    if name == "content" and isinstance(value, str):
        return value[:19] if value else "(none)"
    if name == "xattrs" and isinstance(value, tuple):
        return "{" + ", ".join(f"{key}={text!r}" for key, text in value) + "}"
    if name == "device" and isinstance(value, tuple):
        return f"{value[0]},{value[1]}"
    return str(value) if value != "" else "(none)"
