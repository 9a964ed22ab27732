"""File-like readers over a blob's chunks, so ``tarfile`` can walk a layer as it arrives.

Memory stays bounded by one chunk plus one read: gzip is inflated with ``max_length``, so a layer
of compressed zeros never expands into memory all at once (``tarfile``'s own gzip mode inflates
whole chunks, up to a thousandfold).
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator

from tagmgr.errors import TagmgrError
from tagmgr.oci.mediatypes import (
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    Compression,
    layer_compression,
)

_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data
SNIFF_BYTES = 512  # one tar header: enough to tell a tar, a gzip stream and a zstd frame apart
_TAR_MAGIC = slice(257, 262)


class LayerFormatError(TagmgrError):
    """A layer that is not a gzip'd or plain tar, or whose content is not what its config says."""


class ChunkReader(io.RawIOBase):
    """The bytes of an iterator of chunks, read as a file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._held = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._held:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._held = memoryview(chunk)
        size = min(len(buffer), len(self._held))
        buffer[:size] = self._held[:size]
        self._held = self._held[size:]
        return size


class GunzipReader(io.RawIOBase):
    """The inflated bytes of a gzip stream (several members in a row, as pigz writes, included)."""

    def __init__(self, raw: io.RawIOBase, read_size: int = 64 * 1024) -> None:
        self._raw = raw
        self._read_size = read_size
        self._inflater = zlib.decompressobj(_GZIP_WINDOW)
        self._input = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while True:
            if self._inflater.eof:
                rest = self._inflater.unused_data or self._raw.read(self._read_size)
                if not rest:
                    return 0
                self._inflater, self._input = zlib.decompressobj(_GZIP_WINDOW), rest
            if not self._input:
                self._input = self._raw.read(self._read_size) or b""
                if not self._input:
                    raise LayerFormatError("the gzip stream ends early")
            try:
                data = self._inflater.decompress(self._input, len(buffer))
            except zlib.error as error:
                raise LayerFormatError(f"not gzip data: {error}") from error
            self._input = self._inflater.unconsumed_tail
            if data:
                buffer[: len(data)] = data
                return len(data)


class HashingReader(io.RawIOBase):
    """Passes ``raw``'s bytes on and hashes them: the uncompressed tar's digest is its diff_id."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = self._raw.readinto(buffer) or 0
        self._hash.update(buffer[:size])
        return size

    def drain(self) -> str:
        """Read to the end (the tar's padding, the blob's digest check); the sha256 digest."""
        while self.read(64 * 1024):
            pass
        return f"sha256:{self._hash.hexdigest()}"


def uncompressed(media_type: str, chunks: Iterator[bytes]) -> HashingReader:
    """The layer's tar stream, by its media type: gzip'd or not; anything else is refused."""
    compression = layer_compression(media_type)
    raw: io.RawIOBase = ChunkReader(chunks)
    if compression is Compression.GZIP:
        raw = GunzipReader(raw)
    elif compression is Compression.ZSTD:
        raise LayerFormatError(
            "the layer is zstd-compressed; tagmgr diff reads gzip'd and uncompressed tar layers"
        )
    elif compression is None:
        raise LayerFormatError(
            f"the layer's media type {media_type!r} is not one tagmgr diff reads: it reads OCI "
            "and Docker tar layers, uncompressed or gzip'd"
        )
    return HashingReader(raw)


def sniffed_layer_type(head: bytes) -> str:
    """The media type a layer's first ``SNIFF_BYTES`` show, for layers no manifest describes
    (``docker save`` names none): gzip or zstd by their magic numbers, a tar by its ``ustar``
    magic, or by the zero block that is all an empty tar holds; "" for anything else."""
    if head.startswith(b"\x1f\x8b"):
        return OCI_LAYER_GZIP
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return OCI_LAYER_ZSTD
    if head[_TAR_MAGIC] == b"ustar" or (len(head) == SNIFF_BYTES and not any(head)):
        return OCI_LAYER
    return ""
