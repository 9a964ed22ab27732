"""Images on this machine: OCI image layouts (a directory or a tar of one) and ``docker save``
archives, read as streams like a registry's blobs.

A layout is a ``ManifestStore``: its blobs are checked against their digests as a registry's
are. A ``docker save`` archive has no manifest: its ``manifest.json`` names the config and the
layer files, and the image's digest is its image ID (the config's sha256, what Docker calls the
image). Its layers are uncompressed tars (gzip'd or zstd ones from some tools): each is told by
its first bytes, then walked, and must hash to the config's diff_id.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.images import Chunks, ImageSide, ManifestStore, PlatformImage, read_image
from tagmgr.changes.streams import SNIFF_BYTES, LayerFormatError, sniffed_layer_type
from tagmgr.changes.walk import READ_SIZE, Layer, read_layer, walk_layer
from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.oci.content import ImageConfig, parse_config, read_capped
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.dockersave import MANIFEST_FILE, SavedImage, parse_saved, select_saved
from tagmgr.oci.layout import INDEX_FILE, LAYOUT_FILE, blob_path, check_layout, select_manifest
from tagmgr.oci.platform import UNKNOWN
from tagmgr.oci.transport import DOCKER_ARCHIVE, OCI, LocalImage


class Files(Protocol):
    """The files of a layout or archive, each opened as a stream of chunks."""

    def open(self, name: str) -> Chunks: ...


class DirectoryFiles:
    def __init__(self, root: str, what: str) -> None:
        self._root = Path(root)
        self._what = what

    @contextmanager
    def open(self, name: str) -> Iterator[Iterator[bytes]]:
        try:
            file = (self._root / name).open("rb")
        except OSError as error:
            raise TagmgrError(f"{self._what}: cannot read {name}: {error.strerror}") from error
        with file:
            yield _chunks(file)


class TarFiles:
    """The members of a tar file (not compressed: members are read where they lie)."""

    def __init__(self, archive: tarfile.TarFile, what: str) -> None:
        self._archive = archive
        self._what = what

    @classmethod
    @contextmanager
    def opened(cls, path: str, what: str) -> Iterator[TarFiles]:
        try:
            archive = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise TagmgrError(f"{what}: cannot read the archive: {error.strerror}") from error
        except tarfile.TarError as error:
            raise TagmgrError(f"{what}: not a tar archive: {error}") from error
        with archive:
            yield cls(archive, what)

    @contextmanager
    def open(self, name: str) -> Iterator[Iterator[bytes]]:
        try:
            file = self._archive.extractfile(os.path.normpath(name))
        except KeyError:
            file = None
        if file is None:
            raise TagmgrError(f"{self._what}: the archive holds no file {name}")
        with file:
            yield _chunks(file)


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: file.read(READ_SIZE), b"")


def verified(chunks: Iterator[bytes], digest: str, what: str) -> Iterator[bytes]:
    """``chunks``, the last one handed out only once all of them hashed to ``digest``."""
    hasher = hashlib.new(digest.partition(":")[0])
    held = None
    for chunk in chunks:
        hasher.update(chunk)
        if held is not None:
            yield held
        held = chunk
    actual = f"{digest.partition(':')[0]}:{hasher.hexdigest()}"
    if actual != digest:
        raise ImageFormatError(f"{what}: the blob hashes to {actual}, not {digest}")
    if held is not None:
        yield held


class LayoutStore:
    """An OCI image layout, in a directory or a tar file."""

    def __init__(self, files: Files, image: LocalImage) -> None:
        self._files = files
        self._image = image
        self.name = f"{image.transport}:{image.path}"

    def top(self) -> tuple[Descriptor, bytes]:
        check_layout(self._read(LAYOUT_FILE), self.name)
        entry = select_manifest(self._read(INDEX_FILE), self._image.ref, self.name)
        return self.child(entry)

    def child(self, entry: Descriptor) -> tuple[Descriptor, bytes]:
        with self.open_blob(entry.digest) as chunks:
            return entry, read_capped(chunks, f"manifest {self.name}@{entry.digest}")

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[Iterator[bytes]]:
        with self._files.open(blob_path(digest)) as chunks:
            yield verified(chunks, digest, f"{self.name}: {blob_path(digest)}")

    def _read(self, name: str) -> bytes:
        with self._files.open(name) as chunks:
            return read_capped(chunks, f"{self.name}: {name}")


def read_layout(files: Files, image: LocalImage) -> ImageSide:
    store: ManifestStore = LayoutStore(files, image)
    return read_image(store, str(image))


class SavedLayers:
    """The layer files of a ``docker save`` archive, named by their path in it."""

    def __init__(self, files: Files, image: LocalImage) -> None:
        self._files = files
        self._image = image

    def changes(self, layer: Layer) -> LayerChanges:
        with self._files.open(layer.digest) as chunks:
            head, rest = peek(chunks)
            media_type = sniffed_layer_type(head)
            if not media_type:
                raise LayerFormatError(f"{self._image}: {layer.digest} is not a tar layer")
            return read_layer(Layer(layer.digest, media_type, layer.diff_id), rest)


def peek(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first ``SNIFF_BYTES`` (fewer only at the end), and every byte, those included."""
    head = b""
    taken: list[bytes] = []
    for chunk in chunks:
        taken.append(chunk)
        head += chunk[: SNIFF_BYTES - len(head)]
        if len(head) >= SNIFF_BYTES:
            break
    return head, itertools.chain(taken, chunks)


