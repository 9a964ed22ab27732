"""The distribution API for one registry: tag lists, manifests and blobs, nothing of their meaning.

Digests come from HEAD (which does not count against Docker Hub's pull limits); a GET verifies the
bytes it returns against the digest asked for and the one the registry announced.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

import httpx

from tagmgr.descriptor import MANIFEST_MEDIA_TYPES, Descriptor
from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.reference import DIGEST_PATTERN
from tagmgr.registry.failures import request_error, status_error
from tagmgr.registry.limits import UNBOUNDED
from tagmgr.registry.options import Connection, RegistryOptions, check_destination
from tagmgr.registry.retry import RETRY_SAFE, Reachability, RetryPolicy
from tagmgr.registry.session import Session, open_session

ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
DIGEST_HEADER = "Docker-Content-Digest"
MAX_TAG_PAGES = 1_000
MAX_TAGS = 100_000
BLOB_CHUNK = 1024 * 1024
_DIGEST_RE = re.compile(DIGEST_PATTERN)
RetrySafe = bool | Callable[[], bool]  # see tagmgr.registry.retry.RETRY_SAFE
_LENGTH_RE = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which int() refuses


class RegistryClient:
    """One registry host; thread-safe. The first call pings it to settle scheme, TLS and auth.

    One settlement at a time: other threads wait for it and share its session, or its failure,
    which is raised again by every later call, so an unreachable registry is tried only once.
    """

    def __init__(
        self,
        registry: str,
        options: RegistryOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.registry = registry
        self._options = options
        self._transport = transport
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._reachability = Reachability(registry, self._retry.down_after, options.timeout)
        self._session: Session | None = None
        self._failure: TagmgrError | None = None
        self._lock = threading.Lock()

    def connection(self) -> Connection:
        return self._settled().connection

    def list_tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag, following ``Link: <...>; rel="next"``; ``[]`` if the repository is unknown.

        ``page_size`` asks for pages of that many tags (``n``); registries may ignore it. Pages that
        loop, or run past ``MAX_TAG_PAGES`` pages or ``MAX_TAGS`` tags, are a ``RegistryError``.
        """
        start = self._url(f"/v2/{repository}/tags/list")
        if page_size:
            start = start.copy_merge_params({"n": page_size})
        tags: list[str] = []
        visited: set[httpx.URL] = set()
        url: httpx.URL | None = start
        while url is not None:
            visited.add(url)
            response = self._send("GET", url)
            if response.status_code == 404 and url == start:
                return []
            tags.extend(self._tags_in(self._ok(response)))
            if len(tags) > MAX_TAGS:
                raise self._tag_list_error(repository, f"holds more than {MAX_TAGS} tags")
            url = self._next_page(response, visited)
            if url is not None and len(visited) == MAX_TAG_PAGES:
                raise self._tag_list_error(repository, f"runs past {MAX_TAG_PAGES} pages")
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
        if not _DIGEST_RE.fullmatch(digest) or not _LENGTH_RE.fullmatch(length):
            return self.get_manifest(repository, reference)[0]
        if _DIGEST_RE.fullmatch(reference) and digest != reference:
            raise self._digest_error(repository, reference, f"the registry announced {digest}")
        return Descriptor(_media_type(response), digest, int(length))

    def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        """The manifest's exact bytes, checked against the digest asked for and the one sent.

        A ``Docker-Content-Digest`` that is not a digest is ignored: the bytes are hashed instead.
        """
        response = self._send("GET", self._manifest_url(repository, reference), ACCEPT_MANIFESTS)
        content = self._ok(response).content
        announced = response.headers.get(DIGEST_HEADER, "")
        expected = [d for d in (reference, announced) if _DIGEST_RE.fullmatch(d)]
        for digest in expected:
            actual = _digest_of(content, digest.partition(":")[0])
            if actual != digest:
                problem = f"content hashes to {actual}, not {digest}"
                raise self._digest_error(repository, reference, problem)
        digest = expected[0] if expected else _digest_of(content, "sha256")
        return Descriptor(_media_type(response), digest, len(content)), content

    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[Iterator[bytes]]:
        """The blob's bytes as chunks of at most ``BLOB_CHUNK``, never the whole blob at once.

        The bytes are hashed as they pass, and the last chunk is handed out only once the whole
        blob hashed to ``digest``: a reader that gets to the end has read exactly that blob, and
        one that gets a ``RegistryError`` instead must discard what it made of the rest.
        """
        self._check_digest("blob", repository, digest)
        url = self._url(f"/v2/{repository}/blobs/{digest}")
        response = self._send("GET", url, stream=True)
        try:
            if not response.is_success:
                response.read()
                self._ok(response)
            yield self._verified_chunks(response, repository, digest)
        finally:
            response.close()

    def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes
    ) -> Descriptor:
        """PUT ``content`` byte for byte as ``media_type`` under ``reference`` (tag or digest).

        The digest the registry answers with must be the sha256 of what was sent: one that differs
        means the bytes were altered on the way, and is a ``RegistryError``.
        """
        sent = _digest_of(content, "sha256")
        url = self._manifest_url(repository, reference)

        def still_safe() -> bool:
            """Sending again cannot overwrite a rival: the tag is absent or already these bytes."""
            found = self.head_manifest(repository, reference)
            return found is None or found.digest == sent

        safe: RetrySafe = True if _DIGEST_RE.fullmatch(reference) else still_safe
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

    def head_blob(self, repository: str, digest: str) -> int | None:
        """The blob's size if ``repository`` holds it, else None."""
        self._check_digest("blob", repository, digest)
        response = self._send("HEAD", self._url(f"/v2/{repository}/blobs/{digest}"))
        if response.status_code == 404:
            return None
        length = self._ok(response).headers.get("Content-Length", "")
        return int(length) if _LENGTH_RE.fullmatch(length) else 0

    def mount_blob(self, repository: str, digest: str, source_repository: str) -> bool:
        """Mount ``digest`` from another repository of this registry: True if it was mounted.

        A registry that will not mount (202) starts an upload instead; it is cancelled, and the
        caller uploads the blob itself.
        """
        self._check_digest("blob", repository, digest)
        url = self._url(f"/v2/{repository}/blobs/uploads/").copy_merge_params(
            {"mount": digest, "from": source_repository}
        )
        response = self._ok(self._send("POST", url, retry_safe=True))
        if response.status_code == 201:
            return True
        self._cancel_upload(response)
        return False

    def upload_blob(self, repository: str, digest: str, chunks: Iterable[bytes]) -> None:
        """Upload a blob from ``chunks`` (``open_blob``'s, say), holding one chunk at a time.

        A blob of one chunk goes up in one PUT; a larger one in a PATCH per chunk, then a PUT
        naming the digest, which the registry checks. If ``chunks`` fails (a source blob that
        hashed otherwise), the upload is cancelled and the failure raised.
        """
        self._check_digest("blob", repository, digest)
        started = self._ok(self._send("POST", self._url(f"/v2/{repository}/blobs/uploads/")))
        location, offset = self._location(started), 0
        pending: bytes | None = None
        try:
            for chunk in chunks:
                if pending is not None:
                    location = self._patch(location, pending, offset)
                    offset += len(pending)
                pending = chunk
        except BaseException:
            self._discard_upload(location)
            raise
        final = location.copy_merge_params({"digest": digest})
        headers = {"Content-Type": "application/octet-stream"}
        self._ok(self._send("PUT", final, headers, content=pending or b""))

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.http.close()
            self._session, self._failure = None, None
            self._reachability = Reachability(
                self.registry, self._retry.down_after, self._options.timeout
            )

    def _patch(self, location: httpx.URL, chunk: bytes, offset: int) -> httpx.URL:
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
        }
        return self._location(self._ok(self._send("PATCH", location, headers, content=chunk)))

    def _location(self, response: httpx.Response) -> httpx.URL:
        """Where an upload goes on: the answer's ``Location``, relative to the request."""
        location = response.headers.get("Location", "")
        if not location:
            raise RegistryError(self.registry, f"{response.url.path}: upload without a Location")
        return response.url.join(location)

    def _cancel_upload(self, response: httpx.Response) -> None:
        if response.headers.get("Location"):
            self._discard_upload(self._location(response))

    def _discard_upload(self, location: httpx.URL) -> None:
        """Cancel an upload, best effort: the registry purges abandoned ones anyway."""
        with suppress(TagmgrError):
            self._send("DELETE", location).close()

    def _check_digest(self, kind: str, repository: str, digest: str) -> None:
        if not _DIGEST_RE.fullmatch(digest):
            raise RegistryError(self.registry, f"{kind} {repository}@{digest}: not a digest")

    def _settled(self) -> Session:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._session is None:
                try:
                    self._session = open_session(
                        self.registry,
                        self._options,
                        transport=self._transport,
                        sleep=self._sleep,
                        policy=self._retry,
                        reachability=self._reachability,
                    )
                except TagmgrError as failure:
                    self._failure = failure
                    raise
            return self._session

    def _url(self, path: str) -> httpx.URL:
        return check_destination(self.registry, self._settled().base_url.join(path))

    def _manifest_url(self, repository: str, reference: str) -> httpx.URL:
        return self._url(f"/v2/{repository}/manifests/{reference}")

    def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str] | None = None,
        *,
        content: bytes | None = None,
        stream: bool = False,
        retry_safe: RetrySafe | None = None,
    ) -> httpx.Response:
        """The boundary: every request goes through here, every httpx failure is translated.

        A ``stream`` answer is not read: it may be larger than any other answer is allowed to be.
        """
        http = self._settled().http
        extensions: dict[str, object] = {UNBOUNDED: True} if stream else {}
        if retry_safe is not None:
            extensions[RETRY_SAFE] = retry_safe
        request = http.build_request(
            method, url, headers=headers, content=content, extensions=extensions
        )
        try:
            return http.send(request, stream=stream)
        except httpx.RequestError as exc:
            raise request_error(self.registry, url, exc, self._options.timeout) from exc

    def _verified_chunks(
        self, response: httpx.Response, repository: str, digest: str
    ) -> Iterator[bytes]:
        algorithm = digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        held: bytes | None = None
        try:
            for chunk in response.iter_bytes(BLOB_CHUNK):
                hasher.update(chunk)
                if held is not None:
                    yield held
                held = chunk
        except httpx.RequestError as exc:
            raise request_error(self.registry, response.url, exc, self._options.timeout) from exc
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest:
            raise RegistryError(
                self.registry, f"blob {repository}@{digest}: content hashes to {actual}"
            )
        if held is not None:
            yield held

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if not response.is_success:
            raise status_error(self.registry, response)
        return response

    def _tags_in(self, response: httpx.Response) -> list[str]:
        try:
            tags = json.loads(response.content).get("tags") or []
        except (ValueError, RecursionError, AttributeError):
            tags = None
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            return tags
        raise RegistryError(self.registry, f"{response.url.path}: not a tag list")

    def _next_page(self, response: httpx.Response, visited: set[httpx.URL]) -> httpx.URL | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        url = response.url.join(link)
        if url in visited:
            raise RegistryError(self.registry, f"tag list pages loop back to {url}")
        return url

    def _tag_list_error(self, repository: str, problem: str) -> RegistryError:
        return RegistryError(self.registry, f"tag list of {repository} {problem}; stopped there")

    def _digest_error(self, repository: str, reference: str, problem: str) -> RegistryError:
        separator = "@" if _DIGEST_RE.fullmatch(reference) else ":"
        return RegistryError(
            self.registry, f"manifest {repository}{separator}{reference}: {problem}"
        )


def _digest_of(content: bytes, algorithm: str) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"


def _media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("Content-Type", "")
    return content_type.split(";", 1)[0].strip()
