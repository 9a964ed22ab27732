"""Writing derived tags (``describe --write``) into the manifests they were derived for."""

from __future__ import annotations

import os
from collections.abc import Sequence

from tagmgr.manifest.model import Manifest
from tagmgr.manifest.write import write_tags
from tagmgr.reconcile.targets import Resolved, Target
from tagmgr.system import interrupt


def write_derived_tags(manifests: Sequence[Manifest], derived: Sequence[Resolved]) -> list[str]:
    """Each file's tags, until a signal asks to stop; the files left unwritten."""
    concrete = {  # a repeat of an entry gets its tag too, or keeps its {describe} for ever
        id(entry): item.destination.tag
        for item in derived
        if isinstance(item, Target)
        for entry in (item.entry, *item.repeats)
    }
    unwritten = []
    written: set[str] = set()  # a file named twice (a glob and a path) is written once
    for manifest in manifests:
        tags = {
            index: tag
            for index, entry in enumerate(manifest.entries)
            if (tag := concrete.get(id(entry))) is not None
        }
        real = os.path.realpath(manifest.path)
        if not tags or real in written:
            continue
        if interrupt.requested():
            unwritten.append(manifest.path)
            continue
        write_tags(manifest.path, tags, {index: manifest.entries[index] for index in tags})
        written.add(real)
    return unwritten
