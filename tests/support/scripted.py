"""A scripted registry for the registry client's tests: an ``MockTransport`` handler in,
a ``RegistryClient`` out, and what such tests share (one manifest, its digest, an auth file)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tagmgr.oci.mediatypes import OCI_MANIFEST
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.messages import ConnectError, Request, Response
from tests.support.transport import MockTransport

Handler = Callable[[Request], Response]
MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OTHER_DIGEST = "sha256:" + "0" * 64


@pytest.fixture(autouse=True)
def no_credentials_from_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every default auth file location points into an empty temporary home."""
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def client_for(
    handler: Handler, registry: str = "registry.example", **options: object
) -> RegistryClient:
    return RegistryClient(
        registry,
        RegistryOptions(**options),  # type: ignore[arg-type]
        transport=MockTransport(handler),
        sleep=lambda _: None,
    )


def manifest_response(request: Request, *, digest: str | None = DIGEST) -> Response:
    headers = {"Content-Type": OCI_MANIFEST}
    if digest:
        headers["Docker-Content-Digest"] = digest
    body = b"" if request.method == "HEAD" else MANIFEST
    headers["Content-Length"] = str(len(MANIFEST))
    return Response(200, headers=headers, content=body)


def failing(error: BaseException) -> ConnectError:
    exc = ConnectError(str(error))
    exc.__cause__ = error
    return exc


def write_authfile(path: Path, registry: str, username: str, password: str) -> Path:
    path.write_text(json.dumps({"auths": {registry: {"username": username, "password": password}}}))
    return path
