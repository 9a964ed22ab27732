"""Registry client writes against a scripted registry, for what a real one will not do on
demand: a digest other than the one sent, a mount refused; and the scope each write asks for.
"""

from __future__ import annotations

import hashlib

import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.auth import scope_for
from tagmgr.registry.messages import Request, Response
from tests.support.transport import MockTransport

BLOB_DIGEST = "sha256:" + "b" * 64


def scripted(handler: MockTransport) -> RegistryClient:
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
    assert scope_for(Request(method, f"https://registry.example{url}")) == scope


def test_a_manifest_put_answered_with_another_digest_is_an_error() -> None:
    def handler(request: Request) -> Response:
        return Response(201, headers={"Docker-Content-Digest": "sha256:" + "0" * 64})

    content = b'{"schemaVersion": 2}'
    sent = "sha256:" + hashlib.sha256(content).hexdigest()
    with pytest.raises(RegistryError) as caught:
        scripted(MockTransport(handler)).put_manifest("team/app", "1.0", "x/y", content)
    assert str(caught.value) == (
        f"registry registry.example: manifest team/app:1.0: the registry stored "
        f"sha256:{'0' * 64}, but what was sent hashes to {sent}"
    )


def test_a_refused_mount_cancels_the_upload_it_started() -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return Response(202, headers={"Location": "/v2/team/app/blobs/uploads/u-1"})
        return Response(204)

    client = scripted(MockTransport(handler))
    assert client.mount_blob("team/app", BLOB_DIGEST, "team/base") is False
    assert seen == [
        "GET /v2/",
        "POST /v2/team/app/blobs/uploads/",
        "DELETE /v2/team/app/blobs/uploads/u-1",
    ]
