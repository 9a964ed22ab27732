"""Writing derived tags (``describe --write``) into the manifests they were derived for."""

from __future__ import annotations

from collections.abc import Sequence

from tagmgr.manifest.model import Manifest
from tagmgr.manifest.write import write_tags
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.targets import Resolved, Target
from tagmgr.system import interrupt


def write_derived_tags(manifests: Sequence[Manifest], derived: Sequence[Resolved]) -> list[str]:
    """Each file's tags, until a signal asks to stop; the files left unwritten."""
    concrete = {
        id(item.entry): item.destination.tag for item in derived if isinstance(item, Target)
    }
    unwritten = []
    for manifest in manifests:
        tags = {
            index: tag
            for index, entry in enumerate(manifest.entries)
            if (tag := concrete.get(id(entry))) is not None
        }
        if tags and interrupt.requested():
            unwritten.append(manifest.path)
        elif tags:
            names = {index: ImageReference.parse(manifest.entries[index].name) for index in tags}
            write_tags(manifest.path, tags, names)
    return unwritten
