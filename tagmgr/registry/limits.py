"""A bound on every answer from a registry: ``MAX_ANSWER`` bytes, counted as they arrive.

It is the bound on manifests (``tagmgr.oci.content``, 4 MiB, the distribution spec's figure); tag
list pages, token answers and error bodies are held to it as well. The bound is kept by a
transport under the retries, so every read of a body is bounded, those of 401 and redirect
answers included. Answers are asked for without content coding (``Accept-Encoding: identity``)
and one sent in a coding is refused: the bytes counted are then the bytes kept, where a
compressed answer could inflate a thousandfold.

A blob is the one answer allowed to be larger: its request carries the ``UNBOUNDED`` extension, and
its reader holds one chunk at a time and checks the digest of what came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from tagmgr.errors import RegistryError
from tagmgr.oci.content import MAX_DOCUMENT_BYTES
from tagmgr.registry.messages import Request, Response, Stream, Transport

MAX_ANSWER = MAX_DOCUMENT_BYTES
UNBOUNDED = "tagmgr.unbounded"  # a request extension: True for a blob read as a stream
_LENGTH = re.compile(r"[0-9]+")


class BoundedTransport:
    """Send through ``inner``; refuse an answer larger than ``limit`` bytes, or in a coding."""

    def __init__(self, inner: Transport, registry: str, limit: int = MAX_ANSWER) -> None:
        self._inner = inner
        self._registry = registry
        self._limit = limit

    def handle_request(self, request: Request) -> Response:
        request.headers["Accept-Encoding"] = "identity"
        response = self._inner.handle_request(request)
        coding = response.headers.get("Content-Encoding", "identity").strip().lower()
        length = response.headers.get("Content-Length", "")
        if coding not in {"", "identity"}:
            response.close()
            raise self._error(request, f"answer in {coding} coding, which was not asked for")
        if request.extensions.get(UNBOUNDED) and response.is_success:
            return response
        if request.method != "HEAD" and _LENGTH.fullmatch(length) and int(length) > self._limit:
            response.close()
            raise self._too_large(request)
        response.stream = _BoundedStream(
            response.stream, self._limit, lambda: self._too_large(request)
        )
        return response

    def close(self) -> None:
        self._inner.close()

    def _too_large(self, request: Request) -> RegistryError:
        return self._error(request, f"answer larger than {self._limit} bytes")

    def _error(self, request: Request, problem: str) -> RegistryError:
        url = request.url.without_query()
        return RegistryError(self._registry, f"{request.method} {url}: {problem}")


class _BoundedStream:
    """``inner``'s chunks, until more than ``limit`` bytes have come: then ``error()`` is raised."""

    def __init__(self, inner: Stream, limit: int, error: Callable[[], RegistryError]) -> None:
        self._inner = inner
        self._limit = limit
        self._error = error

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise self._error()
            yield chunk

    def close(self) -> None:
        self._inner.close()
