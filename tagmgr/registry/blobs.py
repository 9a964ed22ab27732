"""Blobs: streamed reads, HEAD, cross-repository mounts and uploads, one chunk in memory at a time.

A blob is the one answer allowed past the 4 MiB bound on others (``limits.UNBOUNDED``): it is read
in chunks of ``BLOB_CHUNK``, hashed as it passes, and uploaded the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from tagmgr.errors import RegistryError, TagmgrError
from tagmgr.registry.base import LENGTH_RE, ClientBase, hasher
from tagmgr.registry.failures import request_error
from tagmgr.registry.messages import URL, InvalidURL, RequestError, Response

BLOB_CHUNK = 1024 * 1024


class BlobClient(ClientBase):
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

    def _verified_chunks(self, response: Response, repository: str, digest: str) -> Iterator[bytes]:
        algorithm = digest.partition(":")[0]
        hashed = hasher(algorithm)
        held: bytes | None = None
        try:
            for chunk in response.iter_bytes(BLOB_CHUNK):
                hashed.update(chunk)
                if held is not None:
                    yield held
                held = chunk
        except RequestError as exc:
            raise request_error(
                self.registry, response.url, exc, self._options.retry.request_timeout
            ) from exc
        actual = f"{algorithm}:{hashed.hexdigest()}"
        if actual != digest:
            raise RegistryError(
                self.registry, f"blob {repository}@{digest}: content hashes to {actual}"
            )
        if held is not None:
            yield held

    def head_blob(self, repository: str, digest: str) -> int | None:
        """The blob's size if ``repository`` holds it, else None."""
        self._check_digest("blob", repository, digest)
        response = self._send("HEAD", self._url(f"/v2/{repository}/blobs/{digest}"))
        if response.status_code == 404:
            return None
        length = self._ok(response).headers.get("Content-Length", "")
        return int(length) if LENGTH_RE.fullmatch(length) else 0

    def mount_blob(self, repository: str, digest: str, source_repository: str) -> bool:
        """Mount ``digest`` from another repository of this registry: True if it was mounted.

        A registry that will not mount (202) starts an upload instead; it is cancelled, and the
        caller uploads the blob itself.
        """
        self._check_digest("blob", repository, digest)
        url = self._url(f"/v2/{repository}/blobs/uploads/").with_params(
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
        final = location.with_params({"digest": digest})
        headers = {"Content-Type": "application/octet-stream"}
        self._ok(self._send("PUT", final, headers, content=pending or b""))

    def _patch(self, location: URL, chunk: bytes, offset: int) -> URL:
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
        }
        return self._location(self._ok(self._send("PATCH", location, headers, content=chunk)))

    def _location(self, response: Response) -> URL:
        """Where an upload goes on: the answer's ``Location``, relative to the request."""
        location = response.headers.get("Location", "")
        if not location:
            raise RegistryError(self.registry, f"{response.url.path}: upload without a Location")
        try:
            return response.url.join(location)
        except InvalidURL as error:
            problem = f"upload Location {location[:80]!r}: {error}"
            raise RegistryError(self.registry, problem) from None

    def _cancel_upload(self, response: Response) -> None:
        if response.headers.get("Location"):
            self._discard_upload(self._location(response))

    def _discard_upload(self, location: URL) -> None:
        """Cancel an upload, best effort: the registry purges abandoned ones anyway."""
        with suppress(TagmgrError):
            self._send("DELETE", location).close()
