"""pin-refs: move image references in charts, compose files, Dockerfiles and text to the
reviewed stable tags (and digests). A diff without ``--write``; edits in place with it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tagmgr.commands.options import CommandTable, open_registries, registry_map, report_options
from tagmgr.errors import DocumentError

if TYPE_CHECKING:
    from tagmgr.pinrefs.edit import FileEdit
    from tagmgr.pinrefs.pins import PinTable


def register(table: CommandTable) -> None:
    git, registry = table.groups.git, table.groups.registry
    pinning = table.add(
        "pin-refs",
        pin_refs,
        "pin image references in files to stable tags (exit 2: a reference would change)",
        [git, registry],
    )
    pinning.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files, directories")
    source = pinning.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", action="append", metavar="FILE", help="manifest files")
    source.add_argument("--lock", type=Path, metavar="LOCKFILE", help="a lock file")
    pinning.add_argument("--digest", action="store_true", help="write repo:tag@sha256:...")
    pinning.add_argument("--write", action="store_true", help="edit the files in place")


def pin_refs(args: argparse.Namespace) -> int:
    from tagmgr.filerefs.find import scan
    from tagmgr.filerefs.walk import collect
    from tagmgr.pinrefs.plan import changed, exit_code, plan_pins
    from tagmgr.report.pinrefs import pinned
    from tagmgr.report.publish import publish
    from tagmgr.system import interrupt

    if not args.write:
        interrupt.stop_at_once()  # pin-refs writes nothing without --write
    with interrupt.stopping_at_once():  # until the first file is written
        table = _pins_from_lock(args.lock) if args.lock else _pins_from_manifests(args)
        inputs = [*(args.manifest or []), *([args.lock] if args.lock else [])]
        collected = collect(args.paths, leave_out={Path(os.path.realpath(p)) for p in inputs})
        if collected.problems:
            raise DocumentError(collected.problems)
        found = scan(collected.files, collected.skipped)
        edits = plan_pins(found, table, with_digest=args.digest)
    unwritten = _write(changed(edits)) if args.write else []
    report = pinned(edits, collected.skipped, unwritten, written=bool(args.write))
    publish(report, report_options(args))
    return exit_code(edits, written=args.write)


def _write(changed: Sequence[FileEdit]) -> list[FileEdit]:
    """Write each file until a signal asks to stop; the edits left unwritten."""
    from tagmgr.pinrefs.edit import write
    from tagmgr.system import interrupt

    for index, edit in enumerate(changed):
        if interrupt.requested():
            return list(changed[index:])
        write(edit)
    return []


def _pins_from_lock(path: Path) -> PinTable:
    from tagmgr.lock import read_lock
    from tagmgr.pinrefs.pins import Pin, PinTable

    entries = read_lock(path).entries
    return PinTable(Pin.of(entry.target, entry.source, entry.digest) for entry in entries)


def _pins_from_manifests(args: argparse.Namespace) -> PinTable:
    """Entries as written (files name docker.io, not a mirror); digests HEADed where mapped."""
    from tagmgr.manifest import load_manifests
    from tagmgr.oci.registrymap import RegistryMap
    from tagmgr.pinrefs.pins import Pin, PinTable
    from tagmgr.reconcile import pipeline
    from tagmgr.reconcile.targets import Target
    from tagmgr.system.concurrency import map_in_threads

    manifests = load_manifests(args.manifest)
    resolved = pipeline.resolve(
        manifests, registry_map=RegistryMap(), git_cache=args.git_cache, jobs=args.jobs
    )
    targets = [t for t in resolved if isinstance(t, Target)]
    mapping = registry_map(args)
    digests: list[str | None] = [None] * len(targets)
    if args.digest:
        with open_registries(args) as registries:

            def head(target: Target) -> str | None:
                ref = mapping.apply(target.destination)
                found = registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))
                return found.digest if found else None

            digests = map_in_threads(head, targets, args.jobs)
    pins = (
        Pin.of(t.destination, t.source, digest) for t, digest in zip(targets, digests, strict=True)
    )
    return PinTable(pins, digests_known=args.digest)
