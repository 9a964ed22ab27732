"""Keep-alive HTTP/1.1 connections: the transport at the bottom of every registry request.

httpx's own transport (httpcore over h11) cost more CPU per request than the rest of tagmgr's
client together, and a registry run is a thousand small requests (`make bench` gives the CPU per
request). This transport speaks HTTP/1.1 itself (``wire``): one pool of idle connections per
origin, each taken by one request at a time and put back once its answer was read to the end.

A request through a proxy goes to the proxy: in absolute form for plain HTTP, through a
``CONNECT`` tunnel for HTTPS. Failures are raised as ``messages``' exceptions, each from the
``OSError`` or ``ssl`` error behind it, which ``failures`` reads.
"""

from __future__ import annotations

import base64
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from urllib.parse import unquote

from tagmgr.registry.failures import causes
from tagmgr.registry.messages import (
    DEFAULT_PORTS,
    URL,
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    Response,
    TransportError,
    WriteError,
    WriteTimeout,
)
from tagmgr.registry.tls import Trust
from tagmgr.registry.wire import Body, Disconnected, ProtocolError, read_head, request_head

_REPLAYABLE = frozenset({"GET", "HEAD"})
KEEPALIVE_SECONDS = 5.0  # an idle connection older than this is closed, not reused
CHUNK = 64 * 1024

Origin = tuple[str, str, int]  # scheme, host as sent (ASCII, IPv6 without brackets), port


