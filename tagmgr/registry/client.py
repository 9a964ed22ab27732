"""The distribution API for one registry: tag lists and manifests, nothing of their meaning.

Digests come from HEAD (which does not count against Docker Hub's pull limits); a GET verifies the
bytes it returns against the digest asked for and the one the registry announced; a PUT checks the
digest the registry answers with against the bytes sent. Blobs are ``blobs.BlobClient``'s.
"""

from __future__ import annotations

import json

from tagmgr.errors import RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import MANIFEST_MEDIA_TYPES
from tagmgr.registry.base import DIGEST_RE, LENGTH_RE, RetrySafe, digest_of
from tagmgr.registry.blobs import BlobClient
from tagmgr.registry.messages import URL, InvalidURL, Response
from tagmgr.registry.options import check_destination

ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
DIGEST_HEADER = "Docker-Content-Digest"
MAX_TAG_PAGES = 1_000
MAX_TAGS = 100_000


class RegistryClient(BlobClient):
    """The distribution API of one registry host (see ``ClientBase`` for settling); thread-safe."""

    def listing_pages(self, repository: str) -> int | None:
        """How many pages the last complete ``list_tags`` of ``repository`` took; None if none."""
        return self._pages.get(repository)

    def list_tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag (``find_tags``); ``[]`` if the repository is unknown."""
        return self.find_tags(repository, page_size=page_size) or []

    def find_tags(self, repository: str, *, page_size: int | None = None) -> list[str] | None:
        """Every tag, following ``Link: <...>; rel="next"``; None if the registry knows no such
        repository (404, ``NAME_UNKNOWN``).

        ``page_size`` asks for pages of that many tags (``n``); registries may ignore it. Pages that
        loop, or run past ``MAX_TAG_PAGES`` pages or ``MAX_TAGS`` tags, are a ``RegistryError``.
        """
        start = self._url(f"/v2/{repository}/tags/list")
        if page_size:
            start = start.with_params({"n": page_size})
        tags: list[str] = []
        visited: set[URL] = set()
        url: URL | None = start
        while url is not None:
            visited.add(url)
            response = self._send("GET", url)
            if response.status_code == 404 and url == start:
                self._pages[repository] = 1
                return None
            tags.extend(self._tags_in(self._ok(response)))
            if len(tags) > MAX_TAGS:
                raise self._tag_list_error(repository, f"holds more than {MAX_TAGS} tags")
            url = self._next_page(response, visited)
            if url is not None and len(visited) == MAX_TAG_PAGES:
                raise self._tag_list_error(repository, f"runs past {MAX_TAG_PAGES} pages")
        self._pages[repository] = len(visited)
        return tags

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        """What ``reference`` (a tag or digest) points at, or None if it does not exist.

        Without a well-formed digest and length in the answer's headers, the manifest is read
        (GET) and hashed: a header is never passed on unchecked.
        """
        response = self._send("HEAD", self._manifest_url(repository, reference), ACCEPT_MANIFESTS)
        if response.status_code == 404:
            return None
        self._ok(response)
        digest = response.headers.get(DIGEST_HEADER, "")
        length = response.headers.get("Content-Length", "")
        if not DIGEST_RE.fullmatch(digest) or not LENGTH_RE.fullmatch(length):
            return self.get_manifest(repository, reference)[0]
        if DIGEST_RE.fullmatch(reference) and digest != reference:
            raise self._digest_error(repository, reference, f"the registry announced {digest}")
        return Descriptor(_media_type(response), digest, int(length))

    def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        """The manifest's exact bytes, checked against the digest asked for and the one sent.

        A ``Docker-Content-Digest`` that is not a digest is ignored: the bytes are hashed instead.
        """
        response = self._send("GET", self._manifest_url(repository, reference), ACCEPT_MANIFESTS)
        content = self._ok(response).content
        announced = response.headers.get(DIGEST_HEADER, "")
        expected = [d for d in (reference, announced) if DIGEST_RE.fullmatch(d)]
        for digest in expected:
            actual = digest_of(content, digest.partition(":")[0])
            if actual != digest:
                problem = f"content hashes to {actual}, not {digest}"
                raise self._digest_error(repository, reference, problem)
        digest = expected[0] if expected else digest_of(content, "sha256")
        return Descriptor(_media_type(response), digest, len(content)), content

    def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes
    ) -> Descriptor:
        """PUT ``content`` byte for byte as ``media_type`` under ``reference`` (tag or digest).

        The digest the registry answers with must be the sha256 of what was sent: one that differs
        means the bytes were altered on the way, and is a ``RegistryError``.
        """
        sent = digest_of(content, "sha256")
        url = self._manifest_url(repository, reference)

        def still_safe() -> bool:
            """Sending again cannot overwrite a rival: the tag is absent or already these bytes."""
            found = self.head_manifest(repository, reference)
            return found is None or found.digest == sent

        safe: RetrySafe = True if DIGEST_RE.fullmatch(reference) else still_safe
        headers = {"Content-Type": media_type}
        response = self._ok(self._send("PUT", url, headers, content=content, retry_safe=safe))
        stored = response.headers.get(DIGEST_HEADER, sent)
        if stored != sent:
            problem = f"the registry stored {stored}, but what was sent hashes to {sent}"
            raise self._digest_error(repository, reference, problem)
        return Descriptor(media_type, sent, len(content))

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """Delete the manifest ``digest`` (and so every tag on it); False if it was not there."""
        self._check_digest("manifest", repository, digest)
        response = self._send("DELETE", self._manifest_url(repository, digest))
        if response.status_code == 404:
            return False
        self._ok(response)
        return True

    def _tags_in(self, response: Response) -> list[str]:
        try:
            tags = json.loads(response.content).get("tags") or []
        except (ValueError, RecursionError, AttributeError):
            tags = None
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            return tags
        raise RegistryError(self.registry, f"{response.url.path}: not a tag list")

    def _next_page(self, response: Response, visited: set[URL]) -> URL | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        try:  # the next page is this registry's, or not followed: the request carries its token
            url = check_destination(self.registry, response.url.join(link))
        except InvalidURL as error:
            raise RegistryError(self.registry, f"tag list link {link[:80]!r}: {error}") from None
        if url in visited:
            raise RegistryError(self.registry, f"tag list pages loop back to {url}")
        return url

    def _tag_list_error(self, repository: str, problem: str) -> RegistryError:
        return RegistryError(self.registry, f"tag list of {repository} {problem}; stopped there")

    def _digest_error(self, repository: str, reference: str, problem: str) -> RegistryError:
        separator = "@" if DIGEST_RE.fullmatch(reference) else ":"
        return RegistryError(
            self.registry, f"manifest {repository}{separator}{reference}: {problem}"
        )


def _media_type(response: Response) -> str:
    content_type: str = response.headers.get("Content-Type", "")
    return content_type.split(";", 1)[0].strip()
