"""The bodies of ``diff`` and ``versions``, imported only when one of them runs."""

from __future__ import annotations

import argparse

from tagmgr import exitcodes
from tagmgr.changes.diff import diff_images
from tagmgr.changes.ignore import IgnoreRules, load_ignore_file
from tagmgr.changes.localrelease import Push, daemon_host, release_local
from tagmgr.changes.pinning import (
    Step,
    VersionStep,
    compare_builds,
    decide_release,
    decide_update,
    new_versions,
    release_targets,
)
from tagmgr.changes.shellversions import load_shell_versions, write_shell_versions
from tagmgr.changes.verdict import ImageDiff, diff_exit_code
from tagmgr.changes.versions import VersionEntry, VersionsFile, load_versions
from tagmgr.commands import confirm
from tagmgr.commands.options import open_registries, registry_map, report_options
from tagmgr.engines import ENGINES
from tagmgr.engines.skopeo import push_local
from tagmgr.manifest.write import write_values
from tagmgr.oci.reference import ImageReference
from tagmgr.oci.transport import LocalImage
from tagmgr.reconcile.apply import Applier
from tagmgr.reconcile.inventory import take_inventory
from tagmgr.reconcile.outcome import Outcome
from tagmgr.reconcile.plan import Action, Kind, plan
from tagmgr.report.changes import diffed, stepped
from tagmgr.report.progress import Progress
from tagmgr.report.publish import publish, show
from tagmgr.system import interrupt


def diff(args: argparse.Namespace) -> int:
    ignore = load_ignore_file(args.ignore) if args.ignore else IgnoreRules()
    mapping = registry_map(args)
    a, b = (mapping.apply(x) if isinstance(x, ImageReference) else x for x in (args.a, args.b))
    with open_registries(args) as registries:
        result = diff_images(registries, a, b, ignore)
    publish(diffed(result), report_options(args))
    return diff_exit_code([result.verdict])


def _load(args: argparse.Namespace) -> VersionsFile:
    if args.image_map:
        return load_shell_versions(args.file, args.image_map)
    return load_versions(args.file)


def versions_update(args: argparse.Namespace) -> int:
    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    versions = _load(args)
    ignore = load_ignore_file(args.ignore) if args.ignore else IgnoreRules()
    mapping = registry_map(args)
    reading = Progress.on_terminal("versions update: comparing builds", report_options(args))
    # Until the write, a stop has nothing to finish.
    with interrupt.stopping_at_once(), open_registries(args) as registries, reading:
        reading.expect(len(versions.entries))

        def compare(entry: VersionEntry, build: str) -> ImageDiff:
            name = mapping.apply(entry.name)
            fresh = entry.local_build(build) if args.local else name.with_tag(build)
            found = diff_images(registries, name.with_tag(str(entry.version)), fresh, ignore)
            reading.advance(str(name))
            return found

        comparisons = compare_builds(versions, args.build, compare)
    steps = [decide_update(e, comparisons.get(e.index)) for e in versions.entries]
    decision = _confirm("versions update", versions, steps, args)
    if decision is not confirm.Decision.YES:
        return _unchanged("versions update", steps, decision, args)
    return _finish("versions update", versions, steps, args, records_writes=False)


def versions_release(args: argparse.Namespace) -> int:
    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    versions = _load(args)
    if args.local:
        return _release_local(versions, args)
    targets = release_targets(versions, args.version, args.build)
    mapped = {i: t.mapped(registry_map(args)) for i, t in targets.items()}
    with open_registries(args) as registries:
        with (
            interrupt.stopping_at_once(),  # until the first tag is created
            Progress.on_terminal(
                "versions release: reading registries", report_options(args)
            ) as reading,
        ):
            found = take_inventory(list(mapped.values()), registries, jobs=args.jobs, tally=reading)
        planned = plan(list(mapped.values()), found)
        actions = dict(zip(mapped, planned, strict=True))
        steps = decide_release(versions, args.version, actions, None)
        decision = _confirm("versions release", versions, steps, args)
        if decision is not confirm.Decision.YES:
            return _unchanged("versions release", steps, decision, args)
        applier = Applier(ENGINES[args.engine](registries), registries)
        outcomes = dict(zip(mapped, applier.apply(planned, jobs=args.jobs), strict=True))
    steps = decide_release(versions, args.version, actions, outcomes)
    return _finish("versions release", versions, steps, args, records_writes=True)


def _release_local(versions: VersionsFile, args: argparse.Namespace) -> int:
    mapping = registry_map(args)
    host = daemon_host()
    with open_registries(args) as registries:

        def push(image: LocalImage, destination: ImageReference) -> None:
            push_local(registries, str(image), destination, host)

        def release(pushing: Push | None) -> tuple[dict[int, Action], dict[int, Outcome] | None]:
            return release_local(
                versions,
                args.version,
                args.build,
                lambda entry: mapping.apply(entry.name),
                registries=registries,
                push=pushing,
            )

        with interrupt.stopping_at_once():  # until the first push
            actions, _ = release(None)
        steps = decide_release(versions, args.version, actions, None)
        decision = _confirm("versions release", versions, steps, args)
        if decision is not confirm.Decision.YES:
            return _unchanged("versions release", steps, decision, args)
        actions, outcomes = release(push)  # each push looks at its tag again first
    steps = decide_release(versions, args.version, actions, outcomes)
    return _finish("versions release", versions, steps, args, records_writes=True)


def _confirm(
    command: str, versions: VersionsFile, steps: list[VersionStep], args: argparse.Namespace
) -> confirm.Decision:
    created = any(step.action and step.action.kind is Kind.CREATE for step in steps)
    options = report_options(args)
    return confirm.confirm(
        args,
        bool(new_versions(steps)),
        lambda stream: show(stepped(command, steps, written=False), stream, options),
        f"{'Create these tags and write' if created else 'Write'} {versions.path}?",
    )


def _unchanged(
    command: str, steps: list[VersionStep], decision: confirm.Decision, args: argparse.Namespace
) -> int:
    if decision.shown:
        publish(stepped(command, steps, written=False), report_options(args))
    failed = any(step.step is Step.ERROR for step in steps)
    pending = bool(new_versions(steps))
    return confirm.unchanged(args, decision, pending=pending, failed=failed, to="change the file")


def _finish(
    command: str,
    versions: VersionsFile,
    steps: list[VersionStep],
    args: argparse.Namespace,
    *,
    records_writes: bool,
) -> int:
    """Report, and write the new versions (confirmed): what failed stays as it was.

    After a stop, the file is written only if it records tags this run created (release: the
    entries not started stay unpinned, as failed ones do); update's edits are then not written.
    """
    failed = any(step.step is Step.ERROR for step in steps)
    edits = new_versions(steps)
    stopped = bool(edits) and interrupt.requested() and not records_writes
    written = bool(edits) and not stopped
    if written and versions.image_map:
        write_shell_versions(versions, edits)
    elif written:
        names = {entry.index: entry.name for entry in versions.entries}
        write_values(versions.path, "version", edits, names, after="name")
    publish(stepped(command, steps, written=written, interrupted=stopped), report_options(args))
    return exitcodes.FAILURE if failed else exitcodes.OK
