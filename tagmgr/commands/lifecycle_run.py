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
from tagmgr.commands.options import open_registries, registry_map
from tagmgr.engines import ENGINES
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.lifecycle import execute
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
    Result,
    TagState,
    plan_promotion,
    plan_rollback,
    wanted_tags,
)
from tagmgr.lifecycle.sources import read_in_use
from tagmgr.lifecycle.status import digest_names, repository_status
from tagmgr.lifecycle.survey import survey, tag_digests
from tagmgr.lock import read_lock
from tagmgr.manifest import load_manifests
from tagmgr.manifest.environments import Chain, build_time, history_of
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries
from tagmgr.report.lifecycle import (
    outcome_problem,
    report_expiry,
    report_move_names,
    report_promotion,
    report_status,
)

_EXIT_CODES = {
    Result.MOVED: exitcodes.OK,
    Result.SUPERSEDED: exitcodes.SUPERSEDED,
    Result.UNRECORDED: exitcodes.FAILURE,
    Result.VANISHED: exitcodes.FAILURE,
}


def plan_promote(
    registries: Registries,
    image: ImageReference,
    environment: str,
    to_repository: ImageReference | None,
    chain: Chain,
) -> tuple[Promotion, dict[str, str]]:
    chain.index(environment)
    client = registries.client(image.registry)
    found = client.head_manifest(image.repository, image.digest or str(image.tag))
    if found is None:
        raise RegistryError(image.registry, f"{image} does not exist")
    digest = found.digest
    source_tags = client.list_tags(image.repository)
    signatures = execute.referrer_tags(source_tags, digest)
    source = _state(registries, _repository(image), source_tags, chain)
    destination = source
    if to_repository is not None and to_repository.name != source.repository.name:
        dest_client = registries.client(to_repository.registry)
        listed = dest_client.list_tags(to_repository.repository)
        destination = _state(registries, to_repository, listed, chain, extra=signatures)
        held = tag_digests(client, image.repository, signatures)
        carried = {t: d for t, d in held.items() if destination.tags.get(t) != d}
    else:
        carried = {}
    promotion = plan_promotion(
        source, destination, digest=digest, environment=environment, chain=chain, now=_now()
    )
    return promotion, carried


def plan_roll_back(
    registries: Registries, name: ImageReference, environment: str, to: str | None, chain: Chain
) -> Promotion:
    listed = registries.client(name.registry).list_tags(name.repository)
    return plan_rollback(_state(registries, name, listed, chain), environment, chain, _now(), to)


def move(
    args: argparse.Namespace,
    registries: Registries,
    promotion: Promotion,
    signatures: Mapping[str, str],
    chain: Chain,
) -> int:
    decision = confirm.confirm(
        args,
        promotion.changes,
        lambda stream: _show_move(stream, registries, promotion, chain),
        f"Move {promotion.environment_ref}?",
    )
    if decision is not confirm.Decision.YES:
        if decision.shown:
            planned = "planned" if promotion.changes else "present"
            report_promotion(args.output, sys.stdout, promotion, planned)
        to = f"move {promotion.environment_ref}"
        return confirm.unchanged(args, decision, pending=promotion.changes, failed=False, to=to)
    if not promotion.changes:
        report_promotion(args.output, sys.stdout, promotion, "present")
        return exitcodes.OK
    engine = ENGINES[args.engine](registries)
    outcome = execute.promote(promotion, registries, engine, signatures, _now)
    result = outcome.result.value
    if outcome.result is Result.MOVED:
        result = "promoted" if promotion.move is Move.PROMOTE else "rolled-back"
    report_promotion(args.output, sys.stdout, promotion, result, outcome)
    if outcome.result is not Result.MOVED:
        label = "" if outcome.result is Result.SUPERSEDED else "error: "
        print(f"tagmgr: {label}{outcome_problem(promotion, outcome)}", file=sys.stderr)
    return _EXIT_CODES[outcome.result]


NAMED_TAGS = 64
"""Of a repository's tags with a build time, the newest read to name the digests of a move."""


