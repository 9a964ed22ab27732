"""The small text files people review and give tagmgr: manifests, lock files, ignore lists,
policies and deployment files.

Each is read whole, up to a size limit, or refused with one located problem: a directory (or
any file that is not a regular one, where the caller asks), unreadable, too large, or not UTF-8
(at the line and column of the first bad byte).

A file that must be regular is never opened when it is not: a FIFO with no writer would block
the open for good, and opening a device can act on it. It is looked at first, then opened
without blocking and looked at again through the descriptor, so a file swapped for a FIFO in
between is still refused, not waited on.
"""

from __future__ import annotations

import codecs
import os
import stat

from tagmgr.errors import Location, Problem

BOM = "\ufeff"
"""A UTF-8 byte order mark, as the first character of a text kept with it."""

KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symlink",
}


class FileProblem(Problem):
    """A problem with the file as a whole (unreadable, not a file, too large): no place in it."""

    __slots__ = ()


class NotRegular(OSError):
    """A file that is not a regular one where a regular one is needed; ``kind`` says what it is."""

    def __init__(self, mode: int) -> None:
        self.mode = mode
        self.kind = kind(mode)
        super().__init__(f"is {self.kind}, not a regular file")


def kind(mode: int) -> str:
    """What a file of ``mode`` is, for messages: "a FIFO (named pipe)", "a socket", ..."""
    return KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_bytes(path: str, limit: int, *, regular_only: bool = True, follow: bool = True) -> bytes:
    """Up to ``limit`` bytes of ``path`` (-1: all of it); ``NotRegular`` for a directory, and for
    any other file that is not regular unless ``regular_only`` is False (a pipe is then read, and
    may block).

    ``follow=False`` refuses a symlink as the last component (``ELOOP``), for a path the caller
    has already resolved.
    """
    mode = (os.stat if follow else os.lstat)(path).st_mode
    _check(mode, regular_only)
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | (0 if follow else os.O_NOFOLLOW)
    descriptor = os.open(path, (flags | os.O_NONBLOCK) if regular_only else flags)
    with open(descriptor, "rb") as file:
        _check(os.fstat(descriptor).st_mode, regular_only)
        return file.read(limit)


def _check(mode: int, regular_only: bool) -> None:
    if stat.S_ISDIR(mode) or (regular_only and not stat.S_ISREG(mode)):
        raise NotRegular(mode)


def read_text(
    path: str,
    noun: str,
    limit: int,
    too_large: str = "",
    *,
    regular_only: bool = True,
    keep_bom: bool = False,
    follow: bool = True,
) -> str | Problem:
    """The file's text, less a UTF-8 byte order mark, or the problem that keeps it from being one.

    ``noun`` names the kind of file in messages ("manifest", "lock file"); ``too_large`` is what
    to do about a file over ``limit`` bytes, when there is a remedy ("split the manifest").
    ``regular_only=False`` also reads a pipe or a device, as ``<(kubectl get pods -o json)`` is.
    ``keep_bom=True`` keeps the mark as the text's first character (U+FEFF), for a caller that
    edits the file and must write every byte back. ``follow=False``: as ``read_bytes``.
    """
    start = Location(path, 1, 1)
    file_noun = noun if noun.endswith(" file") else f"{noun} file"
    try:
        data = read_bytes(path, limit + 1, regular_only=regular_only, follow=follow)
    except NotRegular as error:
        if stat.S_ISDIR(error.mode):
            article = "an" if file_noun[0] in "aeiou" else "a"
            return FileProblem(start, "", f"is a directory; give {article} {file_noun}")
        return FileProblem(start, "", str(error))
    except OSError as error:
        return FileProblem(start, "", f"cannot read the file: {error.strerror or error}")
    if len(data) > limit:
        remedy = f"; {too_large}" if too_large else ""
        return FileProblem(start, "", f"the file is larger than {limit} bytes{remedy}")
    text = _decode(path, data.removeprefix(codecs.BOM_UTF8), noun)
    if keep_bom and data.startswith(codecs.BOM_UTF8) and isinstance(text, str):
        return BOM + text
    return text


def _decode(path: str, data: bytes, noun: str) -> str | Problem:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8")) + 1
        return Problem(
            Location(path, line, column),
            "",
            f"byte 0x{data[error.start]:02x} is not UTF-8; a {noun} is UTF-8 text",
        )
