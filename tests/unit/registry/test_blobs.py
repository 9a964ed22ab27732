"""Streamed blob reads from a scripted registry: chunk by chunk, past the 4 MiB bound on other
answers, digest checked before the last chunk. A real registry's large blob:
tests/integration/test_registry_blobs.py."""

from __future__ import annotations

import hashlib
import os

import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.blobs import BLOB_CHUNK
from tagmgr.registry.limits import MAX_ANSWER
from tagmgr.registry.messages import Request, Response
from tests.support.transport import MockTransport

BIG = os.urandom(MAX_ANSWER + 3 * BLOB_CHUNK + 17)
BIG_DIGEST = "sha256:" + hashlib.sha256(BIG).hexdigest()


def scripted(body: bytes, status: int = 200) -> RegistryClient:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(status, content=body)

    return RegistryClient("registry.example", RegistryOptions(), transport=MockTransport(handler))


def read_all(client: RegistryClient, digest: str, repository: str = "team/app") -> bytes:
    with client.open_blob(repository, digest) as chunks:
        return b"".join(chunks)


def test_a_blob_larger_than_any_manifest_is_read_in_chunks() -> None:
    client = scripted(BIG)
    with client.open_blob("team/app", BIG_DIGEST) as chunks:
        sizes = [len(chunk) for chunk in chunks]
    assert sum(sizes) == len(BIG)
    assert max(sizes) <= BLOB_CHUNK


def test_a_blob_that_hashes_otherwise_fails_before_its_last_chunk() -> None:
    client = scripted(BIG[:-1] + bytes([BIG[-1] ^ 1]))  # b"x" was BIG itself 1 run in 256
    received: list[int] = []

    def read() -> None:
        with client.open_blob("team/app", BIG_DIGEST) as chunks:
            received.extend(len(chunk) for chunk in chunks)

    with pytest.raises(RegistryError) as caught:
        read()
    assert sum(received) < len(BIG)
    assert str(caught.value).startswith(
        f"registry registry.example: blob team/app@{BIG_DIGEST}: content hashes to sha256:"
    )


def test_a_missing_blob_is_a_registry_error() -> None:
    client = scripted(b'{"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}', 404)
    with pytest.raises(RegistryError) as caught:
        read_all(client, BIG_DIGEST)
    assert str(caught.value) == (
        f"registry registry.example: GET /v2/team/app/blobs/{BIG_DIGEST}: 404 Not Found: "
        "BLOB_UNKNOWN: blob unknown"
    )


def test_a_blob_is_asked_for_by_digest_only() -> None:
    with pytest.raises(RegistryError) as caught:
        read_all(scripted(b""), "latest")
    assert str(caught.value) == "registry registry.example: blob team/app@latest: not a digest"
