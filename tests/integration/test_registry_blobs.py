"""A large blob read whole from a real registry, in chunks; the reading itself, against a
scripted registry: tests/unit/registry/test_blobs.py."""

from __future__ import annotations

import hashlib
import os

import pytest

from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.blobs import BLOB_CHUNK
from tagmgr.registry.limits import MAX_ANSWER
from tagmgr.registry.policy import RetryPolicy
from tests.support.push import open_client, upload_blob
from tests.support.registry import RegistryServer

BIG = os.urandom(MAX_ANSWER + 3 * BLOB_CHUNK + 17)
BIG_DIGEST = "sha256:" + hashlib.sha256(BIG).hexdigest()


@pytest.mark.integration
def test_a_real_registry_serves_a_large_blob_whole(registry: RegistryServer, repo: str) -> None:
    with open_client(registry.address) as http:
        upload_blob(http, repo, BIG_DIGEST, BIG)
    client = RegistryClient(
        registry.address, RegistryOptions(retry=RetryPolicy(request_timeout=10.0))
    )
    try:
        with client.open_blob(repo, BIG_DIGEST) as chunks:
            assert hashlib.sha256(b"".join(chunks)).hexdigest() == BIG_DIGEST[7:]
    finally:
        client.close()
