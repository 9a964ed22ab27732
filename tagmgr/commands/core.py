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
from tagmgr.commands.options import (
    CommandTable,
    argument,
    open_registries,
    quiet_option,
    registry_map,
    report_options,
)
from tagmgr.manifest import load_manifests
from tagmgr.system import interrupt

if TYPE_CHECKING:
    from tagmgr.reconcile.inventory import Tally
    from tagmgr.reconcile.outcome import Outcome
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.shard import Shard
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
        "show what apply would do (exit 0: a valid plan, changes or not; 1: problems)",
        [files, git, registry],
        example="tagmgr plan manifests/starlingx.yaml\n"
        "tagmgr plan --output json --shard index/4 manifests/*.yaml",
    )
    planning.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when tags would be created, 0 only when there is nothing to do",
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
    locking = applying.add_mutually_exclusive_group()  # a trusted tag's digest is never read
    locking.add_argument(
        "--lock", type=Path, dest="lock_path", metavar="PATH", help="write or update a lock file"
    )
    for command, trusting in ((planning, planning), (applying, locking)):
        _selection_options(command, trusting)
        quiet_option(command, "entries already present")
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


def _selection_options(
    command: argparse.ArgumentParser, trusting: argparse._ActionsContainer
) -> None:
    """``--shard`` and ``--trust-existing``, the latter in ``trusting``: a group of the options
    it cannot go with."""
    command.add_argument(
        "--shard",
        type=argument(_shard),
        metavar="K/N",
        help="only the entries of shard K (0 to N-1) of N, split by repository; "
        "index/N takes K from JOB_COMPLETION_INDEX",
    )
    trusting.add_argument(
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
    from tagmgr.reconcile.plan import FAILED_KINDS, Kind
    from tagmgr.report.core import applied, planned, writing
    from tagmgr.report.progress import Progress
    from tagmgr.report.publish import publish, show

    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    if args.lock_path is not None:
        from tagmgr.lock import read_lock_if_any

        read_lock_if_any(args.lock_path)  # one that cannot be updated is said before any tag
    options = report_options(args)
    with open_registries(args) as registries:
        with Progress.on_terminal("apply: reading registries", options) as reading:
            actions = _plan(args, registries, reading)
        pending = any(a.kind is Kind.CREATE for a in actions)
        verbose = args.verbose > 0
        decision = confirm.confirm(
            args,
            pending and not interrupt.requested(),  # interrupted: the applier starts nothing
            lambda stream: show(planned(actions, verbose=verbose), stream, options),
            "Create these tags?",
        )
        if decision is not confirm.Decision.YES:
            if decision.shown:
                publish(planned(actions, verbose=verbose), options)
            failed = any(a.kind in FAILED_KINDS for a in actions)
            return confirm.unchanged(
                args, decision, pending=pending, failed=failed, to="create these tags"
            )
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
    from tagmgr.reconcile.derived import write_derived_tags
    from tagmgr.reconcile.targets import Target, Unresolved
    from tagmgr.report.core import described
    from tagmgr.report.publish import publish

    if not args.yes:
        interrupt.stop_at_once()  # describe writes nothing without a yes
    with interrupt.stopping_at_once():  # until the first file is written
        manifests = load_manifests(args.files)
        resolved = pipeline.resolve(
            manifests, registry_map=RegistryMap(), git_cache=args.git_cache, jobs=args.jobs
        )
    derived = [item for item in resolved if not isinstance(item, Target) or item.describe]
    if args.yes:  # describe only reads unless its command line says to write
        for path in write_derived_tags(manifests, derived):
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
