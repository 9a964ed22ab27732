"""Container images built from scratch in Python, byte for byte reproducible from a seed string.

Nothing is downloaded: layers are gzip'd tarballs written with fixed metadata, so one seed always
gives the same digests and two seeds never share a blob. The media types are spelled out here
rather than imported from tagmgr, so a typo in the package cannot hide in its own tests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

_FIXED_MTIME = 1_700_000_000
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


@dataclass(frozen=True)
class MediaTypes:
    """The media types one image format uses: ``layer`` gzip'd, ``plain_layer`` uncompressed."""

    manifest: str
    index: str
    config: str
    layer: str
    plain_layer: str


OCI = MediaTypes(
    OCI_MANIFEST,
    OCI_INDEX,
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar",
)
DOCKER = MediaTypes(
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


@dataclass(frozen=True)
class Image:
    """A manifest's exact bytes, the blobs it names and, for an index, its child manifests."""

    media_type: str
    manifest_bytes: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    children: tuple[Image, ...] = ()

    @property
    def digest(self) -> str:
        return sha256(self.manifest_bytes)

    @property
    def size(self) -> int:
        return len(self.manifest_bytes)

    def as_descriptor(self) -> dict[str, object]:
        return descriptor(self.media_type, self.manifest_bytes)

    def manifests(self) -> Iterator[Image]:
        """Every manifest, children before the index that names them (the order to push)."""
        for child in self.children:
            yield from child.manifests()
        yield self

    def all_blobs(self) -> dict[str, bytes]:
        """Config and layer blobs of this image and all its children, by digest."""
        return {digest: data for image in self.manifests() for digest, data in image.blobs.items()}


def layer_tar(seed: str, number: int) -> bytes:
    """An uncompressed tarball holding one small file; identical input, identical bytes."""
    content = f"{seed}\nlayer {number}\n".encode()
    info = tarfile.TarInfo(f"layer{number}/seed.txt")
    info.size, info.mtime, info.mode = len(content), _FIXED_MTIME, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _config_and_layers(
    seed: str, types: MediaTypes, platform: tuple[str, str], layers: int
) -> tuple[dict[str, bytes], dict[str, object], list[dict[str, object]]]:
    """Blobs by digest, the config descriptor and the layer descriptors of one image."""
    tars = [layer_tar(seed, number) for number in range(layers)]
    compressed = [gzip.compress(tar, mtime=0) for tar in tars]
    os_name, architecture = platform
    config = json.dumps(
        {
            "architecture": architecture,
            "os": os_name,
            "config": {"Labels": {"seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar) for tar in tars]},
        },
        indent=2,
    ).encode()
    blobs = {sha256(blob): blob for blob in [config, *compressed]}
    return blobs, descriptor(types.config, config), [descriptor(types.layer, c) for c in compressed]


def single(
    seed: str, types: MediaTypes = OCI, platform: tuple[str, str] = PLATFORMS[0], layers: int = 2
) -> Image:
    """A one-platform image manifest in ``types``' format."""
    blobs, config, layer_descriptors = _config_and_layers(seed, types, platform, layers)
    manifest = {
        "schemaVersion": 2,
        "mediaType": types.manifest,
        "config": config,
        "layers": layer_descriptors,
    }
    return Image(types.manifest, json.dumps(manifest, indent=3).encode(), blobs)


def multi_platform(seed: str, types: MediaTypes = OCI) -> Image:
    """An index (or Docker manifest list) with one single-layer manifest per platform."""
    children = tuple(
        single(f"{seed}/{os_name}/{arch}", types, (os_name, arch), 1) for os_name, arch in PLATFORMS
    )
    entries = [
        {**child.as_descriptor(), "platform": {"os": os_name, "architecture": arch}}
        for child, (os_name, arch) in zip(children, PLATFORMS, strict=True)
    ]
    index = {"schemaVersion": 2, "mediaType": types.index, "manifests": entries}
    return Image(types.index, json.dumps(index, indent=3).encode(), children=children)


def oci_image(seed: str) -> Image:
    return single(seed, OCI)


def oci_index(seed: str) -> Image:
    return multi_platform(seed, OCI)


def docker_image(seed: str) -> Image:
    return single(seed, DOCKER)


def docker_list(seed: str) -> Image:
    return multi_platform(seed, DOCKER)


def daemon_form_docker_image(seed: str, layers: int = 2) -> Image:
    """A Docker schema 2 manifest in exactly the JSON a Docker daemon writes when it pushes.

    Go's ``json.MarshalIndent`` with three spaces, descriptors as mediaType, size, digest, no
    trailing newline: what dockerd 20.10 pushed for these blobs, byte for byte (measured).
    """
    blobs, config, layer_descriptors = _config_and_layers(seed, DOCKER, PLATFORMS[0], layers)

    def in_go_order(described: dict[str, object]) -> dict[str, object]:
        return {key: described[key] for key in ("mediaType", "size", "digest")}

    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER.manifest,
        "config": in_go_order(config),
        "layers": [in_go_order(layer) for layer in layer_descriptors],
    }
    return Image(DOCKER.manifest, json.dumps(manifest, indent=3).encode(), blobs)


def unusual_oci_image(seed: str) -> Image:
    """An OCI manifest no JSON library would write: any re-serialisation changes its digest.

    Keys out of order, mixed indentation with a tab, spaces around colons, a ``\\u00e9`` escape
    in an annotation and a trailing newline.
    """
    blobs, config, (layer,) = _config_and_layers(seed, OCI, PLATFORMS[0], 1)
    text = (
        '{"layers" : [\n'
        f"       {json.dumps(layer)}\n"
        "  ],\n"
        f'\t"config":{json.dumps(config, indent=1)},\n'
        f'   "annotations" :  {{"org.example.note": "caf\\u00e9 {json.dumps(seed)[1:-1]}"}},\n'
        f'"mediaType":   "{OCI_MANIFEST}",  "schemaVersion" : 2\n'
        "}\n"
    )
    return Image(OCI_MANIFEST, text.encode(), blobs)


# Image kinds by name, for tests parametrised over every kind.
KINDS: dict[str, Callable[[str], Image]] = {
    "oci": oci_image,
    "index": oci_index,
    "docker": docker_image,
    "docker_list": docker_list,
    "unusual": unusual_oci_image,
}


def write_oci_layout(image: Image, directory: Path, ref: str = "latest") -> Path:
    """Write ``image`` as an OCI image layout, usable as ``oci:DIRECTORY:ref``; return DIRECTORY.

    Only OCI media types at the top: skopeo 1.9 skips index.json entries of Docker types
    ("no descriptor found for reference"), so such a layout would be of no use to it.
    """
    if image.media_type not in (OCI_MANIFEST, OCI_INDEX):
        raise ValueError(f"skopeo 1.9 cannot read {image.media_type} from an OCI layout")
    blob_dir = directory / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    manifests = {m.digest: m.manifest_bytes for m in image.manifests()}
    for digest, data in {**image.all_blobs(), **manifests}.items():
        (blob_dir / digest.removeprefix("sha256:")).write_bytes(data)
    entry = {**image.as_descriptor(), "annotations": {REF_NAME_ANNOTATION: ref}}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text(json.dumps(index, indent=2))
    return directory


class ImageFactory:
    """Builds images whose content is unique to one test: seeds are prefixed with its node id."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def build(self, kind: str, seed: str = "") -> Image:
        """``kind`` is a key of ``KINDS``: oci, index, docker, docker_list or unusual."""
        return KINDS[kind](f"{self.prefix}#{seed}")

    def oci(self, seed: str = "") -> Image:
        return self.build("oci", seed)

    def index(self, seed: str = "") -> Image:
        return self.build("index", seed)

    def docker(self, seed: str = "") -> Image:
        return self.build("docker", seed)

    def docker_list(self, seed: str = "") -> Image:
        return self.build("docker_list", seed)

    def unusual(self, seed: str = "") -> Image:
        return self.build("unusual", seed)

    def daemon_form(self, seed: str = "") -> Image:
        """A Docker manifest as a daemon writes it (not in ``KINDS``: skopeo tests need none)."""
        return daemon_form_docker_image(f"{self.prefix}#{seed}")
