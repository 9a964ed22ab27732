"""Where an image is, spelled as skopeo spells it (containers-transports(5)).

- ``docker://REF``, or a reference alone: an image in a registry (``ImageReference``);
- ``oci:DIR[:REF]``: an OCI image layout directory; ``REF`` is an entry's
  ``org.opencontainers.image.ref.name``, and without it the layout must hold exactly one image;
- ``oci-archive:FILE[:REF]``: the same layout as a tar file;
- ``docker-archive:FILE[:{REF|@INDEX}]``: what ``docker save`` writes; ``REF`` is one of an
  entry's ``RepoTags`` (as Docker reads names: ``app:1`` is ``docker.io/library/app:1``) and
  ``@INDEX`` counts the archive's images from 0;
- ``docker-daemon:NAME:TAG`` (or ``NAME@DIGEST``, or an image ID ``sha256:HEX``): an image in a
  Docker daemon, named as ``docker`` names it.

As in skopeo, the path ends at the first ``:`` after the transport.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tagmgr.errors import InvalidReferenceError
from tagmgr.oci.reference import ImageReference

OCI = "oci"
OCI_ARCHIVE = "oci-archive"
DOCKER_ARCHIVE = "docker-archive"
DOCKER_DAEMON = "docker-daemon"
LOCAL_TRANSPORTS = (OCI, OCI_ARCHIVE, DOCKER_ARCHIVE, DOCKER_DAEMON)
REGISTRY_PREFIX = "docker://"
_INDEX = re.compile(r"@(0|[1-9][0-9]{0,8})")
_IMAGE_ID = re.compile(r"sha256:[a-f0-9]{64}")
# The image spec's ref.name grammar: components of alphanumerics joined by separators.
_REF_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_REF_NAME = re.compile(rf"{_REF_COMPONENT}(?:/{_REF_COMPONENT})*")


class LocalImage(NamedTuple):
    """An image on this machine: ``path`` is the layout, archive (or "" for a daemon); ``ref``
    picks one image in it, as the transport spells that ("" when it holds only one).

    A NamedTuple, as ``ImageReference`` is: the command line parses these, and ``validate``
    (a pre-commit hook) must not pay for importing ``dataclasses``."""

    transport: str
    path: str
    ref: str = ""

    def __str__(self) -> str:
        if self.transport == DOCKER_DAEMON:
            return f"{self.transport}:{self.ref}"
        return f"{self.transport}:{self.path}" + (f":{self.ref}" if self.ref else "")

    @property
    def source_index(self) -> int | None:
        """``@INDEX``'s number, for a docker-archive."""
        return int(self.ref[1:]) if _INDEX.fullmatch(self.ref) else None


ImageLocation = ImageReference | LocalImage


def parse_location(text: str) -> ImageLocation:
    """A registry reference, or a local image with a transport; ``InvalidReferenceError``."""
    transport, colon, details = text.partition(":")
    if text.startswith(REGISTRY_PREFIX):
        return ImageReference.parse(text.removeprefix(REGISTRY_PREFIX))
    if not colon or transport not in LOCAL_TRANSPORTS:
        return ImageReference.parse(text)
    if transport == DOCKER_DAEMON:
        return LocalImage(transport, "", _daemon_name(text, details))
    path, _, ref = details.partition(":")
    if not path:
        raise InvalidReferenceError(
            f"{text!r}: {transport}: needs a path, as in {_form(transport)}"
        )
    if ref and transport == DOCKER_ARCHIVE and not _INDEX.fullmatch(ref):
        _familiar_without_digest(text, ref)
    elif ref and transport != DOCKER_ARCHIVE and not _REF_NAME.fullmatch(ref):
        raise InvalidReferenceError(
            f"{text!r}: {ref!r} is not an image layout's ref.name (letters and digits, "
            "joined by '-', '.', '_', ':', '@', '+' or '/')"
        )
    return LocalImage(transport, path, ref)


def _form(transport: str) -> str:
    return {
        OCI: "oci:DIR[:REF]",
        OCI_ARCHIVE: "oci-archive:FILE[:REF]",
        DOCKER_ARCHIVE: "docker-archive:FILE[:REF|:@INDEX]",
    }[transport]


def _daemon_name(text: str, name: str) -> str:
    if _IMAGE_ID.fullmatch(name):
        return name
    try:
        reference = ImageReference.parse_familiar(name)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(f"{text!r}: docker-daemon: {error}") from None
    if reference.tag is None and reference.digest is None:
        raise InvalidReferenceError(
            f"{text!r}: docker-daemon: give a tag, a digest or an image ID "
            "(docker-daemon:NAME:TAG, docker-daemon:NAME@sha256:..., docker-daemon:sha256:...)"
        )
    return name


def _familiar_without_digest(text: str, ref: str) -> None:
    try:
        reference = ImageReference.parse_familiar(ref)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(f"{text!r}: docker-archive: {error}") from None
    if reference.digest is not None:
        raise InvalidReferenceError(
            f"{text!r}: docker-archive: name one of the archive's RepoTags (NAME[:TAG], no "
            "digest) or its position (@0, @1, ...)"
        )
