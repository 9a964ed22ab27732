"""The lifecycle commands' work: read the registries, plan purely, then carry out or report.

Kept out of ``tagmgr.commands.lifecycle`` so that module stays light to import (``validate``
starts without the HTTP stack).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import open_registries, registry_map, report_options
from tagmgr.engines import ENGINES
from tagmgr.errors import TagmgrError
from tagmgr.lifecycle import execute_expiry, execute_promotion
from tagmgr.lifecycle.expiry import (
    Limits,
    RepositoryPlan,
    expiry_exit_code,
    plan_expiry,
    untagged_notes,
)
from tagmgr.lifecycle.policyfile import load_policy
from tagmgr.lifecycle.promotion import (
    Move,
    Promotion,
    PromotionResult,
)
from tagmgr.lifecycle.signatures import Signer, load_signer
from tagmgr.lifecycle.sources import read_in_use
from tagmgr.lifecycle.status import digest_names, repository_status
from tagmgr.lifecycle.survey import survey, tag_digests
from tagmgr.lock import read_lock
from tagmgr.manifest import load_manifests
from tagmgr.manifest.environments import Chain, build_time, history_of
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries
from tagmgr.report import lifecycle as report
from tagmgr.report.model import Options
from tagmgr.report.progress import Progress
from tagmgr.report.publish import publish, show
from tagmgr.system import interrupt

_EXIT_CODES = {
    PromotionResult.MOVED: exitcodes.OK,
    PromotionResult.SUPERSEDED: exitcodes.SUPERSEDED,
    PromotionResult.UNRECORDED: exitcodes.FAILURE,
    PromotionResult.VANISHED: exitcodes.FAILURE,
    PromotionResult.NOT_STARTED: exitcodes.FAILURE,  # the signal's own code replaces it (cli)
}


def signers(args: argparse.Namespace) -> list[Signer]:
    """The ``--require-signature`` keys, read before anything else is."""
    return [load_signer(path) for path in args.require_signature]


def move(
    args: argparse.Namespace,
    registries: Registries,
    promotion: Promotion,
    signatures: Mapping[str, str],
    chain: Chain,
) -> int:
    options = report_options(args)
    decision = confirm.confirm(
        args,
        promotion.changes,
        lambda stream: _show_move(stream, registries, promotion, chain, options),
        f"Move {promotion.environment_ref}?",
    )
    if decision is not confirm.Decision.YES:
        if decision.shown:
            planned = "planned" if promotion.changes else "present"
            publish(report.moved(promotion, planned), options)
        to = f"move {promotion.environment_ref}"
        return confirm.unchanged(args, decision, pending=promotion.changes, failed=False, to=to)
    if not promotion.changes:
        publish(report.moved(promotion, "present"), options)
        return exitcodes.OK
    engine = ENGINES[args.engine](registries)
    outcome = execute_promotion.promote(promotion, registries, engine, signatures, now)
    result = outcome.result.value
    if outcome.result is PromotionResult.MOVED:
        result = "promoted" if promotion.move is Move.PROMOTE else "rolled-back"
    publish(report.moved(promotion, result, outcome), options)
    return _EXIT_CODES[outcome.result]


NAMED_TAGS = 64
"""Of a repository's tags with a build time, the newest read to name the digests of a move."""


def _show_move(
    stream: IO[str], registries: Registries, promotion: Promotion, chain: Chain, options: Options
) -> None:
    """The move, and what its digests are by name, for a person asked whether to make it."""
    repository = promotion.destination
    client = registries.client(repository.registry)
    listed = client.list_tags(repository.repository)
    history = [tag for _, tag in history_of(listed, chain, promotion.environment)][-NAMED_TAGS:]
    built = sorted((found, tag) for tag in listed if (found := build_time([tag], chain)))
    wanted = [*history, *(tag for _, tag in built[-NAMED_TAGS:])]
    tags = tag_digests(client, repository.repository, wanted)
    env = promotion.environment
    names = (
        digest_names(tags, chain, env, promotion.current),
        digest_names(tags, chain, env, promotion.digest),
    )
    show(report.moved(promotion, "planned", names=names), stream, options)


def status(args: argparse.Namespace, chain: Chain) -> None:
    manifests = load_manifests(args.manifest)
    locks = [read_lock(Path(path)) for path in args.lock]
    mapping = registry_map(args)
    in_use = read_in_use(args.in_use, mapping)
    options = report_options(args)
    found = []
    with (
        open_registries(args) as opened,
        Progress.on_terminal("status: reading repositories", options) as progress,
    ):
        progress.expect(len(args.names))
        for name in map(mapping.apply, args.names):
            client = opened.client(name.registry)
            tags = tag_digests(client, name.repository, client.list_tags(name.repository))
            found.append(
                repository_status(
                    name, tags, chain, manifests, locks, in_use=in_use, registry_map=mapping
                )
            )
            progress.advance(str(name))
    publish(report.status(found, verbose=args.verbose > 0), options)


def expire(args: argparse.Namespace, chain: Chain) -> int:
    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    policy = load_policy(args.policy)
    for note in untagged_notes(policy):
        print(f"tagmgr: note: {note}", file=sys.stderr)
    mapping = registry_map(args)
    listed = [ImageReference.parse(name) for name in policy.repositories]
    names = sorted({*map(mapping.apply, [*listed, *args.names])})
    if not names:
        raise TagmgrError(
            f"{policy.path}: no repositories: list them under repositories: or on the command line"
        )
    in_use = read_in_use(args.in_use, mapping)
    limits = Limits(now(), args.keep_newer_than, args.max_delete_share, args.keep_history)
    options = report_options(args)
    with open_registries(args) as opened:
        with (
            interrupt.stopping_at_once(),  # until the first DELETE: nothing to finish
            Progress.on_terminal("expire: reading repositories", options) as progress,
        ):
            progress.expect(len(names))
            plans = []
            for n in names:
                holdings = survey(opened.client(n.registry), n.repository, chain)
                plans.append(plan_expiry(policy, holdings, in_use, chain, limits))
                progress.advance(str(n))
        code = _not_deleting(args, plans, options)
        if code is not None:
            return code
        results = {plan.holdings.name: execute_expiry.delete(plan, opened) for plan in plans}
    publish(report.expiry(plans, results, verbose=args.verbose > 0), options)
    failed = any(
        result not in execute_expiry.DONE for done in results.values() for result in done.values()
    )
    broken = any(plan.holdings.problems for plan in plans)
    return exitcodes.FAILURE if failed or broken else exitcodes.OK


def _not_deleting(
    args: argparse.Namespace, plans: list[RepositoryPlan], options: Options
) -> int | None:
    """The exit code of a run that deletes nothing (a repository refused, or no yes), after
    reporting what it would have deleted; None to go on and delete."""
    verbose = args.verbose > 0
    deleting = sum(len(plan.deletions) for plan in plans)
    refused = any(plan.refusal for plan in plans)
    decision = confirm.confirm(
        args,
        bool(deleting) and not refused,
        lambda stream: show(report.expiry(plans, verbose=verbose), stream, options),
        f"Delete these {deleting} images?",
    )
    if decision is confirm.Decision.YES and not refused:
        return None
    if refused or decision.shown:
        publish(report.expiry(plans, verbose=verbose), options)
    if refused:
        return exitcodes.FAILURE
    failed = expiry_exit_code(plans) == exitcodes.FAILURE
    return confirm.unchanged(
        args, decision, pending=bool(deleting), failed=failed, to="delete these images"
    )


def now() -> datetime:
    return datetime.now(UTC)
