"""Registry client writes against the real docker-registry: manifest PUT of exact bytes, blob
HEAD, mount, streamed upload, DELETE. What it will not do on demand (a digest other than the one
sent, a mount refused), against a scripted one: tests/unit/registry/test_writes.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.blobs import BLOB_CHUNK
from tagmgr.registry.policy import RetryPolicy
from tests.support.oci import ImageFactory
from tests.support.push import get_manifest_bytes, head_digest, open_client, push, upload_blob
from tests.support.registry import RegistryServer

BIG = os.urandom(2 * BLOB_CHUNK + 5)
BIG_DIGEST = "sha256:" + hashlib.sha256(BIG).hexdigest()


@pytest.fixture
def client(registry: RegistryServer) -> Iterator[RegistryClient]:
    client = RegistryClient(
        registry.address, RegistryOptions(retry=RetryPolicy(request_timeout=10.0))
    )
    yield client
    client.close()


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["oci", "index", "docker", "unusual"])
def test_put_manifest_stores_the_exact_bytes(
    registry: RegistryServer, client: RegistryClient, repo: str, images: ImageFactory, kind: str
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "build-1", image)
    descriptor, content = client.get_manifest(repo, "build-1")
    written = client.put_manifest(repo, "1.0", descriptor.media_type, content)
    assert written == descriptor
    assert get_manifest_bytes(registry.address, repo, "1.0") == image.manifest_bytes


@pytest.mark.integration
def test_mount_then_delete(
    registry: RegistryServer, client: RegistryClient, repo: str, images: ImageFactory
) -> None:
    image = images.oci()
    push(registry.address, f"{repo}/from", "build-1", image)
    blobs = image.all_blobs()
    for digest, data in blobs.items():
        assert client.head_blob(f"{repo}/to", digest) is None
        assert client.mount_blob(f"{repo}/to", digest, f"{repo}/from") is True
        assert client.head_blob(f"{repo}/to", digest) == len(data)
    client.put_manifest(f"{repo}/to", "1.0", image.media_type, image.manifest_bytes)
    assert head_digest(registry.address, f"{repo}/to", "1.0") == image.digest
    assert client.delete_manifest(f"{repo}/to", image.digest) is True
    assert head_digest(registry.address, f"{repo}/to", "1.0") is None
    assert client.delete_manifest(f"{repo}/to", image.digest) is False


@pytest.mark.integration
def test_a_mount_from_a_repository_without_the_blob_is_refused(
    client: RegistryClient, repo: str
) -> None:
    assert client.mount_blob(repo, BIG_DIGEST, f"{repo}/elsewhere") is False


@pytest.mark.integration
@pytest.mark.parametrize("size", [0, 17, len(BIG)])
def test_a_blob_is_streamed_from_one_repository_to_another(
    registry: RegistryServer, client: RegistryClient, repo: str, size: int
) -> None:
    data = BIG[:size]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open_client(registry.address) as http:
        upload_blob(http, f"{repo}/from", digest, data)
    with client.open_blob(f"{repo}/from", digest) as chunks:
        client.upload_blob(f"{repo}/to-{size}", digest, chunks)
    assert client.head_blob(f"{repo}/to-{size}", digest) == size
    with client.open_blob(f"{repo}/to-{size}", digest) as chunks:
        assert b"".join(chunks) == data


@pytest.mark.integration
def test_an_upload_whose_chunks_fail_leaves_no_blob(client: RegistryClient, repo: str) -> None:
    def failing() -> Iterator[bytes]:
        yield BIG[:BLOB_CHUNK]
        yield BIG[BLOB_CHUNK : 2 * BLOB_CHUNK]
        raise RegistryError("source", "content hashes otherwise")

    with pytest.raises(RegistryError, match="content hashes otherwise"):
        client.upload_blob(repo, BIG_DIGEST, failing())
    assert client.head_blob(repo, BIG_DIGEST) is None
