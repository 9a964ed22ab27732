"""The OCI image layout (image-spec ``image-layout.md``): which manifest a ref names, where a blob
is. Pure: the caller reads the files, from a directory or from a tar archive of one."""

from __future__ import annotations

import json

from tagmgr.errors import ImageFormatError
from tagmgr.oci.content import ImageIndex, parse_manifest
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"


def blob_path(digest: str) -> str:
    """``blobs/ALGORITHM/HEX``; ``digest`` is one the parser checked (no ``/`` or ``..``)."""
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def check_layout(content: bytes, what: str) -> None:
    """``oci-layout`` must name the layout version, which is 1.0.0 for every layout to date."""
    try:
        version = json.loads(content).get("imageLayoutVersion")
    except (ValueError, AttributeError):
        version = None
    if version != "1.0.0":
        raise ImageFormatError(
            f"{what}: {LAYOUT_FILE} does not say imageLayoutVersion 1.0.0; not an OCI image layout"
        )


def select_manifest(content: bytes, ref: str, what: str) -> Descriptor:
    """The entry of ``index.json`` whose ref.name is ``ref``; without ``ref``, its only entry."""
    index = parse_manifest(content, OCI_INDEX, f"{what}: {INDEX_FILE}")
    if not isinstance(index, ImageIndex):
        raise ImageFormatError(f"{what}: {INDEX_FILE} is not an image index")
    if not ref:
        if len(index.manifests) != 1:
            raise ImageFormatError(
                f"{what} holds {len(index.manifests)} images; name one with :REF ({_names(index)})"
            )
        return index.manifests[0]
    chosen = [entry for entry in index.manifests if entry.annotation(REF_NAME_ANNOTATION) == ref]
    if len(chosen) != 1:
        found = "no image" if not chosen else f"{len(chosen)} images"
        raise ImageFormatError(f"{what} has {found} named {ref!r} ({_names(index)})")
    return chosen[0]


def _names(index: ImageIndex) -> str:
    names = sorted({entry.annotation(REF_NAME_ANNOTATION) or "" for entry in index.manifests})
    shown = [repr(name) for name in names if name]
    return f"ref names: {', '.join(shown)}" if shown else "no entry has a ref name"
