"""The bodies of ``diff`` and ``versions``, imported only when one of them runs."""

from __future__ import annotations

import argparse
import sys

from tagmgr import exitcodes
from tagmgr.changes.diff import diff_images
from tagmgr.changes.ignore import IgnoreRules, load_ignore_file
from tagmgr.changes.pinning import (
    Step,
    VersionStep,
    compare_builds,
    decide_release,
    decide_update,
    new_versions,
    release_targets,
)
from tagmgr.changes.verdict import ImageDiff, diff_exit_code
from tagmgr.changes.versions import VersionEntry, VersionsFile, load_versions
from tagmgr.commands import confirm
from tagmgr.commands.options import open_registries, registry_map
from tagmgr.engines import ENGINES
from tagmgr.manifest.write import write_values
from tagmgr.reconcile.apply import Applier
from tagmgr.reconcile.inventory import take_inventory
from tagmgr.reconcile.plan import Kind, plan
from tagmgr.report.changes import write_diff, write_steps


def diff(args: argparse.Namespace) -> int:
    ignore = load_ignore_file(args.ignore) if args.ignore else IgnoreRules()
    a, b = map(registry_map(args).apply, (args.a, args.b))
    with open_registries(args) as registries:
        result = diff_images(registries, a, b, ignore)
    write_diff(result, args.output, sys.stdout)
    return diff_exit_code([result.verdict])


def versions_update(args: argparse.Namespace) -> int:
    versions = load_versions(args.file)
    ignore = load_ignore_file(args.ignore) if args.ignore else IgnoreRules()
    mapping = registry_map(args)
    with open_registries(args) as registries:

        def compare(entry: VersionEntry, build: str) -> ImageDiff:
            name = mapping.apply(entry.name)
            return diff_images(
                registries, name.with_tag(str(entry.version)), name.with_tag(build), ignore
            )

        comparisons = compare_builds(versions, args.build, compare)
    steps = [decide_update(e, comparisons.get(e.index)) for e in versions.entries]
    decision = _confirm("versions update", versions, steps, args)
    if decision is not confirm.Decision.YES:
        return _unchanged("versions update", steps, decision, args)
    return _finish("versions update", versions, steps, args)


def versions_release(args: argparse.Namespace) -> int:
    versions = load_versions(args.file)
    targets = release_targets(versions, args.version, args.build)
    mapped = {i: t.mapped(registry_map(args)) for i, t in targets.items()}
    with open_registries(args) as registries:
        planned = plan(
            list(mapped.values()), take_inventory(list(mapped.values()), registries, jobs=args.jobs)
        )
        actions = dict(zip(mapped, planned, strict=True))
        steps = decide_release(versions, args.version, actions, None)
        decision = _confirm("versions release", versions, steps, args)
        if decision is not confirm.Decision.YES:
            return _unchanged("versions release", steps, decision, args)
        applier = Applier(ENGINES[args.engine](registries), registries)
        outcomes = dict(zip(mapped, applier.apply(planned, jobs=args.jobs), strict=True))
    steps = decide_release(versions, args.version, actions, outcomes)
    return _finish("versions release", versions, steps, args)


def _confirm(
    command: str, versions: VersionsFile, steps: list[VersionStep], args: argparse.Namespace
) -> confirm.Decision:
    created = any(step.action and step.action.kind is Kind.CREATE for step in steps)
    return confirm.confirm(
        args,
        bool(new_versions(steps)),
        lambda stream: write_steps(command, steps, written=False, output="text", stream=stream),
        f"{'Create these tags and write' if created else 'Write'} {versions.path}?",
    )


def _unchanged(
    command: str, steps: list[VersionStep], decision: confirm.Decision, args: argparse.Namespace
) -> int:
    if decision.shown:
        write_steps(command, steps, written=False, output=args.output, stream=sys.stdout)
    failed = any(step.step is Step.ERROR for step in steps)
    pending = bool(new_versions(steps))
    return confirm.unchanged(args, decision, pending=pending, failed=failed, to="change the file")


def _finish(
    command: str, versions: VersionsFile, steps: list[VersionStep], args: argparse.Namespace
) -> int:
    """Report, and write the new versions: what failed stays as it was."""
    failed = any(step.step is Step.ERROR for step in steps)
    edits = new_versions(steps)
    if edits:
        write_values(versions.path, "version", edits, after="name")
    write_steps(command, steps, written=bool(edits), output=args.output, stream=sys.stdout)
    return exitcodes.FAILURE if failed else exitcodes.OK
