"""Images written where tagmgr reads local images: an OCI layout as a tar file, a ``docker save``
archive, and a Docker daemon loaded from one. Built from ``tests.support.oci`` images, nothing
downloaded; layers of a docker-save archive are uncompressed, as Docker writes them.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tempfile
from pathlib import Path

from tests.support.oci import Image, write_oci_layout


def oci_archive(image: Image, path: Path, ref: str = "latest") -> Path:
    """``image`` as an OCI layout in a tar file, usable as ``oci-archive:PATH:ref``."""
    with tempfile.TemporaryDirectory() as scratch:
        layout = write_oci_layout(image, Path(scratch) / "layout", ref)
        with tarfile.open(path, "w") as archive:
            for member in sorted(layout.rglob("*")):
                archive.add(member, arcname=str(member.relative_to(layout)), recursive=False)
    return path


def docker_archive(image: Image, path: Path, repo_tags: list[str]) -> Path:
    """``image`` (one platform) as ``docker save`` of Docker 20.10 writes it: ``<id>.json``,
    ``<n>/layer.tar`` uncompressed, and ``manifest.json``."""
    manifest = json.loads(image.manifest_bytes)
    config_hex = manifest["config"]["digest"].removeprefix("sha256:")
    layers = []
    with tarfile.open(path, "w") as archive:
        _add(archive, f"{config_hex}.json", image.blobs[manifest["config"]["digest"]])
        for number, layer in enumerate(manifest["layers"]):
            blob = image.blobs[layer["digest"]]
            name = f"{number:064x}/layer.tar"
            _add(archive, name, gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob)
            layers.append(name)
        saved = [{"Config": f"{config_hex}.json", "RepoTags": repo_tags, "Layers": layers}]
        _add(archive, "manifest.json", json.dumps(saved).encode())
    return path


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))
