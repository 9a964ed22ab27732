"""In-use records from files: tagmgr manifests, and every other file's image references.

A manifest names the source (``name:src_build_tag``) and target (``name:tag``) of every entry;
a template tag (``{describe}``) is not derived here, so its source alone counts. Any other file
(Kubernetes, compose, Helm values, Dockerfiles, text) counts every reference the one finder
(``tagmgr.filerefs``) finds in it, the finder pin-refs uses, so the two always agree.
"""

from __future__ import annotations

from tagmgr.documents.located import LocatedDocument
from tagmgr.errors import DocumentError, Problem
from tagmgr.filerefs.site import FileRefs
from tagmgr.lifecycle.inuse import InUse
from tagmgr.manifest import DESCRIBE_PLACEHOLDER, load_manifests
from tagmgr.oci.reference import ImageReference


def is_manifest(documents: list[LocatedDocument]) -> bool:
    return (
        len(documents) == 1
        and isinstance(documents[0].data, dict)
        and isinstance(documents[0].data.get("images"), list)
        and "apiVersion" not in documents[0].data
    )


def manifest_in_use(path: str, _documents: list[LocatedDocument]) -> list[InUse]:
    records = []
    for manifest in load_manifests([path]):
        for entry in manifest.entries:
            where = f"{entry.location()}: {entry.field_path}"
            name = ImageReference.parse(entry.name)
            if entry.src_build_tag:
                records.append(InUse(name.with_tag(entry.src_build_tag), f"{where} (source)"))
            if entry.src_digest:
                records.append(InUse(name.with_digest(entry.src_digest), f"{where} (source)"))
            if entry.tag and DESCRIBE_PLACEHOLDER not in entry.tag:
                records.append(InUse(name.with_tag(entry.tag), f"{where} (target)"))
    return records


def references_in_use(found: FileRefs) -> list[InUse]:
    """Every reference the finder found in a file, named as a runtime pulls it (no tag is
    ``latest``); a place it cannot read is an error, since an image that cannot be read cannot be
    protected: render templates first (``helm template``)."""
    if found.unreadable:
        raise DocumentError([Problem(u.location, u.context, u.reason) for u in found.unreadable])
    records = []
    for site in found.references:
        reference = site.reference
        if reference.tag is None and reference.digest is None:
            reference = reference.with_tag("latest")
        records.append(InUse(reference, f"{site.location}: {site.context or site.written}"))
    return records
