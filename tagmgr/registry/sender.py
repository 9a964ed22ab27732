"""Sending one request to a registry: the auth flow, redirects, the answer read unless streamed.

Requests are built once with every header and go through one transport (retries, pace, bounds,
proxies, connections); the auth flow is a generator (``AuthFlow``) that yields the requests to
send and is sent their answers. No cookies: a registry sets none that matter.

Redirects are followed as httpx and browsers follow them, up to ``MAX_REDIRECTS``: 301 (a
POST becomes a GET), 302 and 303 (anything but HEAD becomes a GET, without its body), 307 and
308 (as sent).
``Authorization`` goes only to the same origin (or its HTTPS upgrade): a blob redirected to a
storage host is fetched with the URL's own signature, not the registry's token.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

from tagmgr.registry.messages import (
    URL,
    Headers,
    InvalidURL,
    RemoteProtocolError,
    Request,
    Response,
    TooManyRedirects,
    Transport,
)

MAX_REDIRECTS = 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class AuthFlow(Protocol):
    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Yield ``request`` (with credentials, if known), and any request the answer calls for."""
        ...


class NoAuth:
    """Requests sent as they are."""

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        yield request


class Sender:
    """Requests through ``transport`` with ``auth`` and ``headers``; thread-safe if they are."""

    def __init__(self, transport: Transport, auth: AuthFlow, headers: dict[str, str]) -> None:
        self._transport = transport
        self._auth = auth
        self._headers = headers

    def send(
        self,
        method: str,
        url: URL,
        headers: dict[str, str],
        *,
        content: bytes | None = None,
        extensions: dict[str, object] | None = None,
        stream: bool = False,
        authenticate: bool = True,
    ) -> Response:
        """The answer to ``method url``, read whole unless ``stream`` (then the caller closes
        it). ``authenticate=False`` sends it without the auth flow (the ``/v2/`` ping)."""
        request = Request(
            method,
            url,
            headers={**self._headers, **headers},
            content=content,
            extensions={} if extensions is None else extensions,
        )
        response = self._authenticated(request) if authenticate else self._followed(request)
        try:
            if not stream:
                response.read()
        except BaseException:
            response.close()
            raise
        return response

    def close(self) -> None:
        self._transport.close()

    def _authenticated(self, request: Request) -> Response:
        flow = self._auth.auth_flow(request)
        try:
            request = next(flow)
            while True:
                response = self._followed(request)
                try:
                    try:
                        request = flow.send(response)
                    except StopIteration:
                        return response
                    response.read()  # the answer replaced: bounded like any other
                except BaseException:
                    response.close()
                    raise
        finally:
            flow.close()

    def _followed(self, request: Request) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._transport.handle_request(request)
            response.request = request
            if response.status_code not in _REDIRECTS or "Location" not in response.headers:
                return response
            try:
                response.read()
                request = _redirected(request, response)
            finally:
                response.close()
        raise TooManyRedirects(
            f"more than {MAX_REDIRECTS} redirects from {request.url.without_query()}",
            request=request,
        )


def _redirected(request: Request, response: Response) -> Request:
    status, method = response.status_code, request.method
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    url = _location(request, response.headers["Location"])
    headers = Headers(request.headers)
    if url.origin != request.url.origin:
        if not _upgrade(request.url, url):
            headers.pop("Authorization", None)
        headers["Host"] = url.netloc
    content = request.content or None  # a bodiless request stays without Content-Length
    if method != request.method:
        headers.pop("Content-Length")
        headers.pop("Transfer-Encoding")
        content = None
    return Request(method, url, headers=headers, content=content, extensions=request.extensions)


def _location(request: Request, location: str) -> URL:
    try:
        url = URL.parse(location)
    except InvalidURL as exc:
        raise RemoteProtocolError(f"redirect to an invalid URL: {exc}", request=request) from None
    if url.is_absolute:
        return url
    if url.scheme:  # "https:///v2/": the request's host
        return URL(url.scheme, request.url.host, url.port, url.raw_path, url.query)
    return request.url.join(location)


def _upgrade(url: URL, location: URL) -> bool:
    """``location`` is ``url``'s host over HTTPS on the default ports: the token may follow."""
    return url.origin == ("http", location.host, 80) and location.origin == ("https", url.host, 443)
