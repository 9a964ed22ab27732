"""A registry that answers to harm: endless pages, forged digests, huge bodies, clear-text realms.

Every test is bounded: the scripted registry (``httpx.MockTransport``) stops misbehaving after a
fixed number of requests or bytes, so a client without the guard ends too, and the test fails.
"""

from __future__ import annotations

import httpx
import pytest

from tagmgr.descriptor import OCI_MANIFEST, Descriptor
from tagmgr.errors import RegistryError
from tagmgr.registry.client import MAX_TAG_PAGES, MAX_TAGS
from tests.test_registry_client import (
    DIGEST,
    MANIFEST,
    client_for,
    manifest_response,
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
)

# --- tag lists ----------------------------------------------------------------------------


class EndlessPages:
    """Tag list pages that never repeat, each linking to the next, for ``pages`` pages."""

    def __init__(self, tags_per_page: int, pages: int) -> None:
        self.tags_per_page, self.pages, self.served = tags_per_page, pages, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        self.served += 1
        tags = [f"p{self.served}-{i}" for i in range(self.tags_per_page)]
        headers = {}
        if self.served < self.pages:
            headers["Link"] = f'</v2/app/tags/list?last={tags[-1]}>; rel="next"'
        return httpx.Response(200, json={"name": "app", "tags": tags}, headers=headers)


def test_tag_list_pages_are_capped() -> None:
    registry = EndlessPages(tags_per_page=1, pages=MAX_TAG_PAGES + 500)
    with pytest.raises(RegistryError) as caught:
        client_for(registry).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: tag list of app runs past 1000 pages; stopped there"
    )
    assert registry.served == MAX_TAG_PAGES


def test_tag_list_of_exactly_the_page_cap_is_whole() -> None:
    registry = EndlessPages(tags_per_page=1, pages=MAX_TAG_PAGES)
    assert len(client_for(registry).list_tags("app")) == MAX_TAG_PAGES


def test_tags_are_capped_across_pages() -> None:
    registry = EndlessPages(tags_per_page=10_000, pages=20)
    with pytest.raises(RegistryError) as caught:
        client_for(registry).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: tag list of app holds more than 100000 tags; stopped there"
    )
    assert registry.served == MAX_TAGS // 10_000 + 1


# --- manifest headers ---------------------------------------------------------------------

FORGED_DIGESTS = [
    "sha256:../../../etc",
    "sha256:" + "A" * 64,
    "sha256:" + "0" * 63,
    "md5:" + "0" * 32,
    f"{DIGEST} --src-creds=x",
]


@pytest.mark.parametrize("forged", FORGED_DIGESTS)
def test_head_with_a_forged_digest_header_reads_and_hashes_the_manifest(forged: str) -> None:
    """The digest from HEAD reaches skopeo's argv: only a well-formed one may be passed on."""
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return manifest_response(request, digest=forged)

    assert client_for(handler).head_manifest("app", "v1") == Descriptor(
        OCI_MANIFEST, DIGEST, len(MANIFEST)
    )
    assert methods[-2:] == ["HEAD", "GET"]


@pytest.mark.parametrize("length", ["²", "-1", "1e3", "0x10"])
def test_head_with_a_length_that_is_not_ascii_digits_reads_the_manifest(length: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return manifest_response(request)
        headers = {"Docker-Content-Digest": DIGEST, "Content-Length": length.encode()}
        return httpx.Response(200, headers=headers)

    assert client_for(handler).head_manifest("app", "v1") == Descriptor(
        OCI_MANIFEST, DIGEST, len(MANIFEST)
    )


@pytest.mark.parametrize("forged", FORGED_DIGESTS)
@pytest.mark.parametrize("reference", ["v1", DIGEST])
def test_get_with_a_forged_digest_header_gives_the_digest_of_the_bytes(
    forged: str, reference: str
) -> None:
    client = client_for(lambda request: manifest_response(request, digest=forged))
    assert client.get_manifest("app", reference) == (
        Descriptor(OCI_MANIFEST, DIGEST, len(MANIFEST)),
        MANIFEST,
    )
