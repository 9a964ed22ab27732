"""Manifests: YAML files with locations -> JSON Schema and semantic checks -> ``Manifest`` values.

``load_manifests`` is the one entry point; every problem it finds comes back in one
``ManifestError``.
"""

from __future__ import annotations

from tagmgr.manifest.loader import MAX_MANIFEST_BYTES, load_manifests
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER, ImageEntry, Manifest, Upstream
from tagmgr.manifest.validate import SCHEMA_PATH, load_manifest_schema, resolve_repo

__all__ = [
    "DESCRIBE_PLACEHOLDER",
    "MAX_MANIFEST_BYTES",
    "SCHEMA_PATH",
    "ImageEntry",
    "Manifest",
    "Upstream",
    "load_manifest_schema",
    "load_manifests",
    "resolve_repo",
]
