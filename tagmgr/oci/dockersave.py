"""``docker save`` archives: the ``manifest.json`` that says which files make which image.

Each entry names its config file, its ``RepoTags`` and its layer files, bottom layer first; the
files are paths in the archive (``<id>.json`` and ``<id>/layer.tar`` from Docker 20.10,
``blobs/sha256/<hex>`` from Docker 25). Pure: the caller reads the archive.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from tagmgr.errors import ImageFormatError, InvalidReferenceError
from tagmgr.oci.reference import ImageReference

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class SavedImage:
    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]


def parse_saved(content: bytes, what: str) -> list[SavedImage]:
    """The images of ``manifest.json``, or ``ImageFormatError``."""
    try:
        entries = json.loads(content)
    except ValueError as error:
        raise ImageFormatError(f"{what}: {MANIFEST_FILE} is not JSON: {error}") from None
    if not isinstance(entries, list):
        raise ImageFormatError(f"{what}: {MANIFEST_FILE} is not a list of images")
    return [_saved(entry, f"{what}: {MANIFEST_FILE}[{n}]") for n, entry in enumerate(entries)]


def select_saved(images: list[SavedImage], ref: str, index: int | None, what: str) -> SavedImage:
    """The image at ``index``, or tagged ``ref`` (as Docker reads names), or the only one."""
    if index is not None:
        if index >= len(images):
            raise ImageFormatError(f"{what} holds {len(images)} images; there is no @{index}")
        return images[index]
    if not ref:
        if len(images) != 1:
            raise ImageFormatError(
                f"{what} holds {len(images)} images; name one with :NAME:TAG or :@INDEX"
            )
        return images[0]
    wanted = _normal(ref)
    chosen = [image for image in images if wanted in map(_normal, image.repo_tags)]
    if len(chosen) != 1:
        tags = sorted({tag for image in images for tag in image.repo_tags})
        found = "no image" if not chosen else f"{len(chosen)} images"
        raise ImageFormatError(
            f"{what} has {found} tagged {ref} (RepoTags: {', '.join(tags) or 'none'})"
        )
    return chosen[0]


def _normal(name: str) -> str:
    try:
        reference = ImageReference.parse_familiar(name)
    except InvalidReferenceError:
        return name
    return str(reference.with_tag(reference.tag or "latest"))


def _saved(entry: object, what: str) -> SavedImage:
    if not isinstance(entry, dict):
        raise ImageFormatError(f"{what} is not a JSON object")
    config, tags, layers = entry.get("Config"), entry.get("RepoTags") or [], entry.get("Layers")
    if not _member(config):
        raise ImageFormatError(f"{what}.Config: {config!r} is not a file in the archive")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ImageFormatError(f"{what}.RepoTags: not a list of names")
    if not isinstance(layers, list) or not all(_member(layer) for layer in layers):
        raise ImageFormatError(f"{what}.Layers: not a list of files in the archive")
    return SavedImage(str(config), tuple(tags), tuple(layers))


def _member(path: object) -> bool:
    """A relative path that stays inside the archive."""
    return (
        isinstance(path, str)
        and bool(path)
        and not path.startswith("/")
        and not posixpath.normpath(path).startswith("..")
    )
