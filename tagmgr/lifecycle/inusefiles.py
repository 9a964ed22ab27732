"""In-use records from files: tagmgr manifests, and Kubernetes, compose or Helm YAML.

A manifest names the source (``name:src_build_tag``) and target (``name:tag``) of every entry;
a template tag (``{describe}``) is not derived here, so its source alone counts. In any other
YAML, every ``image:`` text counts (Kubernetes containers, compose services), and so does a Helm
values mapping ``image: {registry, repository, tag, digest}``; names are read as Docker reads
them (``redis`` is ``docker.io/library/redis:latest``). A value there that is not an image
reference (a Helm template, say) is an error: give rendered files (``helm template``) instead,
since an image that cannot be read cannot be protected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tagmgr.documents.located import FieldPath, LocatedDocument, render_path
from tagmgr.errors import InvalidReferenceError, ManifestError, Problem
from tagmgr.lifecycle.inuse import InUse
from tagmgr.lifecycle.runtime import familiar
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


def images_in_use(path: str, documents: list[LocatedDocument]) -> list[InUse]:
    """Every ``image:`` of every document; all unreadable ones reported at once."""
    records, problems = [], []
    for doc in documents:
        for field, text in _images(doc.data, ()):
            where = doc.location(field)
            try:
                reference = familiar(text)
            except InvalidReferenceError as error:
                problems.append(
                    Problem(where, render_path(field), f"not an image reference ({error})")
                )
                continue
            records.append(InUse(reference, f"{where}: {render_path(field)}"))
    if problems:
        raise ManifestError(problems)
    return records


def _images(value: object, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _images(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            child = (*path, key)
            if key == "image" and isinstance(item, str):
                yield child, item
            elif key == "image" and isinstance(item, dict) and "repository" in item:
                yield child, _helm_image(item)
            else:
                yield from _images(item, child)


def _helm_image(values: Mapping[str, object]) -> str:
    """Helm's common ``image: {registry, repository, tag, digest}`` as one reference."""
    text = str(values.get("repository", ""))
    if values.get("registry"):
        text = f"{values['registry']}/{text}"
    if values.get("tag"):
        text += f":{values['tag']}"
    if values.get("digest"):
        text += f"@{values['digest']}"
    return text
