"""The core sub-commands: validate, plan, apply and describe, each returning an exit code.

Top-level imports stay light (see ``options``): ``validate`` is what a pre-commit hook runs, so
the registry client, the engines, the applier and git are imported by the commands that use them.
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
    ask,
    open_registries,
    quiet_option,
    registry_map,
    report_options,
)
from tagmgr.manifest import load_manifests
from tagmgr.system import interrupt

if TYPE_CHECKING:
    from tagmgr.manifest.model import Manifest
    from tagmgr.reconcile.inventory import Tally
    from tagmgr.reconcile.outcome import Outcome
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.shard import Shard
    from tagmgr.reconcile.targets import Resolved
    from tagmgr.registry import Registries


def register(table: CommandTable) -> None:
    files, git, registry = table.groups.files, table.groups.git, table.groups.registry
    table.add("validate", validate, "check manifests against the schema and the rules", [files])
    planning = table.add(
        "plan",
        plan,
        "show what apply would do (exit 0: a valid plan, changes or not; 1: problems)",
        [files, git, registry],
    )
    planning.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when tags would be created, 0 only when there is nothing to do",
    )
    applying = table.add(
        "apply", apply, "create missing tags; never move an existing one", [files, git, registry]
    )
    applying.add_argument("--yes", "-y", action="store_true", help="do not ask on a terminal")
    applying.add_argument(
        "--lock", type=Path, dest="lock_path", metavar="PATH", help="write or update a lock file"
    )
    for command in (planning, applying):
        _selection_options(command)
        quiet_option(command, "entries already present")
    describing = table.add(
        "describe", describe, "print tags derived from upstream commits", [files, git]
    )
    describing.add_argument(
        "--write", action="store_true", help="write the derived tags into the files"
    )


def _shard(text: str) -> Shard:
    from tagmgr.reconcile.shard import parse_shard

    return parse_shard(text)


def _selection_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--shard",
        type=argument(_shard),
        metavar="K/N",
        help="only the entries of shard K (0 to N-1) of N, split by repository; "
        "index/N takes K from JOB_COMPLETION_INDEX",
    )
    command.add_argument(
        "--trust-existing",
        action="store_true",
        help="a tag the registry lists counts as present without reading it "
        "(registries with immutable tags)",
    )


def validate(args: argparse.Namespace) -> int:
    from tagmgr.report.core import validated
    from tagmgr.report.publish import publish

    interrupt.stop_at_once()  # validate writes nothing
    publish(validated(load_manifests(args.files)), report_options(args))
    return exitcodes.OK


def plan(args: argparse.Namespace) -> int:
    from tagmgr.reconcile.plan import plan_exit_code
    from tagmgr.report.core import planned
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish

    interrupt.stop_at_once()  # plan writes nothing: a first Ctrl-C has nothing to wait for
    options = report_options(args)
    reading = Progress.on_terminal("plan: reading registries", options)
    with open_registries(args) as registries, reading:
        actions = _plan(args, registries, reading)
    publish(planned(actions, verbose=args.verbose > 0), options)
    code = plan_exit_code(actions)
    if code == exitcodes.CHANGES_PENDING and not args.detailed_exitcode:
        return exitcodes.OK  # a valid plan passes a CI step, changes or not
    return code


def apply(args: argparse.Namespace) -> int:
    from tagmgr.engines import ENGINES
    from tagmgr.reconcile.apply import Applier
    from tagmgr.reconcile.outcome import apply_exit_code
    from tagmgr.report.core import applied, writing
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish

    options = report_options(args)
    with open_registries(args) as registries:
        with Progress.on_terminal("apply: reading registries", options) as reading:
            actions = _plan(args, registries, reading)
        if not _confirmed(args, actions):
            if not interrupt.requested():
                print("tagmgr: nothing was changed", file=sys.stderr)
            return exitcodes.FAILURE
        applier = Applier(ENGINES[args.engine](registries), registries)
        with Progress.on_terminal("apply: writing", options) as progress:
            progress.expect(len(actions))
            outcomes = applier.apply(
                actions, jobs=args.jobs, on_outcome=lambda o: progress.advance(writing(o))
            )
        locked = _record_lock(args, outcomes, registries)
    publish(applied(outcomes, verbose=args.verbose > 0), options)
    return max(apply_exit_code(outcomes), locked)


def _record_lock(
    args: argparse.Namespace, outcomes: Sequence[Outcome], registries: Registries
) -> int:
    """``apply --lock``: lock what was created or already present."""
    if args.lock_path is None:
        return exitcodes.OK
    from tagmgr.commands.digests import record_applied
    from tagmgr.reconcile.outcome import Result

    done = [o.action for o in outcomes if o.result in (Result.CREATED, Result.PRESENT)]
    return record_applied(args.lock_path, done, registries, args.jobs)


def describe(args: argparse.Namespace) -> int:
    from tagmgr.oci.registrymap import RegistryMap
    from tagmgr.reconcile import pipeline
    from tagmgr.reconcile.targets import Target, Unresolved
    from tagmgr.report.core import described
    from tagmgr.report.publish import publish

    if not args.write:
        interrupt.stop_at_once()  # describe writes nothing without --write
    with interrupt.stopping_at_once():  # until the first file is written
        manifests = load_manifests(args.files)
        resolved = pipeline.resolve(
            manifests, registry_map=RegistryMap(), git_cache=args.git_cache, jobs=args.jobs
        )
    derived = [item for item in resolved if not isinstance(item, Target) or item.describe]
    if args.write:
        for path in _write_derived_tags(manifests, derived):
            print(f"tagmgr: {path} was not written: interrupted", file=sys.stderr)
    publish(described(derived), report_options(args))
    unresolved = any(isinstance(item, Unresolved) for item in derived)
    return exitcodes.FAILURE if unresolved else exitcodes.OK


def _plan(args: argparse.Namespace, registries: Registries, tally: Tally) -> list[Action]:
    from tagmgr.reconcile import pipeline

    manifests = load_manifests(args.files)
    if args.shard is not None:
        manifests = args.shard.select(manifests)
    return pipeline.plan(
        manifests,
        registries,
        registry_map=registry_map(args),
        git_cache=args.git_cache,
        jobs=args.jobs,
        trust_existing=args.trust_existing,
        tally=tally,
    )


def _confirmed(args: argparse.Namespace, actions: Sequence[Action]) -> bool:
    """On a terminal, show the plan and ask before writing; without one (CI), proceed.

    Interrupted already, proceed too: the applier starts nothing, and reports so.
    """
    from tagmgr.reconcile.plan import Kind
    from tagmgr.report.core import planned
    from tagmgr.report.publish import show

    if args.yes or not sys.stdin.isatty() or not any(a.kind is Kind.CREATE for a in actions):
        return True
    if interrupt.requested():
        return True
    show(planned(actions, verbose=args.verbose > 0), sys.stderr, report_options(args))
    return ask("Create these tags?")


def _write_derived_tags(manifests: Sequence[Manifest], derived: Sequence[Resolved]) -> list[str]:
    """Each file's tags, until a signal asks to stop; the files left unwritten."""
    from tagmgr.manifest.write import write_tags
    from tagmgr.reconcile.targets import Target

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
            write_tags(manifest.path, tags)
    return unwritten
