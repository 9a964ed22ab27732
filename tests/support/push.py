"""The distribution API from the test side, with httpx and nothing of tagmgr's.

Tests push fixtures and check results through this module, so a bug in tagmgr's registry client
cannot vouch for itself. Plain HTTP unless a CA is given, then HTTPS trusting only that CA.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.oci import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
)
from tests.support.trust import ssl_context

# Every manifest type, so the registry never falls back to another format or platform.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
TIMEOUT = 10.0


class PushError(AssertionError):
    """The registry refused or altered what a test pushed."""


def open_client(
    address: str, *, ca_path: Path | None = None, auth: tuple[str, str] | None = None
) -> httpx.Client:
    """A client for ``address`` ("127.0.0.1:PORT"); HTTPS trusting only ``ca_path`` if given."""
    scheme = "https" if ca_path else "http"
    return httpx.Client(
        base_url=f"{scheme}://{address}",
        verify=ssl_context(ca_path) if ca_path else False,
        auth=httpx.BasicAuth(*auth) if auth else None,
        timeout=TIMEOUT,
        trust_env=False,  # a proxy from the environment must never see loopback traffic
    )


def push(
    address: str,
    repo: str,
    tag: str,
    image: Image,
    *,
    ca_path: Path | None = None,
    auth: tuple[str, str] | None = None,
) -> None:
    """Push every blob, then child manifests by digest, then ``image`` as ``repo:tag``."""
    with open_client(address, ca_path=ca_path, auth=auth) as client:
        for digest, data in image.all_blobs().items():
            upload_blob(client, repo, digest, data)
        for manifest in image.manifests():
            ref = tag if manifest is image else manifest.digest
            _put_manifest(client, repo, ref, manifest)


def head_digest(
    address: str,
    repo: str,
    ref: str,
    *,
    ca_path: Path | None = None,
    auth: tuple[str, str] | None = None,
) -> str | None:
    """The ``Docker-Content-Digest`` of ``repo:ref`` (tag or digest), or None if it is absent."""
    with open_client(address, ca_path=ca_path, auth=auth) as client:
        response = client.head(f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    if response.status_code == 404:
        return None
    _expect(response, 200)
    return response.headers["Docker-Content-Digest"]


def get_manifest_bytes(
    address: str,
    repo: str,
    ref: str,
    *,
    ca_path: Path | None = None,
    auth: tuple[str, str] | None = None,
) -> bytes:
    """The manifest of ``repo:ref`` exactly as the registry serves it."""
    with open_client(address, ca_path=ca_path, auth=auth) as client:
        response = client.get(f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    _expect(response, 200)
    return response.content


def upload_blob(client: httpx.Client, repo: str, digest: str, data: bytes) -> None:
    started = client.post(f"/v2/{repo}/blobs/uploads/")
    _expect(started, 202)
    # The Location keeps upload state in its query; httpx's params= would replace that query.
    location = httpx.URL(started.headers["Location"]).copy_merge_params({"digest": digest})
    finished = client.put(
        location,
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    _expect(finished, 201)


def _put_manifest(client: httpx.Client, repo: str, ref: str, image: Image) -> None:
    response = client.put(
        f"/v2/{repo}/manifests/{ref}",
        content=image.manifest_bytes,
        headers={"Content-Type": image.media_type},
    )
    _expect(response, 201)
    stored = response.headers.get("Docker-Content-Digest")
    if stored != image.digest:
        raise PushError(f"{repo}:{ref}: registry stored {stored}, pushed {image.digest}")


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        request = response.request
        raise PushError(
            f"{request.method} {request.url}: expected {status}, got {response.status_code}: "
            f"{response.text[:500]}"
        )
