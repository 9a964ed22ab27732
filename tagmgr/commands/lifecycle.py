"""The lifecycle sub-commands: promote, rollback, status and expire, each returning an exit code.

promote and rollback move environment tags and expire deletes images: each confirms as every
command that changes something does (``confirm``).
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from tagmgr import exitcodes
from tagmgr.commands import confirm
from tagmgr.commands.options import (
    CommandTable,
    argument,
    open_registries,
    positive_int,
    quiet_option,
    registry_map,
)
from tagmgr.documents.explain import clip
from tagmgr.engines.names import DEFAULT_ENGINE
from tagmgr.errors import TagmgrError
from tagmgr.lifecycle import MAX_DAYS
from tagmgr.manifest.environments import DEFAULT_CHAIN, Chain, chain_of, parse_chain
from tagmgr.oci.reference import ImageReference


def register(table: CommandTable) -> None:
    registry = table.groups.registry
    promoting = table.add(
        "promote",
        promote,
        "point an environment tag at a digest from the one before",
        [registry, table.groups.engine],
        example="tagmgr promote registry.example.com/team/app:build-20261031T120000Z --to stg "
        "--manifest examples/environments.yaml --dry-run\n"
        "tagmgr promote registry.example.com/team/app:stg --to prd --require-signature "
        "cosign.pub --yes",
    )
    promoting.add_argument("image", metavar="NAME@DIGEST|NAME:TAG", type=argument(_reference))
    promoting.add_argument("--to", required=True, metavar="ENV", help="the environment")
    promoting.add_argument(
        "--to-repository",
        type=argument(_repository),
        metavar="REPO",
        help="promote into this repository (registry/repository), copying the image first",
    )
    rolling = table.add(
        "rollback",
        rollback,
        "move an environment back to an earlier history entry",
        [registry],
        example="tagmgr status registry.example.com/team/app   # the history tags --to takes\n"
        "tagmgr rollback registry.example.com/team/app --env prd --to prd-20261101T081000Z\n"
        "tagmgr rollback registry.example.com/team/app --env prd --require-signature cosign.pub",
    )
    rolling.add_argument("name", metavar="NAME", type=argument(_repository))
    rolling.add_argument("--env", required=True, metavar="ENV", help="the environment")
    rolling.add_argument("--to", metavar="HISTORY_TAG", help="this entry, not the previous one")
    # A rollback copies nothing, so it takes no --engine; the move it shares with promote asks
    # for one all the same.
    rolling.set_defaults(engine=DEFAULT_ENGINE)
    for moving in (promoting, rolling):
        moving.add_argument(
            "--require-signature",
            action="append",
            default=[],
            metavar="KEY",
            help="refuse unless a cosign signature by a public key in this PEM file signs the"
            " digest; repeated, each must have signed",
        )
        _chain_options(moving)
        confirm.add_options(moving, "move the environment")
    showing = table.add(
        "status",
        status,
        "what each environment points at, since when",
        [registry],
        example="tagmgr status registry.example.com/team/app --manifest "
        "examples/environments.yaml --in-use examples/deploy.yaml",
    )
    showing.add_argument("names", nargs="+", metavar="NAME", type=argument(_named_repository))
    showing.add_argument(
        "--lock", action="append", default=[], metavar="FILE", help="lock files, for src_ref"
    )
    _in_use_option(showing, "where each digest runs")
    _chain_options(showing)
    expiring = table.add(
        "expire",
        expire,
        "delete old images by an ECR lifecycle policy, never one in use",
        [registry],
        example="tagmgr expire --policy examples/policy.yaml --in-use examples/deploy.yaml "
        "--dry-run\n"
        "tagmgr expire --policy examples/policy.yaml --in-use examples/deploy.yaml --yes   # CI\n"
        "tagmgr expire --policy examples/policy.yaml --keep-history 10 --quiet --dry-run",
    )
    _expire_options(expiring)
    _chain_options(expiring)


def _chain_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chain",
        type=argument(parse_chain),
        metavar="ENV,ENV,...",
        help="the environment chain (default: the manifests' environments, else"
        f" {','.join(DEFAULT_CHAIN)})",
    )
    parser.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="FILE",
        help="manifests for the chain (environments:) and src_ref",
    )


def _in_use_option(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        "--in-use",
        action="append",
        default=[],
        metavar="PATH",
        help="a manifest, lock file, Kubernetes/compose/Helm file, pod list or docker://HOST: "
        f"{purpose} (repeatable)",
    )


def _expire_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", required=True, metavar="FILE", help="ECR lifecycle policy")
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        type=argument(_named_repository),
        help="repositories, besides the policy's repositories:",
    )
    _in_use_option(parser, "never deleted")
    confirm.add_options(parser, "delete the images")
    quiet_option(parser, "images kept")
    parser.add_argument(
        "--keep-newer-than",
        type=argument(parse_age),
        default=timedelta(days=7),
        metavar="AGE",
        help="grace period: 7d, 12h, 30m (default: 7d)",
    )
    parser.add_argument(
        "--max-delete-share",
        type=argument(parse_share),
        default=0.5,
        metavar="PERCENT",
        help="refuse a run deleting more of a repository (default: 50%%)",
    )
    parser.add_argument(
        "--keep-history",
        type=positive_int,
        metavar="N",
        help="history tags keep their digest only among the newest N of each environment"
        " (default: all do)",
    )


def promote(args: argparse.Namespace) -> int:
    from tagmgr.commands import lifecycle_run as run
    from tagmgr.lifecycle import moves
    from tagmgr.system import interrupt

    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    chain = _chain(args)
    mapping = registry_map(args)
    image = mapping.apply(args.image)
    into = mapping.apply(args.to_repository) if args.to_repository else None
    required = run.signers(args)
    with open_registries(args) as registries:
        with interrupt.stopping_at_once():  # nothing is written before the move
            promotion, signatures = moves.plan_promote(
                registries, image, args.to, into, chain, now=run.now()
            )
            promotion = moves.signature_gate(registries, promotion, required)
        return run.move(args, registries, promotion, signatures, chain)


def rollback(args: argparse.Namespace) -> int:
    from tagmgr.commands import lifecycle_run as run
    from tagmgr.lifecycle import moves
    from tagmgr.system import interrupt

    if args.dry_run:
        interrupt.stop_at_once()  # a dry run writes nothing
    chain = _chain(args)
    name = registry_map(args).apply(args.name)
    required = run.signers(args)
    with open_registries(args) as registries:
        with interrupt.stopping_at_once():  # nothing is written before the move
            promotion = moves.plan_roll_back(
                registries, name, args.env, args.to, chain, now=run.now()
            )
            promotion = moves.signature_gate(registries, promotion, required)
        return run.move(args, registries, promotion, {}, chain)


def status(args: argparse.Namespace) -> int:
    from tagmgr.commands import lifecycle_run as run
    from tagmgr.system import interrupt

    interrupt.stop_at_once()  # status writes nothing
    run.status(args, _chain(args))
    return exitcodes.OK


def expire(args: argparse.Namespace) -> int:
    from tagmgr.commands import lifecycle_run as run

    return run.expire(args, _chain(args))


def _chain(args: argparse.Namespace) -> Chain:
    if args.chain is not None:
        return Chain(args.chain.names)
    from tagmgr.manifest import load_manifests

    named = {m.environments for m in load_manifests(args.manifest) if m.environments}
    if len(named) > 1:
        raise TagmgrError(
            "the manifests name different environments: "
            + "; ".join(",".join(names) for names in sorted(named))
            + "; give --chain"
        )
    return chain_of(named.pop()) if named else Chain()


def _reference(text: str) -> ImageReference:
    reference = ImageReference.parse(text)
    if not reference.tag and not reference.digest:
        raise TagmgrError(f"{text!r}: give NAME@DIGEST or NAME:TAG")
    return reference


def _repository(text: str) -> ImageReference:
    reference = ImageReference.parse(text)
    if reference.tag or reference.digest:
        raise TagmgrError(f"{text!r}: give a repository (registry/repository), no tag or digest")
    return reference


def _named_repository(text: str) -> ImageReference:
    """A NAME argument; a path there is one more ``--in-use`` path, said so."""
    try:
        return _repository(text)
    except TagmgrError:
        if text.startswith("docker://") or os.path.exists(text):
            raise TagmgrError(
                f"{text!r} is a path, not a repository: --in-use takes one path; repeat it for"
                f" each (--in-use PATH --in-use {text})"
            ) from None
        raise


_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_age(text: str) -> timedelta:
    number, unit = text[:-1], text[-1:]
    if text == "0":
        return timedelta(0)
    if unit not in _SECONDS or not number.isascii() or not number.isdigit():
        raise TagmgrError(f"{clip(text)!r}: expected a number and d, h, m or s, such as 7d or 12h")
    seconds = int(number.lstrip("0")[:20] or "0") * _SECONDS[unit]  # 20 digits: past any bound
    if seconds > MAX_DAYS * _SECONDS["d"]:
        raise TagmgrError(f"{clip(text)!r}: at most {MAX_DAYS}d (100 years)")
    return timedelta(seconds=seconds)


def parse_share(text: str) -> float:
    number = text.removesuffix("%")
    try:
        share = float(number) / 100
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1 or not number.replace(".", "", 1).isdigit():
        raise TagmgrError(f"{text!r}: expected a percentage from 0% to 100%, such as 50%")
    return share
