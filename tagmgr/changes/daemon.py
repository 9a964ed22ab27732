"""An image in a Docker daemon, read in one pass of the stream ``docker save`` sends.

The Engine API gives an image's content only as that one tar stream (``GET /images/NAME/get``),
with no way to read one layer, and in no set order (Docker 20.10 writes ``<id>.json`` for the
config and ``<v1 id>/layer.tar`` for each layer; Docker 25 an OCI layout with ``blobs/sha256``).
So the stream is walked once, as it arrives: the config is the file named by the image ID
(``docker inspect``'s ``Id``, the sha256 of the config's bytes, checked); every file whose first
bytes show a tar is walked as a layer and hashed, and what each layer does is kept by the digest
of its uncompressed bytes, which is what the config's diff_ids name. Memory holds one chunk, one
tar block and the layers' records (paths, modes, content digests), never a file or a layer.

A daemon keeps no manifest: the image's digest here is its image ID. Docker compresses layers
again when it pushes, so the registry digest of the same image differs; its config, and so its
image ID and diff_ids, do not.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator, Mapping

from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.images import ImageSide, PlatformImage
from tagmgr.changes.local import image_id as local_image_id
from tagmgr.changes.local import saved_platform, walk_sniffed
from tagmgr.changes.streams import ChunkReader
from tagmgr.changes.walk import READ_SIZE, Layer
from tagmgr.errors import DockerError, ImageFormatError
from tagmgr.oci.content import parse_config, read_capped
from tagmgr.oci.transport import LocalImage
from tagmgr.system.dockerhost import connect

LAYER_FILE = "layer.tar"


class WalkedLayers:
    """Layers already walked, by diff_id."""

    def __init__(self, walked: Mapping[str, LayerChanges]) -> None:
        self._walked = walked

    def changes(self, layer: Layer) -> LayerChanges:
        return self._walked[layer.diff_id]


def read_daemon_image(image: LocalImage) -> ImageSide:
    what = str(image)
    with connect() as api:
        inspected = api.inspect_image(image.ref)  # type: ignore[no-untyped-call]
        image_id = str(inspected.get("Id", ""))
        wanted = set((inspected.get("RootFS") or {}).get("Layers") or [])
        stream = api.get_image(image.ref, chunk_size=READ_SIZE)
        content, walked = _walk_saved(stream, image_id, wanted, what)
    config = parse_config(content, f"config {what}")
    missing = [diff_id for diff_id in config.diff_ids if diff_id not in walked]
    if missing:
        raise DockerError(
            f"{what}: the daemon's save stream holds no layer with diff_id {missing[0]} "
            "(a zstd layer is not read)"
        )
    platform = saved_platform(image_id, config, len(config.diff_ids), what)
    layers = tuple(Layer(diff_id, "", diff_id) for diff_id in config.diff_ids)
    one = PlatformImage(platform, image_id, config.document, layers)
    return ImageSide(what, image_id, {platform: one}, WalkedLayers(walked))


def _walk_saved(
    stream: Iterator[bytes], image_id: str, wanted: set[str], what: str
) -> tuple[bytes, dict[str, LayerChanges]]:
    """The config's bytes and the wanted layers' changes, from one pass of the stream."""
    hex_id = image_id.partition(":")[2]
    config_names = {f"{hex_id}.json", f"blobs/sha256/{hex_id}"}
    content = None
    walked: dict[str, LayerChanges] = {}
    with tarfile.open(fileobj=ChunkReader(stream), mode="r|", bufsize=READ_SIZE) as archive:
        while (member := archive.next()) is not None:
            archive.members.clear()  # type: ignore[attr-defined]
            file = archive.extractfile(member) if member.isfile() else None
            if file is None:
                continue  # a directory, or a repeated layer saved as a link to the first
            chunks = iter(lambda f=file: f.read(READ_SIZE), b"")  # type: ignore[misc]
            if member.name in config_names:
                content = read_capped(chunks, f"{what}: {member.name}")
            elif member.name.endswith(f"/{LAYER_FILE}") or member.name.startswith("blobs/"):
                found = walk_sniffed(member.name, chunks)
                if found is not None and found[1] in wanted:
                    walked[found[1]] = found[0]
    if content is None or local_image_id(content) != image_id:
        raise ImageFormatError(
            f"{what}: the daemon's save stream holds no config of image {image_id} "
            "(was the name given to another image while it was read?)"
        )
    return content, walked
