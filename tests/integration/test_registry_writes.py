"""Registry client writes: manifest PUT of exact bytes, blob HEAD, mount, streamed upload, DELETE.

Against the real docker-registry where it can answer; a scripted one for what it will not do on
demand (a digest other than the one sent, a mount refused).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.auth import scope_for
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


def scripted(handler: httpx.MockTransport) -> RegistryClient:
    return RegistryClient("registry.example", RegistryOptions(), transport=handler)


@pytest.mark.parametrize(
    ("method", "url", "scope"),
    [
        ("PUT", "/v2/team/app/manifests/1.0", "repository:team/app:pull,push"),
        ("PATCH", "/v2/team/app/blobs/uploads/u-1", "repository:team/app:pull,push"),
        ("DELETE", "/v2/team/app/manifests/sha256:ab", "repository:team/app:delete"),
        (
            "POST",
            "/v2/team/app/blobs/uploads/?mount=sha256:ab&from=team/base",
            "repository:team/app:pull,push repository:team/base:pull",
        ),
    ],
)
def test_writes_ask_for_push_delete_and_the_mount_source(method: str, url: str, scope: str) -> None:
    assert scope_for(httpx.Request(method, f"https://registry.example{url}")) == scope


def test_a_manifest_put_answered_with_another_digest_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers={"Docker-Content-Digest": "sha256:" + "0" * 64})

    content = b'{"schemaVersion": 2}'
    sent = "sha256:" + hashlib.sha256(content).hexdigest()
    with pytest.raises(RegistryError) as caught:
        scripted(httpx.MockTransport(handler)).put_manifest("team/app", "1.0", "x/y", content)
    assert str(caught.value) == (
        f"registry registry.example: manifest team/app:1.0: the registry stored "
        f"sha256:{'0' * 64}, but what was sent hashes to {sent}"
    )


def test_a_refused_mount_cancels_the_upload_it_started() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v2/team/app/blobs/uploads/u-1"})
        return httpx.Response(204)

    client = scripted(httpx.MockTransport(handler))
    assert client.mount_blob("team/app", BIG_DIGEST, "team/base") is False
    assert seen == [
        "GET /v2/",
        "POST /v2/team/app/blobs/uploads/",
        "DELETE /v2/team/app/blobs/uploads/u-1",
    ]


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
