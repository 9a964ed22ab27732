"""One layer read as a stream: each entry's record, each file hashed as it passes, never held.

The blob is read once, to its end: the registry client checks its digest only then, and the
uncompressed bytes must hash to the layer's ``diff_id`` in the config, which is what lets layers
with equal diff_ids go unread.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.records import PERMISSION_BITS, XATTR_PREFIX, Kind, Record, normal_path
from tagmgr.changes.streams import HashingReader, LayerFormatError, uncompressed

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
READ_SIZE = 256 * 1024  # tarfile reads the stream, and files are hashed, in pieces this size


@dataclass(frozen=True)
class Layer:
    """A layer as an image manifest names it, with the ``diff_id`` its config gives it."""

    digest: str
    media_type: str
    diff_id: str


def read_layer(layer: Layer, chunks: Iterator[bytes]) -> LayerChanges:
    """What the layer does to the filesystem below it; ``LayerFormatError`` if it is no tar."""
    changes, diff_id = walk_layer(layer, chunks)
    if layer.diff_id and diff_id != layer.diff_id:
        raise LayerFormatError(
            f"layer {layer.digest}: uncompressed, it hashes to {diff_id}, "
            f"but the config says {layer.diff_id}"
        )
    return changes


def walk_layer(layer: Layer, chunks: Iterator[bytes]) -> tuple[LayerChanges, str]:
    """What the layer does, and the digest of its uncompressed bytes (what a diff_id names)."""
    try:
        reader = uncompressed(layer.media_type, chunks)
        return _walk(reader), reader.drain()
    except LayerFormatError as error:
        raise LayerFormatError(f"layer {layer.digest}: {error}") from error
    except (tarfile.TarError, EOFError) as error:
        raise LayerFormatError(f"layer {layer.digest}: not a tar archive: {error}") from error


def _walk(reader: HashingReader) -> LayerChanges:
    changes = LayerChanges()
    with tarfile.open(fileobj=reader, mode="r|", bufsize=READ_SIZE) as archive:
        while (member := archive.next()) is not None:
            # tarfile keeps every TarInfo for random access, which a stream never needs.
            archive.members.clear()  # type: ignore[attr-defined]
            _take(changes, archive, member)
    return changes


def _take(changes: LayerChanges, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    path = normal_path(member.name)
    directory, name = posixpath.split(path)
    if name == OPAQUE:
        changes.opaque.add(directory)
    elif name.startswith(WHITEOUT):
        changes.whiteouts.add(posixpath.join(directory, name.removeprefix(WHITEOUT)))
    elif path:
        record = _record(archive, member)
        if record.kind is Kind.HARDLINK:
            record = changes.records.get(record.link, record)
        changes.records[path] = record


def _record(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Record:
    xattrs = tuple(
        sorted(
            (key.removeprefix(XATTR_PREFIX), value)
            for key, value in member.pax_headers.items()
            if key.startswith(XATTR_PREFIX)
        )
    )
    kind, content, link = _kind(member), "", ""
    if kind is Kind.FILE:
        content = _content_digest(archive, member)
    elif kind is Kind.SYMLINK:
        link = member.linkname
    elif kind is Kind.HARDLINK:
        link = normal_path(member.linkname)
    is_device = member.ischr() or member.isblk()
    device = (member.devmajor, member.devminor) if is_device else (0, 0)
    return Record(
        kind, member.mode & PERMISSION_BITS, member.uid, member.gid, content, link, device, xattrs
    )


def _kind(member: tarfile.TarInfo) -> Kind:
    kinds = (
        (member.isreg, Kind.FILE),
        (member.isdir, Kind.DIRECTORY),
        (member.issym, Kind.SYMLINK),
        (member.islnk, Kind.HARDLINK),
        (member.ischr, Kind.CHAR_DEVICE),
        (member.isblk, Kind.BLOCK_DEVICE),
        (member.isfifo, Kind.FIFO),
    )
    for test, kind in kinds:
        if test():
            return kind
    raise LayerFormatError(f"{member.name}: unknown tar entry type {member.type!r}")


def _content_digest(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    hasher = hashlib.sha256()
    file = archive.extractfile(member)
    if file is not None:
        with file:
            while block := file.read(READ_SIZE):
                hasher.update(block)
    return f"sha256:{hasher.hexdigest()}"
