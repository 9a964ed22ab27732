"""Requests through an ``https://`` proxy: TLS to the proxy, and a registry's TLS inside it.

``connections`` cannot nest one TLS session in another; httpcore can, so such a proxy is left
to httpx, imported only then (it costs a third of tagmgr's start-up). Requests and answers are
carried over as they are, and httpx's failures raised as ``messages``' from the original.

The proxy's certificate is verified against the system's trust (``SSL_CERT_FILE`` and
``SSL_CERT_DIR`` honoured), as Go's proxy dialing and so skopeo verify it; the registry's own
certificate as ``tls.Trust`` says.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tagmgr.registry import messages
from tagmgr.registry.messages import Request, Response

if TYPE_CHECKING:
    import httpx


_TIMEOUTS = ("connect", "read", "write", "pool")


class HttpsProxyTransport:
    def __init__(self, context: ssl.SSLContext, proxy: str) -> None:
        import httpx  # noqa: PLC0415 (only for an https:// proxy: see above)

        self._httpx = httpx
        to_proxy = ssl.create_default_context()
        self._transport = httpx.HTTPTransport(
            verify=context, proxy=httpx.Proxy(proxy, ssl_context=to_proxy)
        )

    def handle_request(self, request: Request) -> Response:
        httpx = self._httpx
        sent = httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.items(),
            content=request.content,
            extensions={"timeout": dict.fromkeys(_TIMEOUTS, request.timeout)},
        )
        try:
            answer = self._transport.handle_request(sent)
        except httpx.TransportError as error:
            raise _translated(error, request) from error
        return Response(
            answer.status_code,
            headers=answer.headers.multi_items(),
            stream=_Carried(answer, request, httpx.TransportError),
            reason=answer.reason_phrase,
        )

    def close(self) -> None:
        self._transport.close()


class _Carried:
    """An httpx answer's body, its failures translated."""

    def __init__(
        self, answer: httpx.Response, request: Request, failure: type[httpx.TransportError]
    ) -> None:
        self._answer = answer
        self._request = request
        self._failure = failure

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._answer.iter_raw()
        except self._failure as error:
            raise _translated(error, self._request) from error

    def close(self) -> None:
        self._answer.close()


def _translated(error: Exception, request: Request) -> messages.TransportError:
    """The ``messages`` failure of the same name (``TransportError`` if it has none)."""
    kind = getattr(messages, type(error).__name__, messages.TransportError)
    if not (isinstance(kind, type) and issubclass(kind, messages.TransportError)):
        kind = messages.TransportError
    return kind(str(error), request=request)