class _Connection:
    """One open connection to an origin, direct, through a proxy, or tunnelled through one."""

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        self.origin = origin
        self.sock = sock
        self.reader = sock.makefile("rb")

    def alive(self) -> bool:
        """False if the peer closed it, or sent something unasked, while it sat idle."""
        poll = select.poll()
        poll.register(self.sock, select.POLLIN)
        return not poll.poll(0)

    def holds_more(self) -> bool:
        """Whether bytes came past the answer just read (a HEAD answered with a body, a body
        longer than its length): read by the next request, they would be taken for its answer.
        The socket is made non-blocking for the look, so that it never waits."""
        self.timeout(0.0)
        try:
            return bool(self.reader.peek(1))
        except (OSError, ValueError):  # TLS wanting more, or a socket gone: nothing held
            return False

    def timeout(self, seconds: float | None) -> None:
        """The socket's timeout, set only when it changes (each setting is a system call)."""
        if self.sock.gettimeout() != seconds:
            self.sock.settimeout(seconds)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class PooledTransport:
    """Requests over pooled connections; thread-safe.

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
        self._proxy = URL.parse(proxy) if proxy is not None else None
        self._proxy_fields = _proxy_fields(self._proxy)
        self._clock = clock
        self._idle: dict[Origin, list[tuple[_Connection, float]]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: Request) -> Response:
        """The answer's head, its body left to read. A GET or HEAD on a kept-alive connection
        the server closed meanwhile (before answering a byte) goes again on a new one, as Go's
        client (and so skopeo) sends it again: the server dropped it, it never ran."""
        message = self._message(request)
        origin = _origin(request)
        idle = self._idle_connection(origin)
        if idle is not None:
            try:
                return self._exchange(idle, request, message)
            except (WriteError, ReadError, RemoteProtocolError) as error:
                if request.method not in _REPLAYABLE or not _closed_before_answering(error):
                    raise
        with _CONNECTING:
            sock = self._open(origin, request.timeout)
        return self._exchange(_Connection(origin, sock), request, message)

    def _exchange(self, connection: _Connection, request: Request, message: bytes) -> Response:
        try:
            with _WRITING:
                connection.timeout(request.timeout)
                connection.sock.sendall(message)
            with _READING:
                head = read_head(connection.reader)
                body = Body(connection.reader, head, request.method)
        except BaseException:
            connection.close()
            raise
        return Response(
            head.status,
            headers=head.fields,
            stream=_Answer(body, connection, self._put_back),
            reason=head.reason.decode("latin-1"),
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection, _ in connections:
                connection.close()

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        """An idle connection to ``origin`` still open, if there is one."""
        oldest = self._clock() - KEEPALIVE_SECONDS
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    return None
                connection, since = idle.pop()
            if since >= oldest and connection.alive():
                return connection
            connection.close()

    def _open(self, origin: Origin, timeout: float | None) -> socket.socket:
        """A socket to ``origin``, its TLS verified as ``trust`` says; a certificate a narrow
        trust did not verify gets another try with the wide one (see ``tls.Trust``)."""
        while True:
            context = self._trust.context() if origin[0] == "https" else None
            try:
                return self._connect(origin, context, timeout)
            except ssl.SSLCertVerificationError:
                if context is None or not self._trust.widen(context):
                    raise

    def _connect(
        self, origin: Origin, context: ssl.SSLContext | None, timeout: float | None
    ) -> socket.socket:
        _, host, port = origin
        proxy = self._proxy
        address = (host, port) if proxy is None else (proxy.host, proxy.port or 80)
        sock = socket.create_connection(address, timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if proxy is not None and context is not None:
                _open_tunnel(sock, host, port, self._proxy_fields)
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return sock

    def _message(self, request: Request) -> bytes:
        """The request as sent, checked before a connection is taken. Plain HTTP through a
        proxy goes to the proxy, in absolute form."""
        url = request.url
        target = url.target
        try:
            fields = [(n.encode("ascii"), v.encode("latin-1")) for n, v in request.headers.items()]
            if self._forwarded(url.scheme):
                target = str(url)
                fields += self._proxy_fields
            return request_head(request.method, target, fields) + request.content
        except (ProtocolError, UnicodeEncodeError) as error:
            raise LocalProtocolError(str(error), request=request) from error

    def _forwarded(self, scheme: str) -> bool:
        return self._proxy is not None and scheme == "http"

    def _put_back(self, connection: _Connection) -> None:
        with self._lock:
            self._idle.setdefault(connection.origin, []).append((connection, self._clock()))


def _origin(request: Request) -> Origin:
    """Where ``request`` goes. A redirect or a token realm may name another scheme (``ftp://``):
    such a request is not sent, HTTP being spoken only where it was asked for."""
    scheme, host, port = request.url.origin
    if scheme not in DEFAULT_PORTS or port is None:
        shown = request.url.without_query()
        raise LocalProtocolError(f"not an http or https URL: {shown}", request=request)
    return scheme, host, port


def _closed_before_answering(error: BaseException) -> bool:
    return any(
        isinstance(cause, Disconnected | ConnectionResetError | BrokenPipeError)
        for cause in causes(error)
    )


def _open_tunnel(
    sock: socket.socket, host: str, port: int, fields: list[tuple[bytes, bytes]]
) -> None:
    """Ask the proxy on ``sock`` for a tunnel to ``host:port``; ProxyError if it refuses."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock.sendall(request_head("CONNECT", target, [(b"Host", target.encode("ascii")), *fields]))
    with sock.makefile("rb", buffering=0) as reader:  # unbuffered: TLS bytes follow the answer
        head = read_head(reader)
    if head.status != 200:
        raise ProxyError(f"{head.status} {head.reason.decode('latin-1')}".strip())


def _proxy_fields(proxy: URL | None) -> list[tuple[bytes, bytes]]:
    """``Proxy-Authorization`` from the proxy URL's user name and password, if it has them."""
    if proxy is None or not proxy.userinfo:
        return []
    pair = unquote(proxy.userinfo).encode()
    return [(b"Proxy-Authorization", b"Basic " + base64.b64encode(pair))]


class _Answer:
    """An answer's body; its connection goes back to the pool once the body was read whole."""

    def __init__(
        self, body: Body, connection: _Connection, put_back: Callable[[_Connection], None]
    ) -> None:
        self._body = body
        self._connection: _Connection | None = connection
        self._put_back = put_back

    def __iter__(self) -> Iterator[bytes]:
        with _READING:
            yield from self._body.chunks(CHUNK)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._body.whole and self._body.reusable and not connection.holds_more():
            self._put_back(connection)
        else:
            connection.close()


class _Mapped:
    """``OSError`` and malformed answers raised as ``messages``' errors, from the original.

    A class rather than a ``contextmanager``: it wraps each request three times, and a
    generator's set-up and tear-down cost more than its checks.
    """

    def __init__(self, timeout: type[TransportError], failure: type[TransportError]) -> None:
        self._timeout = timeout
        self._failure = failure

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: TracebackType | None
    ) -> None:
        if isinstance(exc, TimeoutError):
            raise self._timeout(str(exc) or "timed out") from exc
        if isinstance(exc, ProtocolError):
            raise RemoteProtocolError(str(exc)) from exc
        if isinstance(exc, OSError):
            raise self._failure(str(exc)) from exc


_CONNECTING = _Mapped(ConnectTimeout, ConnectError)
_WRITING = _Mapped(WriteTimeout, WriteError)
_READING = _Mapped(ReadTimeout, ReadError)
