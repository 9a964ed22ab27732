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
from tagmgr.commands import confirm
from tagmgr.commands.options import CommandTable, argument, open_registries, registry_map
from tagmgr.manifest import load_manifests
from tagmgr.system import interrupt

if TYPE_CHECKING:
    from tagmgr.manifest.model import Manifest
    from tagmgr.reconcile.outcome import Outcome
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.shard import Shard
    from tagmgr.reconcile.targets import Resolved
    from tagmgr.registry import Registries


def register(table: CommandTable) -> None:
    files, git, registry = table.groups.files, table.groups.git, table.groups.registry
    table.add(
        "validate",
        validate,
        "check manifests against the schema and the rules",
        [files],
        example="tagmgr validate manifests/*.yaml",
    )
    planning = table.add(
        "plan",
        plan,
        "show what apply would do (exit 0: nothing, 2: changes, 1: problems)",
        [files, git, registry],
        example="tagmgr plan manifests/starlingx.yaml\n"
        "tagmgr plan --output json --shard index/4 manifests/*.yaml",
    )
    applying = table.add(
        "apply",
        apply,
        "create missing tags; never move an existing one",
        [files, git, registry, table.groups.engine],
        example="tagmgr apply manifests/starlingx.yaml   # shows the plan, asks on a terminal\n"
        "tagmgr apply --dry-run manifests/starlingx.yaml\n"
        "tagmgr apply --yes --lock examples/tagmgr.lock manifests/starlingx.yaml   # CI",
    )
    confirm.add_options(applying, "create the tags")
    applying.add_argument(
        "--lock", type=Path, dest="lock_path", metavar="PATH", help="write or update a lock file"
    )
    for command in (planning, applying):
        _selection_options(command)
    describing = table.add(
        "describe",
        describe,
        "print tags derived from upstream commits",
        [files, git],
        example="tagmgr describe examples/derived.yaml\n"
        "tagmgr describe --write examples/derived.yaml   # fix them in the file",
    )
    confirm.add_options(
        describing, "write the derived tags into the files", write=True, detailed=False
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
    from tagmgr.report import make_reporter

    manifests = load_manifests(args.files)
    make_reporter(args.output, sys.stdout, verbose=args.verbose).validated(manifests)
    return exitcodes.OK


def plan(args: argparse.Namespace) -> int:
    from tagmgr.reconcile.plan import plan_exit_code
    from tagmgr.report import make_reporter

    interrupt.stop_at_once()  # plan writes nothing: a first Ctrl-C has nothing to wait for
    with open_registries(args) as registries:
        actions = _plan(args, registries)
    make_reporter(args.output, sys.stdout, verbose=args.verbose).plan(actions)
    return plan_exit_code(actions)


def apply(args: argparse.Namespace) -> int:
    from tagmgr.engines import ENGINES
    from tagmgr.reconcile.apply import Applier
    from tagmgr.reconcile.outcome import apply_exit_code
    from tagmgr.reconcile.plan import FAILURES, Kind
    from tagmgr.report import Progress, TextReporter, make_reporter

    reporter = make_reporter(args.output, sys.stdout, verbose=args.verbose)
    with open_registries(args) as registries:
        actions = _plan(args, registries)
        pending = any(a.kind is Kind.CREATE for a in actions)
        decision = confirm.confirm(
            args,
            pending and not interrupt.requested(),  # interrupted: the applier starts nothing
            lambda stream: TextReporter(stream, verbose=args.verbose).plan(actions),
            "Create these tags?",
        )
        if decision is not confirm.Decision.YES:
            if decision.shown:
                reporter.plan(actions)
            failed = any(a.kind in FAILURES for a in actions)
            return confirm.unchanged(
                args, decision, pending=pending, failed=failed, to="create these tags"
            )
        progress = Progress(len(actions))
        applier = Applier(ENGINES[args.engine](registries), registries)
        outcomes = applier.apply(actions, jobs=args.jobs, on_outcome=progress)
        progress.finish()
        locked = _record_lock(args, outcomes, registries)
    reporter.applied(outcomes)
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
    from tagmgr.report import make_reporter

    manifests = load_manifests(args.files)
    resolved = pipeline.resolve(
        manifests, registry_map=RegistryMap(), git_cache=args.git_cache, jobs=args.jobs
    )
    derived = [item for item in resolved if not isinstance(item, Target) or item.describe]
    if args.yes:  # describe only reads unless its command line says to write
        _write_derived_tags(manifests, derived)
    make_reporter(args.output, sys.stdout, verbose=args.verbose).described(derived)
    unresolved = any(isinstance(item, Unresolved) for item in derived)
    return exitcodes.FAILURE if unresolved else exitcodes.OK


def _plan(args: argparse.Namespace, registries: Registries) -> list[Action]:
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
    )


def _write_derived_tags(manifests: Sequence[Manifest], derived: Sequence[Resolved]) -> None:
    from tagmgr.manifest.write import write_tags
    from tagmgr.reconcile.targets import Target

    concrete = {
        id(item.entry): item.destination.tag for item in derived if isinstance(item, Target)
    }
    for manifest in manifests:
        tags = {
            index: tag
            for index, entry in enumerate(manifest.entries)
            if (tag := concrete.get(id(entry))) is not None
        }
        if tags:
            write_tags(manifest.path, tags)
