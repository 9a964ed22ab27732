"""Carrying out a promotion or an expiry plan: the only part of the lifecycle that writes.

A promotion verifies the digest before and after: the source still serves it, then both the
history tag and the environment tag read back as it. Into another repository the image is copied
first by the copy engine (every blob and child, digest kept), with the signature tags
(``sha256-<hex>.sig`` and the like) that refer to it.

Expiry deletes by digest, which takes every tag on it. So just before deleting, the tags are read
again: a digest that gained a tag since the plan (a promotion, say) is skipped, not deleted.
Referrers go first, then indexes, then the rest: a registry is never left with an index whose
children are gone, or a signature whose image is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tagmgr.engines import CopyEngine
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.lifecycle.expiry import Decision, RepositoryPlan
from tagmgr.lifecycle.holdings import referrer_subject
from tagmgr.lifecycle.promotion import Promotion
from tagmgr.lifecycle.survey import tag_digests
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries


def referrer_tags(tags: Sequence[str], digest: str) -> list[str]:
    """The tags that refer to ``digest`` by the tag scheme (cosign's signatures and the like)."""
    return sorted(tag for tag in tags if referrer_subject(tag) == digest)


def promote(
    promotion: Promotion,
    registries: Registries,
    engine: CopyEngine,
    signatures: Mapping[str, str],
) -> None:
    """``signatures``: tag -> digest of the referrer tags to carry into another repository."""
    source, destination = promotion.source, promotion.destination
    _expect(registries, source, promotion.digest, "before promoting")
    client = registries.client(destination.registry)
    if source.name != destination.name:
        if promotion.copy:
            engine.copy(source, promotion.history_ref)
        for tag, digest in sorted(signatures.items()):
            engine.copy(source.with_digest(digest), destination.with_tag(tag))
    descriptor, content = client.get_manifest(destination.repository, promotion.digest)
    for tag in (promotion.history.tag, promotion.environment):
        client.put_manifest(destination.repository, tag, descriptor.media_type, content)
    for ref in (promotion.history_ref, promotion.environment_ref):
        _expect(registries, ref, promotion.digest, "after promoting")


def _expect(registries: Registries, ref: ImageReference, digest: str, when: str) -> None:
    found = registries.client(ref.registry).head_manifest(ref.repository, ref.tag or digest)
    if found is None or found.digest != digest:
        actual = found.digest if found else "nothing"
        raise RegistryError(ref.registry, f"{when}: {ref} points at {actual}, not {digest}")


def delete(plan: RepositoryPlan, registries: Registries) -> dict[str, str]:
    """Digest -> deleted, gone (deleted meanwhile), skipped: why, or failed: why."""
    holdings = plan.holdings
    client = registries.client(holdings.registry)
    tags_now = tag_digests(client, holdings.repository, client.list_tags(holdings.repository))
    results: dict[str, str] = {}
    for decision in sorted(plan.deletions, key=_deletion_order):
        digest = decision.held.digest
        now = sorted(tag for tag, at in tags_now.items() if at == digest)
        gained = sorted(set(now) - set(decision.held.tags))
        if gained:
            results[digest] = f"skipped: tagged {', '.join(gained)} since the plan"
            continue
        try:
            results[digest] = (
                "deleted" if client.delete_manifest(holdings.repository, digest) else "gone"
            )
        except TagmgrError as error:
            results[digest] = f"failed: {error}"
    return results


def _deletion_order(decision: Decision) -> tuple[int, str]:
    held = decision.held
    rank = 0 if held.subject else 1 if held.children else 2
    return rank, held.digest
