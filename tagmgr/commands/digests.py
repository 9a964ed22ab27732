"""Digest commands: resolve references, lock them, and check that locked tags did not move.

Top-level imports stay light (see ``options``): the registry client and the lock machinery are
imported inside the functions that use them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import (
    CommandTable,
    argument,
    open_registries,
    positive_int,
    quiet_option,
    registry_map,
    report_options,
)
from tagmgr.errors import InvalidReferenceError, TagmgrError
from tagmgr.oci.reference import ImageReference

if TYPE_CHECKING:
    from tagmgr.oci.platform import Platform
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.resolve import Resolution
    from tagmgr.registry import Registries

DEFAULT_LOCK = Path("tagmgr.lock")


def _platform(text: str) -> Platform:
    from tagmgr.oci.platform import parse_platform

    return parse_platform(text)


def register(table: CommandTable) -> None:
    files, git, registry = table.groups.files, table.groups.git, table.groups.registry
    resolving = table.add(
        "resolve",
        resolve,
        "print the digest each reference points at (HEAD)",
        [git, registry],
        example="tagmgr resolve docker.io/library/alpine:3.20 --platforms\n"
        "tagmgr resolve --manifest manifests/starlingx.yaml",
    )
    resolving.add_argument("references", nargs="*", metavar="REF", help="image references")
    resolving.add_argument(
        "--manifest", action="append", default=[], metavar="FILE", help="a manifest's references"
    )
    resolving.add_argument(
        "--platforms", action="store_true", help="also list an index's per-platform digests"
    )
    resolving.add_argument(
        "--platform",
        type=argument(_platform),
        metavar="OS/ARCH[/VARIANT]",
        help="the digest of one platform's manifest inside an index",
    )
    locking = table.add(
        "lock",
        lock,
        "write a lock file of every entry",
        [files, git, registry],
        example="tagmgr lock --lock-file examples/tagmgr.lock manifests/starlingx.yaml\n"
        "tagmgr lock --yes manifests/starlingx.yaml   # CI: write tagmgr.lock without asking",
    )
    locking.add_argument(
        "--lock-file",
        type=Path,
        default=DEFAULT_LOCK,
        metavar="PATH",
        dest="lock_path",
        help="the lock file to write (default: %(default)s)",
    )
    locking.hint("output", "-o is --output, as on every command: the lock file is --lock-file PATH")
    confirm.add_options(locking, "write the lock file", write=True)
    checking = table.add(
        "check",
        check,
        "HEAD every locked tag, build tags too (exit 0: none moved, 2: moved or gone, 1: problems)",
        [registry],
        example="tagmgr check examples/tagmgr.lock\n"
        "tagmgr check --update --yes examples/tagmgr.lock   # rewrite the entries that moved",
    )
    checking.add_argument("lock_path", type=Path, metavar="LOCKFILE", help="the lock file")
    checking.add_argument("--update", action="store_true", help="rewrite the moved entries")
    confirm.add_options(checking, "rewrite them (with --update)", write=True, detailed=False)
    checking.add_argument(
        "--jobs", type=positive_int, metavar="N", help="parallel HEADs (default: 4)"
    )
    quiet_option(checking, "tags unchanged")


def resolve(args: argparse.Namespace) -> int:
    from tagmgr.reconcile.resolve import resolve
    from tagmgr.report.digests import resolved
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish
    from tagmgr.system import interrupt
    from tagmgr.system.concurrency import map_in_threads

    interrupt.stop_at_once()  # resolve writes nothing
    references = [registry_map(args).apply(_reference(text)) for text in args.references]
    failed: list[Resolution] = []
    if args.manifest:
        references_of_manifests, failed = _manifest_references(args)
        references += references_of_manifests
    if not references and not failed:
        raise TagmgrError("nothing to resolve: give references, or --manifest FILE")
    children = args.platforms or args.platform is not None
    options = report_options(args)
    with (
        open_registries(args) as registries,
        Progress.on_terminal("resolve: reading registries", options) as progress,
    ):
        progress.expect(len(references))

        def resolve_one(ref: ImageReference) -> Resolution:
            found = resolve(registries.client(ref.registry), ref, children=children)
            progress.advance(str(ref))
            return found

        resolutions = failed + map_in_threads(resolve_one, references, args.jobs)
    report = resolved(resolutions, args.platform)
    publish(report, options)
    return exitcodes.OK if report.summary["found"] == len(resolutions) else exitcodes.FAILURE


def _reference(text: str) -> ImageReference:
    ref = ImageReference.parse_familiar(text)
    if ref.tag is None and ref.digest is None:
        raise InvalidReferenceError(
            f"{text!r}: name a tag or a digest; tagmgr never assumes latest"
        )
    return ref


def _manifest_references(
    args: argparse.Namespace,
) -> tuple[list[ImageReference], list[Resolution]]:
    """Every entry's source and target; entries whose tag cannot be derived, as failures."""
    from tagmgr.manifest import load_manifests
    from tagmgr.reconcile import pipeline
    from tagmgr.reconcile.resolve import Resolution
    from tagmgr.reconcile.targets import Target

    manifests = load_manifests(args.manifest)
    references: list[ImageReference] = []
    failed: list[Resolution] = []
    resolved = pipeline.resolve(
        manifests, registry_map=registry_map(args), git_cache=args.git_cache, jobs=args.jobs
    )
    for item in resolved:
        if isinstance(item, Target):
            references += [item.source, item.destination]
        else:
            failed.append(Resolution(ImageReference.parse(item.entry.name), error=item.message))
    return list(dict.fromkeys(references)), failed


