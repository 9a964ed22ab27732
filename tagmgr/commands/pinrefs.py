"""pin-refs: move image references in charts, compose files, Dockerfiles and text to the
reviewed stable tags (and digests). A diff without ``--write``; edits in place with it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagmgr import exitcodes
from tagmgr.commands.options import CommandTable, open_registries, registry_map
from tagmgr.errors import ManifestError

if TYPE_CHECKING:
    from tagmgr.pinrefs.edit import FileEdit
    from tagmgr.pinrefs.pins import Pin


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
    from tagmgr.filerefs.walk import collect, find_sites, read_text
    from tagmgr.pinrefs.edit import plan_file, write
    from tagmgr.pinrefs.pins import PinTable

    table = PinTable(_pins_from_lock(args.lock) if args.lock else _pins_from_manifests(args))
    files, problems = collect(args.paths)
    if problems:
        raise ManifestError(problems)
    inputs = {
        Path(p).resolve() for p in [*(args.manifest or []), *([args.lock] if args.lock else [])]
    }
    files = [f for f in files if f.resolve() not in inputs]  # never pin the pins' own source
    edits: list[FileEdit] = []
    for path in files:
        text = read_text(path)
        if text is None:
            continue
        decisions = [
            decision
            for site in find_sites(path, text)
            if (decision := table.decide(site, with_digest=args.digest)) is not None
        ]
        if decisions:
            edits.append(plan_file(path, text, decisions))
    changed = [e for e in edits if e.edits]
    if args.write:
        for edit in changed:
            write(edit)
    _report(args, edits)
    if any(e.unresolvable for e in edits):
        return exitcodes.FAILURE
    return exitcodes.CHANGES_PENDING if changed and not args.write else exitcodes.OK


def _pins_from_lock(path: Path) -> list[Pin]:
    from tagmgr.lock import read_lock
    from tagmgr.pinrefs.pins import Pin

    return [Pin.of(entry.target, entry.source, entry.digest) for entry in read_lock(path).entries]


def _pins_from_manifests(args: argparse.Namespace) -> list[Pin]:
    """Entries as written (files name docker.io, not a mirror); digests HEADed where mapped."""
    from tagmgr.manifest import load_manifests
    from tagmgr.oci.registrymap import RegistryMap
    from tagmgr.pinrefs.pins import Pin
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
    return [
        Pin.of(t.destination, t.source, digest) for t, digest in zip(targets, digests, strict=True)
    ]


def _report(args: argparse.Namespace, edits: Sequence[FileEdit]) -> None:
    from tagmgr.pinrefs.edit import unified_diff
    from tagmgr.report import JSON_FORMAT_VERSION, dump_json

    unresolvable = [u for e in edits for u in e.unresolvable]
    for item in unresolvable:
        site = item.site
        print(f"{site.location}: {site.written}: {item.message}", file=sys.stderr)
    if args.output == "json":
        document: dict[str, Any] = {
            "format": JSON_FORMAT_VERSION,
            "command": "pin-refs",
            "written": bool(args.write),
            "changes": [
                {
                    "file": c.site.location.file,
                    "line": c.site.location.line,
                    "column": c.site.location.column,
                    "from": c.site.written,
                    "tag": c.tag,
                    "digest": c.digest,
                }
                for e in edits
                for c in e.changes
            ],
            "unresolvable": [
                {
                    "file": u.site.location.file,
                    "line": u.site.location.line,
                    "column": u.site.location.column,
                    "reference": u.site.written,
                    "message": u.message,
                }
                for u in unresolvable
            ],
        }
        dump_json(document, sys.stdout)
        return
    for edit in edits:
        if not edit.edits:
            continue
        if args.write:
            print(f"{edit.path}: {len(edit.changes)} references pinned")
        else:
            sys.stdout.write(unified_diff(edit))
