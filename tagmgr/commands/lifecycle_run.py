"""The lifecycle commands' work: read the registries, plan purely, then carry out or report.

Kept out of ``tagmgr.commands.lifecycle`` so that module stays light to import (``validate``
starts without the HTTP stack).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tagmgr import exitcodes
from tagmgr.commands.options import ask, open_registries, registry_map, report_options
from tagmgr.engines import ENGINES
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.lifecycle import execute
from tagmgr.lifecycle.expiry import Limits, expiry_exit_code, plan_expiry, untagged_notes
from tagmgr.lifecycle.policyfile import load_policy
from tagmgr.lifecycle.promotion import (
    Move,
    Promotion,
    PromotionRefused,
    Result,
    TagState,
    plan_promotion,
    plan_rollback,
    wanted_tags,
)
from tagmgr.lifecycle.signatures import Signer, load_signer, read_signatures, unsigned
from tagmgr.lifecycle.sources import read_in_use
from tagmgr.lifecycle.status import repository_status
from tagmgr.lifecycle.survey import survey, tag_digests
from tagmgr.lock import read_lock
from tagmgr.manifest import load_manifests
from tagmgr.manifest.environments import Chain
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries
from tagmgr.report import lifecycle as report
from tagmgr.report.progress import Progress
from tagmgr.report.publish import publish, show
from tagmgr.system import interrupt

_EXIT_CODES = {
    Result.MOVED: exitcodes.OK,
    Result.SUPERSEDED: exitcodes.SUPERSEDED,
    Result.UNRECORDED: exitcodes.FAILURE,
    Result.VANISHED: exitcodes.FAILURE,
    Result.NOT_STARTED: exitcodes.FAILURE,  # the signal's own code replaces it (cli)
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


def signers(args: argparse.Namespace) -> list[Signer]:
    """The ``--require-signature`` keys, read before anything else is."""
    return [load_signer(path) for path in args.require_signature]


def gate(registries: Registries, promotion: Promotion, required: Sequence[Signer]) -> Promotion:
    """``promotion`` with the keys that signed its digest; ``PromotionRefused`` naming each key
    that did not, when one is ``required`` (in the repository the digest comes from)."""
    if not required:
        return promotion
    source = promotion.source
    client = registries.client(source.registry)
    found = read_signatures(client, source.repository, promotion.digest)
    refusals = unsigned(required, promotion.digest, found, source.name)
    if refusals:
        raise PromotionRefused(f"{source}: {'; '.join(refusals)}; nothing moved")
    return replace(promotion, signed_by=tuple(signer.path for signer in required))


def move(
    args: argparse.Namespace,
    registries: Registries,
    promotion: Promotion,
    signatures: Mapping[str, str],
) -> int:
    options = report_options(args)
    if not promotion.changes:
        publish(report.moved(promotion, "present"), options)
        return exitcodes.OK
    if args.dry_run or not _confirmed(args, promotion):
        publish(report.moved(promotion, "planned"), options)
        print("tagmgr: nothing was changed (dry run)", file=sys.stderr)
        return exitcodes.CHANGES_PENDING
    engine = ENGINES[args.engine](registries)
    outcome = execute.promote(promotion, registries, engine, signatures, _now)
    result = outcome.result.value
    if outcome.result is Result.MOVED:
        result = "promoted" if promotion.move is Move.PROMOTE else "rolled-back"
    publish(report.moved(promotion, result, outcome), options)
    return _EXIT_CODES[outcome.result]


def status(args: argparse.Namespace, chain: Chain) -> None:
    manifests = load_manifests(args.manifest)
    locks = [read_lock(Path(path)) for path in args.lock]
    mapping = registry_map(args)
    in_use = read_in_use([path for group in args.in_use for path in group], mapping)
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
    publish(report.status(found), options)


def expire(args: argparse.Namespace, chain: Chain) -> int:
    if not args.yes:
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
    in_use = read_in_use([path for group in args.in_use for path in group], mapping)
    limits = Limits(_now(), args.keep_newer_than, args.max_delete_share, args.keep_history)
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
        if not args.yes or any(plan.refusal for plan in plans):
            publish(report.expiry(plans, verbose=args.verbose > 0), options)
            return expiry_exit_code(plans)
        results = {d: r for plan in plans for d, r in execute.delete(plan, opened).items()}
    publish(report.expiry(plans, results, verbose=args.verbose > 0), options)
    failed = any(result not in execute.DONE for result in results.values())
    broken = any(plan.holdings.problems for plan in plans)
    return exitcodes.FAILURE if failed or broken else exitcodes.OK


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


def _confirmed(args: argparse.Namespace, promotion: Promotion) -> bool:
    """On a terminal, show the move and ask; without one (CI), proceed, as apply does."""
    if args.yes or not sys.stdin.isatty():
        return True
    show(report.moved(promotion, "planned"), sys.stderr)
    return ask(f"Move {promotion.environment_ref}?")


def _now() -> datetime:
    return datetime.now(UTC)
