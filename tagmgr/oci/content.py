"""Image manifests, indexes and configs, parsed from their exact bytes into values.

The one place tagmgr reads OCI or Docker schema 2 JSON. Parsing never writes JSON back: the bytes
stay with whoever read them, and are what gets copied and hashed. What tagmgr relies on is checked
as the image spec states it (schemaVersion 2, descriptors with a media type, a digest tagmgr can
verify and a size, platforms with an OS and an architecture); what it does not use is left alone,
and, as the spec asks, a media type tagmgr does not know is not an error in a copy.

Manifests and configs are small: more than ``MAX_DOCUMENT_BYTES`` of either is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tagmgr.errors import ImageFormatError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import INDEX_TYPES, MANIFEST_MEDIA_TYPES
from tagmgr.oci.platform import Platform
from tagmgr.oci.reference import DIGEST_PATTERN

# The distribution spec's manifest size every client and registry should handle; containers/image
# holds configs to the same bound.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
_MEDIA_TYPE_RE = re.compile(  # RFC 6838's names, as the image spec's schema spells them
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)
_DIGEST_RE = re.compile(DIGEST_PATTERN)
_MAX_SIZE = 2**63 - 1
_FRACTION = re.compile(r"(\.[0-9]{1,6})[0-9]*")

Annotations = tuple[tuple[str, str], ...]


class ImageManifest(NamedTuple):
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: Annotations = ()

    @property
    def blobs(self) -> tuple[str, ...]:
        """The config's digest, then each layer's."""
        return (self.config.digest, *(layer.digest for layer in self.layers))


class ImageIndex(NamedTuple):
    media_type: str
    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: Annotations = ()


ManifestOrIndex = ImageManifest | ImageIndex


class ImageConfig(NamedTuple):
    """The fields tagmgr reads by name, and the whole ``document`` to compare field by field.

    ``platform`` is None when the config names none (cosign's signatures write an empty OS and
    architecture); ``diff_ids`` are empty without a ``rootfs`` (a reader that needs them compares
    their count with the layers)."""

    platform: Platform | None
    diff_ids: tuple[str, ...]
    created: datetime | None
    document: Mapping[str, Any]


class _Bad(Exception):
    """One field that is not as the spec has it: where (``path``) and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)


def parse_manifest(content: bytes, media_type: str, what: str) -> ManifestOrIndex | None:
    """The image manifest or index ``content`` holds, or None when it is of a media type tagmgr
    does not read (another manifest format, an unknown artifact).

    ``media_type`` is the one the registry served; when that is empty, the document's own
    ``mediaType`` decides. ``what`` names the document in errors (``ImageFormatError``).
    """
    if media_type and media_type not in MANIFEST_MEDIA_TYPES:
        return None
    document = _decode(content, what)
    try:
        stated = _optional_str(document, "mediaType", "")
        kind = media_type or stated
        if kind not in MANIFEST_MEDIA_TYPES:
            return None
        if stated and stated != kind:
            raise _Bad("mediaType", f"{stated!r}, but it was served as {kind}")
        version = document.get("schemaVersion")
        if type(version) is not int or version != 2:
            raise _Bad("schemaVersion", f"{version!r}, not 2")
        return _index(document, kind) if kind in INDEX_TYPES else _image_manifest(document, kind)
    except _Bad as bad:
        raise ImageFormatError(f"{what}: {bad}") from None


def parse_config(content: bytes, what: str) -> ImageConfig:
    """An image config (OCI or Docker: the same fields), or ``ImageFormatError``."""
    document = _decode(content, what)
    try:
        named = document.get("os") or document.get("architecture")
        rootfs = document.get("rootfs")
        diff_ids = _optional_list(
            {} if rootfs is None else _object(rootfs, "rootfs"), "diff_ids", "rootfs"
        )
        return ImageConfig(
            _platform(document, "") if named else None,
            tuple(_digest(d, f"rootfs.diff_ids[{n}]") for n, d in enumerate(diff_ids)),
            parse_created(document.get("created")),
            document,
        )
    except _Bad as bad:
        raise ImageFormatError(f"{what}: {bad}") from None


def read_capped(chunks: Iterable[bytes], what: str) -> bytes:
    """The bytes of a manifest or config, read up to ``MAX_DOCUMENT_BYTES`` and no further."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        _check_size(len(data), what)
    return bytes(data)


def parse_created(value: object) -> datetime | None:
    """A config's ``created`` (RFC 3339, nanoseconds cut to microseconds), or None when it is
    absent or unreadable: an image with no time is one no age rule judges."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _check_size(size: int, what: str) -> None:
    if size > MAX_DOCUMENT_BYTES:
        raise ImageFormatError(
            f"{what} is larger than {MAX_DOCUMENT_BYTES} bytes, the most tagmgr reads of a "
            "manifest or config"
        )


