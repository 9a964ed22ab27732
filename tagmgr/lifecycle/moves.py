"""What a promotion or rollback needs from the registries, read, then planned purely.

The reads (the environment's and history's tags, the digest to move, its signature tags) feed
``promotion.plan_promotion`` and ``plan_rollback``; the signature gate reads the digest's cosign
signatures. Nothing here writes: ``execute_promotion`` carries the plan out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tagmgr.errors import RegistryError
from tagmgr.lifecycle.holdings import referrer_subject
from tagmgr.lifecycle.promotion import (
    Promotion,
    PromotionRefused,
    TagState,
    plan_promotion,
    plan_rollback,
    wanted_tags,
)
from tagmgr.lifecycle.signatures import Signer, read_signatures, unsigned
from tagmgr.lifecycle.survey import tag_digests
from tagmgr.manifest.environments import Chain
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries


def plan_promote(
    registries: Registries,
    image: ImageReference,
    environment: str,
    to_repository: ImageReference | None,
    chain: Chain,
    *,
    now: datetime,
) -> tuple[Promotion, dict[str, str]]:
    """The promotion of ``image`` into ``environment`` (of ``to_repository``, if given), and the
    signature tags (tag -> digest) to carry along into another repository."""
    chain.index(environment)
    client = registries.client(image.registry)
    found = client.head_manifest(image.repository, image.digest or str(image.tag))
    if found is None:
        raise RegistryError(image.registry, f"{image} does not exist")
    digest = found.digest
    source_tags = client.list_tags(image.repository)
    signatures = _referrer_tags(source_tags, digest)
    source = _state(registries, image.repository_only, source_tags, chain)
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
        source, destination, digest=digest, environment=environment, chain=chain, now=now
    )
    return promotion, carried


def plan_roll_back(
    registries: Registries,
    name: ImageReference,
    environment: str,
    to: str | None,
    chain: Chain,
    *,
    now: datetime,
) -> Promotion:
    listed = registries.client(name.registry).list_tags(name.repository)
    return plan_rollback(_state(registries, name, listed, chain), environment, chain, now, to)


def signature_gate(
    registries: Registries, promotion: Promotion, required: Sequence[Signer]
) -> Promotion:
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


def _referrer_tags(tags: Sequence[str], digest: str) -> list[str]:
    """The tags that refer to ``digest`` by the tag scheme (cosign's signatures and the like)."""
    return sorted(tag for tag in tags if referrer_subject(tag) == digest)


def _state(
    registries: Registries,
    repository: ImageReference,
    listed: list[str],
    chain: Chain,
    extra: list[str] | None = None,
) -> TagState:
    client = registries.client(repository.registry)
    wanted = [*wanted_tags(listed, chain), *(t for t in extra or [] if t in listed)]
    return TagState(repository.repository_only, tag_digests(client, repository.repository, wanted))
