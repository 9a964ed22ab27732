"""Keep-alive HTTP/1.1 connections on ``http.client``, behind httpx's transport interface.

httpx's own transport (httpcore over h11) cost about 0.45 ms of CPU per request here, where
``http.client`` on the same keep-alive socket costs 0.2 ms, and a registry run is a thousand small
requests (see docs/design.md, make bench). This transport keeps httpx's ``Request`` and
``Response`` (and so the auth flow, the retries and every test's ``MockTransport``) and speaks
HTTP/1.1 with ``http.client``: one pool of idle connections per origin, each taken by one request
at a time and put back once its answer was read to the end.

A request through a proxy goes to the proxy: in absolute form for plain HTTP, through a
``CONNECT`` tunnel for HTTPS. Failures are raised as httpx's exceptions, each from the
``OSError`` or ``ssl`` error behind it, which ``failures`` reads.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote

import httpx

from tagmgr.registry.tls import Trust

KEEPALIVE_SECONDS = 5.0  # an idle connection older than this is closed, not reused
CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host as sent (ASCII, IPv6 without brackets), port


class _Connection(http.client.HTTPConnection):
    """One connection to an origin, direct or through a proxy, TLS when the origin is https."""

    def __init__(
        self, origin: Origin, trust: Trust, proxy: httpx.URL | None, timeout: float | None
    ) -> None:
        self.origin = origin
        self._trust = trust
        self._proxy = proxy
        super().__init__(origin[1], origin[2], timeout=timeout)

    @property
    def tunnelled(self) -> bool:
        return self._proxy is not None and self.origin[0] == "https"

    def connect(self) -> None:
        while True:
            context = self._trust.context() if self.origin[0] == "https" else None
            try:
                self.sock = self._open(context)
                return
            except ssl.SSLCertVerificationError:
                if context is None or not self._trust.widen(context):
                    raise

    def _open(self, context: ssl.SSLContext | None) -> socket.socket:
        _, host, port = self.origin
        address = (host, port)
        if self._proxy is not None:
            address = (self._proxy.raw_host.decode("ascii"), self._proxy.port or 80)
        sock = socket.create_connection(address, self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tunnelled:
                _open_tunnel(sock, host, port, _proxy_headers(self._proxy))
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return sock

    def alive(self) -> bool:
        """False if the peer closed it, or sent something unasked, while it sat idle."""
        if self.sock is None:
            return False
        poll = select.poll()
        poll.register(self.sock, select.POLLIN)
        return not poll.poll(0)


def _open_tunnel(sock: socket.socket, host: str, port: int, headers: dict[str, str]) -> None:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    answer = http.client.HTTPResponse(sock, method="CONNECT")
    answer.begin()
    if answer.status != 200:
        raise httpx.ProxyError(f"{answer.status} {answer.reason}".strip())


def _proxy_headers(proxy: httpx.URL | None) -> dict[str, str]:
    """``Proxy-Authorization`` from the proxy URL's user name and password, if it has them."""
    if proxy is None or not proxy.userinfo:
        return {}
    pair = unquote(proxy.userinfo.decode("ascii")).encode()
    return {"Proxy-Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}


class PooledTransport(httpx.BaseTransport):
    """Requests over pooled ``http.client`` connections; thread-safe.

    ``trust`` gives the TLS context of https origins; ``proxy`` (``http://[user:pass@]host:port``)
    carries every request when given.
    """

    def __init__(
        self,
        trust: Trust,
        proxy: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._trust = trust
        self._proxy = httpx.URL(proxy) if proxy is not None else None
        self._clock = clock
        self._idle: dict[Origin, list[tuple[_Connection, float]]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        connection = self._connection(request.url, timeouts.get("connect"))
        try:
            answer = self._exchange(connection, request, timeouts)
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            answer.status,
            headers=[
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in answer.getheaders()
            ],
            stream=_Answer(answer, connection, self._put_back),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": answer.reason.encode("latin-1"),
            },
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection, _ in connections:
                connection.close()

    def _connection(self, url: httpx.URL, timeout: float | None) -> _Connection:
        """An idle connection to ``url``'s origin still open, else a new one, connected."""
        scheme = url.scheme
        origin = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[scheme])
        oldest = self._clock() - KEEPALIVE_SECONDS
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    break
                connection, since = idle.pop()
            if since >= oldest and connection.alive():
                return connection
            connection.close()
        connection = _Connection(origin, self._trust, self._proxy, timeout)
        with _mapped(httpx.ConnectTimeout, httpx.ConnectError):
            connection.connect()
        return connection

    def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> http.client.HTTPResponse:
        url = request.url
        forwarded = self._proxy is not None and not connection.tunnelled
        target = str(url) if forwarded else url.raw_path.decode("ascii")
        headers = list(request.headers.raw)
        if forwarded:
            headers += [(k.encode(), v.encode()) for k, v in _proxy_headers(self._proxy).items()]
        body = request.read()
        with _mapped(httpx.WriteTimeout, httpx.WriteError):
            connection.sock.settimeout(timeouts.get("write"))
            connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
        with _mapped(httpx.ReadTimeout, httpx.ReadError):
            connection.sock.settimeout(timeouts.get("read"))
            return connection.getresponse()

    def _put_back(self, connection: _Connection) -> None:
        with self._lock:
            self._idle.setdefault(connection.origin, []).append((connection, self._clock()))


class _Answer(httpx.SyncByteStream):
    """An answer's body, read in chunks; its connection goes back to the pool once read whole."""

    def __init__(
        self,
        answer: http.client.HTTPResponse,
        connection: _Connection,
        put_back: Callable[[_Connection], None],
    ) -> None:
        self._answer = answer
        self._connection: _Connection | None = connection
        self._put_back = put_back
        self._whole = False

    def __iter__(self) -> Iterator[bytes]:
        with _mapped(httpx.ReadTimeout, httpx.ReadError):
            while chunk := self._answer.read(CHUNK):
                yield chunk
        self._whole = True

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._whole and not self._answer.will_close:
            self._put_back(connection)
        else:
            self._answer.close()
            connection.close()


@contextmanager
def _mapped(
    timeout: type[httpx.TransportError], failure: type[httpx.TransportError]
) -> Iterator[None]:
    """``OSError`` and ``http.client``'s errors raised as httpx's, from the original."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout(str(exc) or "timed out") from exc
    except (http.client.RemoteDisconnected, http.client.HTTPException) as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
    except OSError as exc:
        raise failure(str(exc)) from exc
