"""Is a repository whole? Asked from the test side, with httpx and nothing of tagmgr's.

Whole means: every tag pulls (its manifest, each child manifest, every blob they name), and every
signature tag (``sha256-<hex>.sig``) has its image beside it.
"""

from __future__ import annotations

import json
import re

import httpx

from tests.support.push import ACCEPT, open_client

SIGNATURE_TAG = re.compile(r"(sha256)-([0-9a-f]{64})\.sig")


def tags_of(address: str, repo: str) -> list[str]:
    with open_client(address) as client:
        response = client.get(f"/v2/{repo}/tags/list")
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return sorted(json.loads(response.content).get("tags") or [])


def pulls(address: str, repo: str, ref: str) -> bool:
    with open_client(address) as client:
        return not _missing(client, repo, ref)


def problems(address: str, repo: str) -> list[str]:
    """What is broken in ``repo``: a tag that does not pull whole, a signature without its image."""
    found = []
    with open_client(address) as client:
        for tag in tags_of(address, repo):
            found += [f"{repo}:{tag}: {problem}" for problem in _missing(client, repo, tag)]
            signed = SIGNATURE_TAG.fullmatch(tag)
            subject = f"{signed[1]}:{signed[2]}" if signed else None
            if subject and _status(client, f"/v2/{repo}/manifests/{subject}") == 404:
                found.append(f"{repo}:{tag}: its image {subject} is gone")
    return found


def _missing(client: httpx.Client, repo: str, ref: str) -> list[str]:
    response = client.get(f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    if response.status_code != 200:
        return [f"manifest {ref}: {response.status_code}"]
    document = json.loads(response.content)
    missing = []
    for child in document.get("manifests", []):
        missing += _missing(client, repo, child["digest"])
    for blob in [document.get("config"), *document.get("layers", [])]:
        if blob and _status(client, f"/v2/{repo}/blobs/{blob['digest']}") != 200:
            missing.append(f"blob {blob['digest']} of {ref}: missing")
    return missing


def _status(client: httpx.Client, path: str) -> int:
    return client.head(path, headers={"Accept": ACCEPT}).status_code
