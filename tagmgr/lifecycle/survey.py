"""Reading what a repository holds, through the registry client (the only I/O of planning).

``tag_digests`` HEADs the tags asked for; ``survey`` reads every tagged manifest, each index's
children and, where no tag carries a build timestamp, the config's ``created``. A child the
registry does not hold is recorded on its index (``Held.missing``), not raised: one broken index
must not stop expiry from seeing the rest of its repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tagmgr.concurrency import map_in_threads
from tagmgr.errors import RegistryError
from tagmgr.lifecycle.environments import Chain, build_time
from tagmgr.lifecycle.holdings import Held, Holdings, referrer_subject
from tagmgr.registry import RegistryClient

MAX_CONFIG_BYTES = 1024 * 1024
_FRACTION = re.compile(r"(\.[0-9]{1,6})[0-9]*")


def tag_digests(
    client: RegistryClient, repository: str, tags: Iterable[str], *, jobs: int = 4
) -> dict[str, str]:
    """``{tag: digest}`` for those of ``tags`` that exist."""
    listed = sorted(set(tags))
    found = map_in_threads(lambda tag: client.head_manifest(repository, tag), listed, jobs)
    return {tag: d.digest for tag, d in zip(listed, found, strict=True) if d is not None}


def survey(client: RegistryClient, repository: str, chain: Chain, *, jobs: int = 4) -> Holdings:
    tags = tag_digests(client, repository, client.list_tags(repository), jobs=jobs)
    grouped: dict[str, list[str]] = {}
    for tag, digest in sorted(tags.items()):
        grouped.setdefault(digest, []).append(tag)
    reader = _Reader(client, repository, chain)
    held: dict[str, Held] = {}
    for top in map_in_threads(
        lambda item: reader.read(item[0], tuple(item[1])), sorted(grouped.items()), jobs
    ):
        for item in top:
            # A child read through its index has no tags; read through its own tag it has.
            known = held.get(item.digest)
            if known is None or len(item.tags) > len(known.tags):
                held[item.digest] = item
    return Holdings(client.registry, repository, held)


class _Reader:
    def __init__(self, client: RegistryClient, repository: str, chain: Chain) -> None:
        self.client, self.repository, self.chain = client, repository, chain

    def read(self, digest: str, tags: tuple[str, ...]) -> list[Held]:
        """The manifest ``digest`` and, for an index, its children (children first)."""
        descriptor, content = self.client.get_manifest(self.repository, digest)
        document = _json(content, self.client.registry, f"manifest {self.repository}@{digest}")
        children, subject_digest = _links(document)
        read = {child: self.read_child(child) for child in children}
        read_children = [c for found in read.values() for c in found or ()]
        subject_digest = subject_digest or next(filter(None, map(referrer_subject, tags)), None)
        created = None
        if build_time(tags, self.chain) is None:
            created = self.created(document, read_children)
        media_type = descriptor.media_type or str(document.get("mediaType", ""))
        missing = tuple(child for child, found in read.items() if found is None)
        this = Held(
            digest, media_type, descriptor.size, tags, children, subject_digest, created, missing
        )
        return [*read_children, this]

    def read_child(self, digest: str) -> list[Held] | None:
        """``read`` of an index's child; None if the registry does not hold it."""
        try:
            return self.read(digest, ())
        except RegistryError:
            if self.client.head_manifest(self.repository, digest) is None:
                return None
            raise

    def created(self, document: dict[str, Any], children: list[Held]) -> datetime | None:
        if children:
            times = [c.created for c in children if c.created is not None]
            return max(times) if times else None
        config = document.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str):
            return None
        data = b""
        with self.client.open_blob(self.repository, digest) as chunks:
            for chunk in chunks:
                data += chunk
                if len(data) > MAX_CONFIG_BYTES:
                    return None
        what = f"config {self.repository}@{digest}"
        return parse_created(_json(data, self.client.registry, what).get("created"))


def manifest_links(client: RegistryClient, repository: str, digest: str) -> tuple[str, ...]:
    """The digests the manifest ``digest`` names: an index's children, a referrer's subject."""
    content = client.get_manifest(repository, digest)[1]
    children, subject = _links(_json(content, client.registry, f"manifest {repository}@{digest}"))
    return (*children, *([subject] if subject else []))


def _links(document: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """An index's children, and the ``subject`` a referrer names (if it names one)."""
    children = tuple(
        str(m.get("digest")) for m in document.get("manifests", []) if isinstance(m, dict)
    )
    subject = document.get("subject")
    digest = subject.get("digest") if isinstance(subject, dict) else None
    return children, digest if isinstance(digest, str) else None


def parse_created(value: object) -> datetime | None:
    """An RFC 3339 time as configs write it (nanoseconds cut to microseconds), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _json(content: bytes, registry: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as error:
        raise RegistryError(registry, f"{what} is not JSON") from error
    return document if isinstance(document, dict) else {}