def _show_move(stream: IO[str], registries: Registries, promotion: Promotion, chain: Chain) -> None:
    """The move, and what its digests are by name, for a person asked whether to make it."""
    report_promotion("text", stream, promotion, "planned")
    repository = promotion.destination
    client = registries.client(repository.registry)
    listed = client.list_tags(repository.repository)
    history = [tag for _, tag in history_of(listed, chain, promotion.environment)][-NAMED_TAGS:]
    built = sorted((found, tag) for tag in listed if (found := build_time([tag], chain)))
    wanted = [*history, *(tag for _, tag in built[-NAMED_TAGS:])]
    tags = tag_digests(client, repository.repository, wanted)
    env = promotion.environment
    now = digest_names(tags, chain, env, promotion.current)
    report_move_names(stream, promotion, now, digest_names(tags, chain, env, promotion.digest))


def status(args: argparse.Namespace, chain: Chain) -> None:
    manifests = load_manifests(args.manifest)
    locks = [read_lock(Path(path)) for path in args.lock]
    mapping = registry_map(args)
    in_use = read_in_use(args.in_use, mapping)
    found = []
    with open_registries(args) as opened:
        for name in map(mapping.apply, args.names):
            client = opened.client(name.registry)
            tags = tag_digests(client, name.repository, client.list_tags(name.repository))
            found.append(
                repository_status(
                    name, tags, chain, manifests, locks, in_use=in_use, registry_map=mapping
                )
            )
    report_status(args.output, sys.stdout, found, verbose=args.verbose > 0)


def expire(args: argparse.Namespace, chain: Chain) -> int:
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
    limits = Limits(_now(), args.keep_newer_than, args.max_delete_share)
    with open_registries(args) as opened:
        plans = [
            plan_expiry(
                policy,
                survey(opened.client(n.registry), n.repository, chain),
                in_use,
                chain,
                limits,
            )
            for n in names
        ]
        for plan in plans:
            for problem in [*plan.holdings.problems, *filter(None, [plan.refusal])]:
                print(f"tagmgr: error: {problem}", file=sys.stderr)
        code = _not_deleting(args, plans)
        if code is not None:
            return code
        results = {d: r for plan in plans for d, r in execute.delete(plan, opened).items()}
    report_expiry(args.output, sys.stdout, plans, results, verbose=args.verbose > 0)
    failed = any(result not in execute.DONE for result in results.values())
    broken = any(plan.holdings.problems for plan in plans)
    return exitcodes.FAILURE if failed or broken else exitcodes.OK


def _not_deleting(args: argparse.Namespace, plans: list[RepositoryPlan]) -> int | None:
    """The exit code of a run that deletes nothing (a repository refused, or no yes), after
    reporting what it would have deleted; None to go on and delete."""
    verbose = args.verbose > 0
    deleting = sum(len(plan.deletions) for plan in plans)
    refused = any(plan.refusal for plan in plans)
    decision = confirm.confirm(
        args,
        bool(deleting) and not refused,
        lambda stream: report_expiry("text", stream, plans, verbose=verbose),
        f"Delete these {deleting} images?",
    )
    if decision is confirm.Decision.YES and not refused:
        return None
    if refused or decision.shown:
        report_expiry(args.output, sys.stdout, plans, verbose=verbose)
    if refused:
        return exitcodes.FAILURE
    failed = expiry_exit_code(plans) == exitcodes.FAILURE
    return confirm.unchanged(
        args, decision, pending=bool(deleting), failed=failed, to="delete these images"
    )


def _state(
    registries: Registries,
    repository: ImageReference,
    listed: list[str],
    chain: Chain,
    extra: list[str] | None = None,
) -> TagState:
    client = registries.client(repository.registry)
    wanted = [*wanted_tags(listed, chain), *(t for t in extra or [] if t in listed)]
    return TagState(_repository(repository), tag_digests(client, repository.repository, wanted))


def _repository(reference: ImageReference) -> ImageReference:
    return ImageReference(reference.registry, reference.repository)


def _now() -> datetime:
    return datetime.now(UTC)
