"""Images with chosen files, built from scratch: modes, owners, timestamps, tar formats, layer
splits and compression, for comparing rebuilds.

Layers are written as a stream (tar into a hashing tee into gzip), so a layer holding a file of
hundreds of MiB of zeros costs memory only for its compressed bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.oci import OCI, Image, MediaTypes, descriptor, sha256

BUILD_TIME = 1_700_000_000
_BLOCK = 1024 * 1024
_ZERO_BLOCK = bytes(_BLOCK)


@dataclass(frozen=True)
class Entry:
    """One tar entry. ``zeros`` streams a file of that many zero bytes instead of ``content``."""

    path: str
    content: bytes = b""
    kind: bytes = tarfile.REGTYPE
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = BUILD_TIME
    link: str = ""
    xattrs: dict[str, str] = field(default_factory=dict)
    zeros: int = 0


def file(path: str, content: bytes | str = b"", **fields: Any) -> Entry:
    data = content.encode() if isinstance(content, str) else content
    return Entry(path, data, **fields)


def directory(path: str, **fields: Any) -> Entry:
    return Entry(path, kind=tarfile.DIRTYPE, **{"mode": 0o755, **fields})


def symlink(path: str, target: str, **fields: Any) -> Entry:
    return Entry(path, kind=tarfile.SYMTYPE, link=target, **{"mode": 0o777, **fields})


def hardlink(path: str, target: str) -> Entry:
    return Entry(path, kind=tarfile.LNKTYPE, link=target)


def whiteout(path: str) -> Entry:
    head, _, name = path.rpartition("/")
    return Entry(f"{head}/.wh.{name}" if head else f".wh.{name}")


def opaque(directory_path: str) -> Entry:
    return Entry(f"{directory_path}/.wh..wh..opq")


@dataclass(frozen=True)
class Layer:
    entries: Sequence[Entry]
    tar_format: int = tarfile.PAX_FORMAT
    gzip_level: int | None = 6  # None: an uncompressed layer
    name_prefix: str = ""  # "./" as GNU tar writes names
    pax_times: bool = False  # mtime, atime and ctime PAX records, as GNU tar --format=posix


@dataclass(frozen=True)
class Built:
    media_type: str
    blob: bytes
    diff_id: str


class _Tee(io.RawIOBase):
    """Hashes what passes on its way to ``sink``."""

    def __init__(self, sink: io.BufferedIOBase) -> None:
        self.sink = sink
        self.hash = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.hash.update(data)
        self.sink.write(data)
        return len(data)


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self.left, len(_ZERO_BLOCK))
        buffer[:size] = _ZERO_BLOCK[:size]
        self.left -= size
        return size


def build_layer(layer: Layer, types: MediaTypes = OCI) -> Built:
    out = io.BytesIO()
    sink: io.BufferedIOBase = out
    if layer.gzip_level is not None:
        sink = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=layer.gzip_level, mtime=0)
    tee = _Tee(sink)
    with tarfile.open(  # type: ignore[call-overload]  # copybufsize: TarFile's, not in open's stub
        fileobj=tee, mode="w|", format=layer.tar_format, bufsize=_BLOCK, copybufsize=_BLOCK
    ) as archive:
        for entry in layer.entries:
            _add(archive, entry, layer)
    if sink is not out:
        sink.close()
    media_type = types.layer if layer.gzip_level is not None else types.plain_layer
    return Built(media_type, out.getvalue(), f"sha256:{tee.hash.hexdigest()}")


def _add(archive: tarfile.TarFile, entry: Entry, layer: Layer) -> None:
    info = tarfile.TarInfo(layer.name_prefix + entry.path)
    info.type, info.mode, info.mtime = entry.kind, entry.mode, entry.mtime
    info.uid, info.gid, info.linkname = entry.uid, entry.gid, entry.link
    info.uname = info.gname = ""
    info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in entry.xattrs.items()}
    if layer.pax_times:
        stamp = f"{entry.mtime}.123456789"
        info.pax_headers |= {"mtime": stamp, "atime": stamp, "ctime": stamp}
    if entry.kind != tarfile.REGTYPE:
        archive.addfile(info)
        return
    info.size = entry.zeros or len(entry.content)
    reader = _Zeros(entry.zeros) if entry.zeros else io.BytesIO(entry.content)
    archive.addfile(info, reader)


def build_image(
    layers: Sequence[Layer | Built],
    *,
    env: Sequence[str] = ("PATH=/usr/bin",),
    cmd: Sequence[str] = ("/usr/bin/app",),
    labels: dict[str, str] | None = None,
    platform: tuple[str, str] = ("linux", "amd64"),
    created: str = "2026-01-01T00:00:00Z",
    types: MediaTypes = OCI,
) -> Image:
    built = [layer if isinstance(layer, Built) else build_layer(layer, types) for layer in layers]
    os_name, architecture = platform
    config = {
        "architecture": architecture,
        "os": os_name,
        "created": created,
        "config": {"Env": list(env), "Cmd": list(cmd), "Labels": labels or {}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in built]},
        "history": [{"created": created, "created_by": f"layer {n}"} for n in range(len(built))],
    }
    config_bytes = json.dumps(config, indent=2).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": types.manifest,
        "config": descriptor(types.config, config_bytes),
        "layers": [descriptor(layer.media_type, layer.blob) for layer in built],
    }
    blobs = {sha256(blob): blob for blob in [config_bytes, *(layer.blob for layer in built)]}
    return Image(types.manifest, json.dumps(manifest, indent=2).encode(), blobs)


def build_index(children: dict[tuple[str, str], Image]) -> Image:
    entries = [
        {**child.as_descriptor(), "platform": {"os": os_name, "architecture": arch}}
        for (os_name, arch), child in children.items()
    ]
    index = {"schemaVersion": 2, "mediaType": OCI.index, "manifests": entries}
    return Image(OCI.index, json.dumps(index, indent=2).encode(), children=tuple(children.values()))
