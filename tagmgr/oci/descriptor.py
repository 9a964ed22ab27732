"""Content descriptors: what a registry says a reference points at, and what a manifest names.

A registry's answer fills in the first three fields; an index entry may add its platform, and any
descriptor its annotations, artifact type and URLs, as the image spec's descriptor has them.
"""

from __future__ import annotations

from typing import NamedTuple

from tagmgr.oci.mediatypes import IMAGE_MANIFEST_TYPES
from tagmgr.oci.platform import UNKNOWN, Platform

# BuildKit marks the manifests of its attestations in an index with this annotation.
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
ATTESTATION = "attestation-manifest"


class Descriptor(NamedTuple):
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    artifact_type: str = ""
    annotations: tuple[tuple[str, str], ...] = ()  # sorted by key
    urls: tuple[str, ...] = ()

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)

    @property
    def platform_name(self) -> str:
        """``str(platform)``; ``unknown/unknown`` for an entry that states no platform."""
        return str(self.platform or UNKNOWN)

    @property
    def is_platform_image(self) -> bool:
        """An index entry that is one platform's image: an image manifest stating a platform,
        not BuildKit's ``unknown/unknown`` attestations."""
        return (
            self.media_type in IMAGE_MANIFEST_TYPES
            and self.platform is not None
            and not self.platform.is_unknown
            and self.annotation(REFERENCE_TYPE_ANNOTATION) != ATTESTATION
        )
