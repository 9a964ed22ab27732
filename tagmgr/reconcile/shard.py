"""``--shard K/N``: one of N disjoint parts of a manifest's entries, chosen by repository.

An entry belongs to shard ``sha256(registry/repository) mod N``, so every entry of a repository
is in one shard (its writes are never split between machines), the N parts cover the whole plan
with no overlap, and every machine computes the same split with no coordination. ``K`` counts
from 0; ``index/N`` takes ``K`` from ``JOB_COMPLETION_INDEX`` (a Kubernetes Indexed Job).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tagmgr.errors import TagmgrError
from tagmgr.manifest.model import Manifest
from tagmgr.oci.reference import normal_parts

JOB_INDEX_VARIABLE = "JOB_COMPLETION_INDEX"
_SHARD = re.compile(r"(index|[0-9]+)/([0-9]+)")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def holds(self, name: str) -> bool:
        """Whether the repository ``name`` (``registry/repository``, valid) is in this shard."""
        registry, _, repository = name.partition("/")
        key = "/".join(normal_parts(registry, repository)).encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % self.count == self.index

    def select(self, manifests: Sequence[Manifest]) -> list[Manifest]:
        """Each manifest with the entries of this shard only, by the repository each entry names
        (before any mapping): taken before git describe, so a shard describes its own upstreams
        alone."""
        return [
            manifest._replace(entries=tuple(e for e in manifest.entries if self.holds(e.name)))
            for manifest in manifests
        ]


def parse_shard(text: str, environ: Mapping[str, str] = os.environ) -> Shard:
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise TagmgrError(f"--shard {text}: expected K/N (K from 0 to N-1) or index/N")
    index_text, count = match.group(1), int(match.group(2))
    if index_text == "index":
        index_text = environ.get(JOB_INDEX_VARIABLE, "")
        if not re.fullmatch(r"[0-9]+", index_text):
            raise TagmgrError(f"--shard index/{count}: {JOB_INDEX_VARIABLE} is not set to a number")
    index = int(index_text)
    if count < 1 or index >= count:
        raise TagmgrError(f"--shard {text}: K must be from 0 to N-1, and N at least 1")
    return Shard(index, count)
