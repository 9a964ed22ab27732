"""Sending one request to a registry: the auth flow, redirects, the answer read unless streamed.

This is the part of ``httpx.Client.send`` tagmgr uses, without what it does not: cookies (a
registry sets none that matter, and the jar cost more CPU per request than the request itself),
event hooks, base-URL merging and per-request configuration. Requests are httpx's, built once
with every header, and go through one transport (retries, pace, bounds, proxies, connections).

Redirects are followed as httpx follows them, up to ``MAX_REDIRECTS``: 301 (a POST becomes a
GET), 302 and 303 (anything but HEAD becomes a GET, without its body), 307 and 308 (as sent).
``Authorization`` goes only to the same origin (or its HTTPS upgrade): a blob redirected to a
storage host is fetched with the URL's own signature, not the registry's token.
"""

from __future__ import annotations

import httpx

MAX_REDIRECTS = 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Sender:
    """Requests through ``transport`` with ``auth`` and ``headers``; thread-safe if they are."""

    def __init__(
        self, transport: httpx.BaseTransport, auth: httpx.Auth, headers: dict[str, str]
    ) -> None:
        self._transport = transport
        self._auth = auth
        self._headers = headers

    def send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        *,
        content: bytes | None = None,
        extensions: dict[str, object] | None = None,
        stream: bool = False,
        authenticate: bool = True,
    ) -> httpx.Response:
        """The answer to ``method url``, read whole unless ``stream`` (then the caller closes
        it). ``authenticate=False`` sends it without the auth flow (the ``/v2/`` ping)."""
        request = httpx.Request(
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

    def _authenticated(self, request: httpx.Request) -> httpx.Response:
        flow = self._auth.sync_auth_flow(request)
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

    def _followed(self, request: httpx.Request) -> httpx.Response:
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
        raise httpx.TooManyRedirects(
            f"more than {MAX_REDIRECTS} redirects from {request.url.copy_with(query=None)}",
            request=request,
        )


def _redirected(request: httpx.Request, response: httpx.Response) -> httpx.Request:
    status, method = response.status_code, request.method
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    url = _location(request, response.headers["Location"])
    headers = httpx.Headers(request.headers)
    if _origin(url) != _origin(request.url):
        if not _upgrade(request.url, url):
            headers.pop("Authorization", None)
        headers["Host"] = url.netloc.decode("ascii")
    stream = request.stream
    if method != request.method:
        headers.pop("Content-Length", None)
        headers.pop("Transfer-Encoding", None)
        stream = httpx.ByteStream(b"")
    return httpx.Request(method, url, headers=headers, stream=stream, extensions=request.extensions)


def _location(request: httpx.Request, location: str) -> httpx.URL:
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(
            f"redirect to an invalid URL: {exc}", request=request
        ) from None
    if url.scheme and not url.raw_host:
        url = url.copy_with(host=request.url.raw_host.decode("ascii"))
    return request.url.join(url) if url.is_relative_url else url


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    """Scheme, host as sent (never decoded: a punycode name IDNA 2008 refuses stays bytes), port."""
    return url.scheme, url.raw_host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _upgrade(url: httpx.URL, location: httpx.URL) -> bool:
    """``location`` is ``url``'s host over HTTPS on the default ports: the token may follow."""
    return _origin(url) == ("http", location.raw_host, 80) and _origin(location) == (
        "https",
        url.raw_host,
        443,
    )