def _decode(content: bytes, what: str) -> dict[str, Any]:
    _check_size(len(content), what)
    try:
        document = json.loads(content, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ImageFormatError(f"{what} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ImageFormatError(f"{what} is not a JSON object")
    return document


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _image_manifest(document: dict[str, Any], kind: str) -> ImageManifest:
    layers = _list(document.get("layers"), "layers")
    return ImageManifest(
        kind,
        _descriptor(document.get("config"), "config"),
        tuple(_descriptor(layer, f"layers[{n}]") for n, layer in enumerate(layers)),
        *_shared(document),
    )


def _index(document: dict[str, Any], kind: str) -> ImageIndex:
    entries = _list(document.get("manifests"), "manifests")
    return ImageIndex(
        kind,
        tuple(_descriptor(entry, f"manifests[{n}]") for n, entry in enumerate(entries)),
        *_shared(document),
    )


def _shared(document: dict[str, Any]) -> tuple[Descriptor | None, str, Annotations]:
    """``subject``, ``artifactType`` and ``annotations``: an index's and a manifest's alike."""
    subject = document.get("subject")
    return (
        None if subject is None else _descriptor(subject, "subject"),
        _media_type(document, "artifactType", required=False),
        _annotations(document, ""),
    )


def _descriptor(value: object, path: str) -> Descriptor:
    fields = _object(value, path)
    size = fields.get("size")
    if type(size) is not int or not 0 <= size <= _MAX_SIZE:
        raise _Bad(f"{path}.size", f"{size!r} is not a size in bytes")
    platform = fields.get("platform")
    urls = _optional_list(fields, "urls", path)
    return Descriptor(
        _media_type(fields, "mediaType", required=True, path=path),
        _digest(fields.get("digest"), f"{path}.digest"),
        size,
        None if platform is None else _platform(_object(platform, f"{path}.platform"), path),
        _media_type(fields, "artifactType", required=False, path=path),
        _annotations(fields, path),
        tuple(_str(url, f"{path}.urls[{n}]") for n, url in enumerate(urls)),
    )


def _platform(fields: Mapping[str, Any], path: str) -> Platform:
    """The platform fields of an index entry's ``platform``, or of a config's top level."""
    where = f"{path}.platform" if path else ""
    features = _optional_list(fields, "os.features", where)
    try:
        return Platform(
            _str(fields.get("os"), _join(where, "os")),
            _str(fields.get("architecture"), _join(where, "architecture")),
            _optional_str(fields, "variant", where),
            _optional_str(fields, "os.version", where),
            tuple(_str(f, _join(where, f"os.features[{n}]")) for n, f in enumerate(features)),
        )
    except ValueError as error:
        raise _Bad(where, str(error)) from None


def _media_type(fields: Mapping[str, Any], key: str, *, required: bool, path: str = "") -> str:
    where = _join(path, key)
    value = _str(fields.get(key), where) if required else _optional_str(fields, key, path)
    if (required or value) and not _MEDIA_TYPE_RE.fullmatch(value):
        raise _Bad(where, f"{value!r} is not a media type")
    return value


def _digest(value: object, path: str) -> str:
    if not (isinstance(value, str) and _DIGEST_RE.fullmatch(value)):
        raise _Bad(path, f"{value!r} is not a sha256 or sha512 digest, which tagmgr verifies")
    return value


def _annotations(fields: Mapping[str, Any], path: str) -> Annotations:
    where = _join(path, "annotations")
    value = fields.get("annotations")
    annotations = {} if value is None else _object(value, where)
    for key, value in annotations.items():
        _str(value, f"{where}[{key!r}]")
    return tuple(sorted(annotations.items()))


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(path, "missing" if value is None else "not a JSON object")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(path, "missing" if value is None else "not a list")
    return value


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _Bad(path, "missing" if value is None else f"{value!r} is not a string")
    return value


def _optional_str(fields: Mapping[str, Any], key: str, path: str) -> str:
    """An optional string field: absent and null (the spec's "equivalent to absent") give ""."""
    value = fields.get(key)
    return "" if value is None else _str(value, _join(path, key))


def _optional_list(fields: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = fields.get(key)
    return [] if value is None else _list(value, _join(path, key))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
