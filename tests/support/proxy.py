"""A tiny HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels (for https) and forwarded plain
requests (``GET http://host/...``), to loopback targets only, recording what passed through.

``ForwardProxy`` is a context manager; leaving closes the listener and every open connection.
With ``credentials`` it demands them (``Proxy-Authorization: Basic``) and answers 407 without.
With ``tls`` (a certificate for 127.0.0.1) it is an ``https://`` proxy: clients speak TLS to it,
and a registry's TLS inside that.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tagmgr.oci.reference import is_loopback
from tests.support.trust import TlsFiles

_HEAD_LIMIT = 64 * 1024
_IDLE_SECONDS = 10.0  # a pipe that carries nothing this long is closed: tests never wait on one


@dataclass
class ForwardProxy:
    credentials: tuple[str, str] | None = None
    hosts: dict[str, str] = field(default_factory=dict)
    """Names the proxy resolves itself, as an /etc/hosts would: ``{"xn--n3h.com": "127.0.0.1"}``."""
    seen: list[str] = field(default_factory=list)
    """Each request line that passed: ``CONNECT host:port`` or ``GET http://host/path``."""
    refused: list[str] = field(default_factory=list)
    port: int = 0
    tls: TlsFiles | None = None

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def url(self, username: str | None = None, password: str | None = None) -> str:
        userinfo = f"{username}:{password}@" if username is not None else ""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}"

    def __enter__(self) -> ForwardProxy:
        self._start(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        # shutdown, not only close: it wakes the threads blocked in accept() and recv().
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                _shut(sock)
                sock.close()
        for thread in self._threads:
            thread.join(_IDLE_SECONDS)

    def _start(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        sock.settimeout(_IDLE_SECONDS)
        return sock

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._start(self._serve, self._track(client))

    def _serve(self, client: socket.socket) -> None:
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.cert_path, self.tls.key_path)
            try:
                client = self._track(context.wrap_socket(client, server_side=True))
            except OSError:
                client.close()
                return
        with client:
            head = _read_head(client)
            if head is None:
                return
            request_line, *headers = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            host = target if method == "CONNECT" else urlsplit(target).netloc
            name, _, port = host.rpartition(":")
            host = f"{self.hosts.get(name, name)}:{port}"
            if not self._authorized(headers) or not is_loopback(host):
                self.refused.append(request_line)
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
                client.sendall(
                    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                )
                return
            self.seen.append(f"{method} {target}")
            name, _, port = host.rpartition(":")
            upstream = self._track(socket.create_connection((name.strip("[]"), int(port))))
            with upstream:
                if method == "CONNECT":
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    upstream.sendall(_origin_form(method, target, version, headers))
                self._start(_pipe, upstream, client)
                _pipe(client, upstream)

    def _authorized(self, headers: list[str]) -> bool:
        if self.credentials is None:
            return True
        token = base64.b64encode(":".join(self.credentials).encode()).decode()
        return f"proxy-authorization: basic {token}".lower() in (h.lower() for h in headers)


def _read_head(client: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = client.recv(4096)
        except OSError:
            return None
        if not chunk or len(data) > _HEAD_LIMIT:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if rest:  # a body sent with the head: tests send none before the proxy answers
        return None
    return head


def _origin_form(method: str, target: str, version: str, headers: list[str]) -> bytes:
    """The request as the origin expects it: a path, without the proxy's own headers."""
    parts = urlsplit(target)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    kept = [
        h
        for h in headers
        if not h.lower().startswith(("proxy-authorization:", "proxy-connection:"))
    ]
    return "\r\n".join([f"{method} {path or '/'} {version}", *kept, "", ""]).encode("latin-1")


def _pipe(source: socket.socket, destination: socket.socket) -> None:
    """Copy bytes until either side closes or goes idle; then close both."""
    try:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                destination.sendall(chunk)
    finally:
        _shut(source)
        _shut(destination)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
