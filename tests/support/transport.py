"""A transport answered by a function, and a small client over the real ``Sender``: unit tests
of the registry layers, without a server."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from tagmgr.registry.messages import URL, Request, Response, Transport
from tagmgr.registry.sender import AuthFlow, NoAuth, Sender


class MockTransport:
    """Answers each request with ``handler(request)``, which may also raise."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self._handler = handler

    def handle_request(self, request: Request) -> Response:
        response = self._handler(request)
        response.request = request
        return response

    def close(self) -> None:
        pass


class Client:
    """``transport`` behind the sender tagmgr uses: auth flow, redirects, answers read."""

    def __init__(self, transport: Transport, auth: AuthFlow | None = None) -> None:
        self._sender = Sender(transport, auth or NoAuth(), {})
        self._authenticate = auth is not None

    def request(
        self, method: str, url: str, *, extensions: dict[str, object] | None = None
    ) -> Response:
        return self._sender.send(
            method,
            URL.parse(url),
            {},
            extensions=extensions,
            authenticate=self._authenticate,
        )

    def get(self, url: str, *, extensions: dict[str, object] | None = None) -> Response:
        return self.request("GET", url, extensions=extensions)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sender.close()
