"""pin-refs: move image references in charts, compose files, Dockerfiles and text to the
reviewed stable tags (and digests): a diff, then the edits in place once confirmed (``confirm``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import CommandTable, open_registries, registry_map, report_options
from tagmgr.errors import DocumentError, TagmgrError

if TYPE_CHECKING:
    from tagmgr.pinrefs.edit import FileEdit
    from tagmgr.pinrefs.pins import PinTable
    from tagmgr.registry import Registries


def register(table: CommandTable) -> None:
    git, registry = table.groups.git, table.groups.registry
    pinning = table.add(
        "pin-refs",
        pin_refs,
        "pin image references in files to stable tags",
        [git, registry],
        example="tagmgr pin-refs --manifest manifests/starlingx.yaml --dry-run examples/chart/\n"
        "tagmgr pin-refs --lock examples/tagmgr.lock --digest --yes examples/chart/",
    )
    pinning.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files, directories")
    source = pinning.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", action="append", metavar="FILE", help="manifest files")
    source.add_argument("--lock", type=Path, metavar="LOCKFILE", help="a lock file")
    pinning.add_argument("--digest", action="store_true", help="write repo:tag@sha256:...")
    confirm.add_options(pinning, "edit the files in place", write=True)


def pin_refs(args: argparse.Namespace) -> int:
    from tagmgr.filerefs.find import scan
    from tagmgr.filerefs.walk import collect
    from tagmgr.pinrefs.plan import changed, exit_code, plan_pins
    from tagmgr.pinrefs.sources import pins_from_lock
    from tagmgr.report.pinrefs import INTERRUPTED, pinned
    from tagmgr.report.publish import publish, show
    from tagmgr.system import interrupt

    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    with interrupt.stopping_at_once():  # until the first file is written
        inputs = [*(args.manifest or []), *([args.lock] if args.lock else [])]
        collected = collect(args.paths, leave_out={Path(os.path.realpath(p)) for p in inputs})
        if collected.problems:
            raise DocumentError(collected.problems)
        found = scan(collected.files, collected.skipped)
        named = {
            (site.reference.registry, site.reference.repository)
            for _, refs in found
            for site in refs.references
        }
        table = pins_from_lock(args.lock) if args.lock else _pins_from_manifests(args, named)
        edits = plan_pins(found, table, with_digest=args.digest)
    pending = changed(edits)
    options = report_options(args)
    decision = confirm.confirm(
        args,
        bool(pending),
        lambda stream: show(pinned(edits, [], {}, written=False), stream, options),
        f"Pin the references in {_files(len(pending))}?",
    )
    written = decision is confirm.Decision.YES
    unwritten = _write(pending) if written else {}
    report = pinned(edits, collected.skipped, unwritten, written=written, diff=decision.shown)
    publish(report, options)
    if written:
        failed_writes = any(why != INTERRUPTED for why in unwritten.values())
        return exitcodes.FAILURE if failed_writes else exit_code(edits)
    failed = exit_code(edits) == exitcodes.FAILURE
    return confirm.unchanged(args, decision, pending=bool(pending), failed=failed, to="pin them")


def _files(count: int) -> str:
    return "this file" if count == 1 else f"these {count} files"


def _write(changed: Sequence[FileEdit]) -> dict[Path, str]:
    """Write each file until a signal asks to stop; each file left unwritten, and why."""
    from tagmgr.pinrefs.edit import write
    from tagmgr.report.pinrefs import INTERRUPTED
    from tagmgr.system import interrupt

    unwritten: dict[Path, str] = {}
    for edit in changed:
        if interrupt.requested():
            unwritten[edit.path] = INTERRUPTED
            continue
        try:
            write(edit)
        except TagmgrError as error:
            unwritten[edit.path] = str(error)
    return unwritten


def _pins_from_manifests(args: argparse.Namespace, named: set[tuple[str, str]]) -> PinTable:
    """``named``: the repositories the files name; only their targets' digests are asked for."""
    from tagmgr.manifest import load_manifests
    from tagmgr.pinrefs.sources import pins_from_manifests

    manifests = load_manifests(args.manifest)

    def pins(registries: Registries | None) -> PinTable:
        return pins_from_manifests(
            manifests,
            registries,
            registry_map(args),
            named=named,
            git_cache=args.git_cache,
            jobs=args.jobs,
        )

    if not args.digest:
        return pins(None)
    with open_registries(args) as registries:
        return pins(registries)