def lock(args: argparse.Namespace) -> int:
    """Plan as ``plan`` does; write the lock only when every entry resolved."""
    from tagmgr.lock import Lock, lock_differs, read_lock_if_any, write_lock
    from tagmgr.lock.build import lock_entries
    from tagmgr.manifest import load_manifests
    from tagmgr.reconcile import pipeline
    from tagmgr.report.digests import locked
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish, show
    from tagmgr.system import interrupt

    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    options = report_options(args)
    path: Path = args.lock_path
    with interrupt.stopping_at_once(), open_registries(args) as registries:  # until the write
        with Progress.on_terminal("lock: reading registries", options) as reading:
            actions = pipeline.plan(
                load_manifests(args.files),
                registries,
                registry_map=registry_map(args),
                git_cache=args.git_cache,
                jobs=args.jobs,
                tally=reading,
            )
        entries, problems = lock_entries(actions, registries, jobs=args.jobs)
        previous = Lock() if problems else read_lock_if_any(path)
    if problems:
        publish(locked(path, len(entries), "not written", problems), options)
        return exitcodes.FAILURE
    lock_file = previous.replaced_by(entries)
    pending = lock_differs(path, lock_file)
    decision = confirm.confirm(
        args,
        pending,
        lambda stream: show(locked(path, len(entries), "to be written"), stream, options),
        f"Write {path}?",
    )
    if decision is not confirm.Decision.YES:
        if decision.shown:
            publish(locked(path, len(entries), "not written"), options)
        return confirm.unchanged(args, decision, pending=pending, failed=False, to=f"write {path}")
    if pending and interrupt.requested():  # since the reading: the write is not started
        publish(locked(path, len(entries), "not written: interrupted"), options)
        return exitcodes.OK  # the signal's own code replaces it (cli)
    written = write_lock(path, lock_file, read_as=previous)
    publish(locked(path, len(entries), "written" if written else "unchanged"), options)
    return exitcodes.OK


def record_applied(path: Path, actions: Sequence[Action], registries: Registries, jobs: int) -> int:
    """``apply --lock``: add or update the entries that were created or already present."""
    from tagmgr.lock import read_lock_if_any, write_lock
    from tagmgr.lock.build import lock_entries

    entries, problems = lock_entries(actions, registries, jobs=jobs)
    for problem in problems:
        print(f"tagmgr: error: {problem}", file=sys.stderr)
    previous = read_lock_if_any(path)
    write_lock(path, previous.updated(entries))
    return exitcodes.FAILURE if problems else exitcodes.OK


def check(args: argparse.Namespace) -> int:
    """One HEAD per locked target and per source build tag; with ``--update``, one GET more per
    moved index."""
    from tagmgr.lock import read_lock, write_lock
    from tagmgr.lock.build import timestamp
    from tagmgr.lock.check import State, check_exit_code, moved_entry, to_update
    from tagmgr.lock.verify import verify_lock
    from tagmgr.report.digests import checked, source_not_updated
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish, show
    from tagmgr.system import interrupt

    if not args.update or args.dry_run:
        interrupt.stop_at_once()  # check writes nothing without --update, nor in a dry run
    locked = read_lock(args.lock_path)
    mapping = registry_map(args)
    options = report_options(args)
    with (
        interrupt.stopping_at_once(),  # until the write
        open_registries(args) as registries,
        Progress.on_terminal("check: reading registries", options) as progress,
    ):
        findings = verify_lock(
            locked, registries, mapping, update=args.update, jobs=args.jobs, tally=progress
        )
    moved = to_update(findings) if args.update else []
    updated = False
    if moved and interrupt.requested():  # since the reading
        print(f"tagmgr: {args.lock_path} was not updated: interrupted", file=sys.stderr)
    elif moved:
        decision = confirm.confirm(
            args,
            True,
            lambda stream: show(checked(findings, updated=False), stream, options),
            f"Rewrite the {len(moved)} moved entries in {args.lock_path}?",
        )
        if decision is not confirm.Decision.YES:
            if decision.shown:
                publish(checked(findings, updated=False), options)
            if decision is confirm.Decision.DRY_RUN:
                return check_exit_code(findings)  # check's own: 2, they moved
            to = f"rewrite {args.lock_path}"
            return confirm.unchanged(args, decision, pending=True, failed=False, to=to)
        now = timestamp()
        update = locked.updated(moved_entry(f, now) for f in moved)
        updated = write_lock(args.lock_path, update, read_as=locked)
    publish(checked(findings, updated=updated), options)
    if args.update:
        for finding in findings:
            if finding.state is State.SOURCE_MOVED:
                print(f"tagmgr: error: {source_not_updated(finding)}", file=sys.stderr)
    return check_exit_code(findings)