def walk_sniffed(name: str, chunks: Iterator[bytes]) -> tuple[LayerChanges, str] | None:
    """A file that may be a layer: walked if its first bytes show a tar (or a compressed one),
    with the digest of its uncompressed bytes; None if they do not."""
    head, rest = peek(chunks)
    media_type = sniffed_layer_type(head)
    return walk_layer(Layer(name, media_type, ""), rest) if media_type else None


def saved_config(files: Files, image: LocalImage) -> tuple[SavedImage, bytes]:
    """The archive's entry for ``image``, and its config's bytes."""
    with files.open(MANIFEST_FILE) as chunks:
        listed = parse_saved(read_capped(chunks, f"{image}: {MANIFEST_FILE}"), str(image))
    saved = select_saved(listed, image.ref, image.source_index, str(image))
    with files.open(saved.config) as chunks:
        return saved, read_capped(chunks, f"{image}: {saved.config}")


def image_id(config: bytes) -> str:
    """What Docker calls the image: the sha256 of its config's bytes."""
    return f"sha256:{hashlib.sha256(config).hexdigest()}"


def read_docker_archive(files: Files, image: LocalImage) -> ImageSide:
    saved, content = saved_config(files, image)
    identity = image_id(content)
    config = parse_config(content, f"config {image}: {saved.config}")
    platform = saved_platform(identity, config, len(saved.layers), str(image))
    layers = tuple(
        Layer(path, "", diff_id)
        for path, diff_id in zip(saved.layers, config.diff_ids, strict=True)
    )
    one = PlatformImage(platform, identity, config.document, layers)
    return ImageSide(str(image), identity, {platform: one}, SavedLayers(files, image))


def saved_platform(image_id: str, config: ImageConfig, layers: int, what: str) -> str:
    """The platform of an image Docker saved; its config's diff_ids must count its layers."""
    if len(config.diff_ids) != layers:
        raise ImageFormatError(
            f"{what}: image {image_id}: the config's rootfs.diff_ids do not match the layers"
        )
    return str(config.platform or UNKNOWN)


@contextmanager
def opened_files(image: LocalImage) -> Iterator[Files]:
    """The files of a layout directory, or of a layout or docker save archive."""
    where = f"{image.transport}:{image.path}"
    if image.transport == OCI:
        yield DirectoryFiles(image.path, where)
        return
    with TarFiles.opened(image.path, where) as files:
        yield files


@contextmanager
def opened_local(image: LocalImage) -> Iterator[ImageSide]:
    """The image at a layout or archive, open for its layers to be read while in the block."""
    with opened_files(image) as files:
        if image.transport == DOCKER_ARCHIVE:
            yield read_docker_archive(files, image)
        else:
            yield read_layout(files, image)
