"""The small text files people review and give tagmgr: manifests, lock files, ignore lists,
policies and deployment files.

Each is read whole, up to a size limit, or refused with one located problem: a directory (or
any file that is not a regular one, where the caller asks), unreadable, too large, or not UTF-8
(at the line and column of the first bad byte).
"""

from __future__ import annotations

import codecs
import os
import stat

from tagmgr.errors import Location, Problem

BOM = "\ufeff"
"""A UTF-8 byte order mark, as the first character of a text kept with it."""


def read_text(
    path: str,
    noun: str,
    limit: int,
    too_large: str = "",
    *,
    regular_only: bool = True,
    keep_bom: bool = False,
) -> str | Problem:
    """The file's text, less a UTF-8 byte order mark, or the problem that keeps it from being one.

    ``noun`` names the kind of file in messages ("manifest", "lock file"); ``too_large`` is what
    to do about a file over ``limit`` bytes, when there is a remedy ("split the manifest").
    ``regular_only=False`` also reads a pipe or a device, as ``<(kubectl get pods -o json)`` is.
    ``keep_bom=True`` keeps the mark as the text's first character (U+FEFF), for a caller that
    edits the file and must write every byte back.
    """
    start = Location(path, 1, 1)
    file_noun = noun if noun.endswith(" file") else f"{noun} file"
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return Problem(start, "", f"is a directory; give a {file_noun}")
        if regular_only and not stat.S_ISREG(mode):
            return Problem(start, "", "is not a regular file")
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as error:
        return Problem(start, "", f"cannot read the file: {error.strerror or error}")
    if len(data) > limit:
        remedy = f"; {too_large}" if too_large else ""
        return Problem(start, "", f"the file is larger than {limit} bytes{remedy}")
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
