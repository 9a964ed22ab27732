"""pin-refs: move image references in charts, compose files, Dockerfiles and text to the
reviewed stable tags (and digests). A diff without ``--write``; edits in place with it."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagmgr import exitcodes
from tagmgr.commands import core
from tagmgr.commands.options import CommandTable, open_registries
from tagmgr.errors import ManifestError

if TYPE_CHECKING:
    from tagmgr.pinrefs.edit import FileEdit
    from tagmgr.pinrefs.pins import Pin, PinTable
    from tagmgr.pinrefs.walk import Collected, Skipped


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
    from tagmgr.pinrefs.pins import PinTable
    from tagmgr.pinrefs.walk import collect

    table = PinTable(_pins_from_lock(args.lock) if args.lock else _pins_from_manifests(args))
    inputs = [*(args.manifest or []), *([args.lock] if args.lock else [])]
    found = collect(args.paths, leave_out={Path(os.path.realpath(p)) for p in inputs})
    if found.problems:
        raise ManifestError(found.problems)
    edits = _plan(table, found, with_digest=args.digest)
    changed = [e for e in edits if e.edits]
    unwritten = _write(changed) if args.write else []
    _report(args, edits, found.skipped, unwritten)
    if any(e.unresolvable for e in edits):
        return exitcodes.FAILURE
    return exitcodes.CHANGES_PENDING if changed and not args.write else exitcodes.OK


def _plan(table: PinTable, found: Collected, *, with_digest: bool) -> list[FileEdit]:
    """The edits each file's references need; a file that cannot be read joins the skipped."""
    from tagmgr.pinrefs.edit import plan_file
    from tagmgr.pinrefs.walk import Skipped, find_sites, read_text

    edits = []
    for file in found.files:
        try:
            text = read_text(file)
        except OSError as error:
            found.skipped.append(Skipped(file.path, f"cannot read: {error.strerror or error}"))
            continue
        if text is None:
            continue
        decisions = [
            decision
            for site in find_sites(file.path, text)
            if (decision := table.decide(site, with_digest=with_digest)) is not None
        ]
        if decisions:
            edits.append(plan_file(file, text, decisions))
    return edits


def _write(changed: Sequence[FileEdit]) -> list[FileEdit]:
    """Write each file until a signal asks to stop; the edits left unwritten."""
    from tagmgr import interrupt
    from tagmgr.pinrefs.edit import write

    for index, edit in enumerate(changed):
        if interrupt.requested():
            return list(changed[index:])
        write(edit)
    return []


def _pins_from_lock(path: Path) -> list[Pin]:
    from tagmgr.lock import read_lock
    from tagmgr.pinrefs.pins import Pin

    return [Pin.of(entry.target, entry.source, entry.digest) for entry in read_lock(path).entries]


def _pins_from_manifests(args: argparse.Namespace) -> list[Pin]:
    """Entries as written (files name docker.io, not a mirror); digests HEADed where mapped."""
    from tagmgr.concurrency import map_in_threads
    from tagmgr.manifest import load_manifests
    from tagmgr.pinrefs.pins import Pin
    from tagmgr.targets import Target

    manifests = load_manifests(args.manifest)
    targets = [t for t in core._resolve(args, manifests, {}) if isinstance(t, Target)]
    mapping = dict(args.map_registry)
    digests: list[str | None] = [None] * len(targets)
    if args.digest:
        with open_registries(args) as registries:

            def head(target: Target) -> str | None:
                ref = target.destination
                ref = ref.with_registry(mapping.get(ref.registry, ref.registry))
                found = registries.client(ref.registry).head_manifest(ref.repository, str(ref.tag))
                return found.digest if found else None

            digests = map_in_threads(head, targets, args.jobs)
    return [
        Pin.of(t.destination, t.source, digest) for t, digest in zip(targets, digests, strict=True)
    ]


def _report(
    args: argparse.Namespace,
    edits: Sequence[FileEdit],
    skipped: Sequence[Skipped],
    unwritten: Sequence[FileEdit],
) -> None:
    from tagmgr.pinrefs.edit import unified_diff
    from tagmgr.report import JSON_FORMAT_VERSION, dump_json

    for left_out in skipped:
        print(left_out, file=sys.stderr)
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
            "skipped": [{"file": str(s.path), "reason": s.reason} for s in skipped],
            "unwritten": [str(e.path) for e in unwritten],
        }
        dump_json(document, sys.stdout)
        return
    not_written = {e.path for e in unwritten}
    for edit in edits:
        if not edit.edits:
            continue
        if edit.path in not_written:
            print(f"{edit.path}: {len(edit.changes)} references not pinned: interrupted")
        elif args.write:
            print(f"{edit.path}: {len(edit.changes)} references pinned")
        else:
            sys.stdout.write(unified_diff(edit))
