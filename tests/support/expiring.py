"""Repositories for expire's integration tests: old builds (expired), a current one that dev
points at, signatures and indexes; pushed once, then mounted into each further repository."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from tagmgr.errors import Location
from tagmgr.lifecycle.expiry import Limits, RepositoryPlan, plan_expiry
from tagmgr.lifecycle.inuse import InUseSet
from tagmgr.lifecycle.policy import CountType, Policy, Rule, TagStatus
from tagmgr.lifecycle.survey import survey
from tagmgr.manifest.environments import Chain
from tagmgr.registry import Registries, RegistryOptions
from tests.support.oci import OCI_INDEX, Image
from tests.support.push import open_client, push

CHAIN = Chain()
OLD_TAGS = tuple(f"build-2019010{n}T000000Z" for n in range(1, 5))
CURRENT_TAG = "build-20991231T000000Z"  # never old enough: the image dev points at first
POLICY = Policy(
    "policy.yaml",
    (
        Rule(
            1,
            "old builds",
            TagStatus.TAGGED,
            CountType.SINCE_IMAGE_PUSHED,
            30,
            Location("policy.yaml", 2, 3),
            tag_prefixes=("build-",),
        ),
    ),
)


def signature_tag(image: Image) -> str:
    return f"sha256-{image.digest.removeprefix('sha256:')}.sig"


def index_of(*children: Image) -> Image:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [child.as_descriptor() for child in children],
    }
    return Image(OCI_INDEX, json.dumps(document).encode(), children=children)


def content(
    old: Sequence[Image], current: Image, signatures: Mapping[str, Image] | None = None
) -> dict[str, Image]:
    """Tag -> image: the old builds under ``OLD_TAGS``, current under its tag and dev."""
    pushed = dict(zip(OLD_TAGS, old, strict=False))
    return {**pushed, CURRENT_TAG: current, "dev": current, **(signatures or {})}


def place(
    address: str, repo: str, images: Mapping[str, Image], *, blobs_from: str | None = None
) -> None:
    """Push every tag; with ``blobs_from``, the blobs are mounted from there, not sent again."""
    for tag, image in images.items():
        if blobs_from is None:
            push(address, repo, tag, image)
        else:
            mount(address, blobs_from, repo, tag, image)


def mount(address: str, source: str, repo: str, tag: str, image: Image) -> None:
    """``push``, with every blob mounted from ``source``, where it already is."""
    with open_client(address) as client:
        for digest in image.all_blobs():
            mounted = client.post(
                f"/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": source}
            )
            assert mounted.status_code == 201, mounted.text
        for manifest in image.manifests():
            ref = tag if manifest is image else manifest.digest
            put = client.put(
                f"/v2/{repo}/manifests/{ref}",
                content=manifest.manifest_bytes,
                headers={"Content-Type": manifest.media_type},
            )
            assert put.status_code == 201, put.text


def planned(registries: Registries, address: str, repo: str) -> RepositoryPlan:
    """What ``POLICY`` expires in ``repo`` now (no share limit, nothing in use)."""
    holdings = survey(registries.client(address), repo, CHAIN)
    limits = Limits(datetime.now(UTC), max_delete_share=1.0)
    return plan_expiry(POLICY, holdings, InUseSet(), CHAIN, limits)


def stage(address: str, repo: str, images: Mapping[str, Image]) -> RepositoryPlan:
    """Push ``images`` (see ``content``) and plan."""
    place(address, repo, images)
    with Registries(RegistryOptions()) as registries:
        return planned(registries, address, repo)
