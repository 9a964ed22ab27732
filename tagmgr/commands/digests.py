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
    from tagmgr.lock import LockEntry
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
        "resolve", resolve, "print the digest each reference points at (HEAD)", [git, registry]
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
    locking = table.add("lock", lock, "write a lock file of every entry", [files, git, registry])
    locking.add_argument(
        "-o",
        "--lock-file",
        type=Path,
        default=DEFAULT_LOCK,
        metavar="PATH",
        dest="lock_path",
        help="the lock file to write (default: %(default)s)",
    )
    checking = table.add(
        "check",
        check,
        "HEAD every locked tag, build tags too (exit 0: none moved, 2: moved or gone, 1: problems)",
        [registry],
    )
    checking.add_argument("lock_path", type=Path, metavar="LOCKFILE", help="the lock file")
    checking.add_argument("--update", action="store_true", help="rewrite the moved entries")
    checking.add_argument(
        "--jobs", type=positive_int, default=4, metavar="N", help="parallel HEADs (default: 4)"
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
    from tagmgr.lock import Lock, read_lock, write_lock
    from tagmgr.lock.build import lock_entries
    from tagmgr.manifest import load_manifests
    from tagmgr.reconcile import pipeline
    from tagmgr.report.digests import locked
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish
    from tagmgr.system import interrupt

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
        previous = read_lock(path) if path.exists() and not problems else Lock()
    stopped = interrupt.requested()  # since the reading: the write is not started
    written = not (problems or stopped) and write_lock(path, previous.replaced_by(entries))
    publish(locked(path, len(entries), written, problems, stopped=stopped), options)
    return exitcodes.FAILURE if problems else exitcodes.OK


def record_applied(path: Path, actions: Sequence[Action], registries: Registries, jobs: int) -> int:
    """``apply --lock``: add or update the entries that were created or already present."""
    from tagmgr.lock import Lock, read_lock, write_lock
    from tagmgr.lock.build import lock_entries

    entries, problems = lock_entries(actions, registries, jobs=jobs)
    for problem in problems:
        print(f"tagmgr: error: {problem}", file=sys.stderr)
    previous = read_lock(path) if path.exists() else Lock()
    write_lock(path, previous.updated(entries))
    return exitcodes.FAILURE if problems else exitcodes.OK


def check(args: argparse.Namespace) -> int:
    """One HEAD per locked target and per source build tag; with ``--update``, one GET more per
    moved index."""
    from tagmgr.lock import read_lock, write_lock
    from tagmgr.lock.build import timestamp
    from tagmgr.lock.check import (
        Finding,
        State,
        check_entry,
        check_exit_code,
        check_source,
        moved_entry,
        source_tag,
        to_update,
    )
    from tagmgr.reconcile.resolve import resolve, with_children
    from tagmgr.report.digests import checked, source_not_updated
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish
    from tagmgr.system import interrupt
    from tagmgr.system.concurrency import map_in_threads

    if not args.update:
        interrupt.stop_at_once()  # check writes nothing without --update
    locked = read_lock(args.lock_path)
    mapping = registry_map(args)
    options = report_options(args)
    with (
        interrupt.stopping_at_once(),  # until the write
        open_registries(args) as registries,
        Progress.on_terminal("check: reading registries", options) as progress,
    ):
        progress.expect(len(locked.entries))

        def check_one(entry: LockEntry) -> list[Finding]:
            target = mapping.apply(entry.target)
            client = registries.client(target.registry)
            finding = check_entry(entry, resolve(client, target))
            if args.update and finding.state is State.MOVED:
                finding = check_entry(entry, with_children(client, finding.now))
            progress.advance(str(target))
            build_tag = source_tag(entry)
            if build_tag is None:
                return [finding]
            source = mapping.apply(build_tag)
            built = resolve(registries.client(source.registry), source)
            return [finding, check_source(entry, built)]

        pairs = map_in_threads(check_one, list(locked.entries), args.jobs)
    findings = [finding for pair in pairs for finding in pair]
    moved = to_update(findings) if args.update else []
    updated = False
    if moved and interrupt.requested():  # since the reading
        print(f"tagmgr: {args.lock_path} was not updated: interrupted", file=sys.stderr)
    elif moved:
        now = timestamp()
        updated = write_lock(args.lock_path, locked.updated(moved_entry(f, now) for f in moved))
    publish(checked(findings, updated=updated), options)
    if args.update:
        for finding in findings:
            if finding.state is State.SOURCE_MOVED:
                print(f"tagmgr: error: {source_not_updated(finding)}", file=sys.stderr)
    return check_exit_code(findings)
