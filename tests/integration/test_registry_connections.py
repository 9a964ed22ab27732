"""tagmgr's connections (``connections.PooledTransport``) against real sockets on 127.0.0.1: kept
alive and reused, never reused once the server closed them or their answer was left unread, and
TLS trust for a loopback registry widened to the system's store only when its own CAs fall short.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.connections import PooledTransport
from tagmgr.registry.messages import LocalProtocolError, RemoteProtocolError, Request, Response
from tagmgr.registry.tls import Trust
from tests.support.registry import SecureRegistry
from tests.support.scripted import (
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
)

WAIT = 5.0


class CountingHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, keep-alive: ``/close`` answers then hangs up; ``/drop-next`` answers, then hangs
    up on the next request on its connection without answering; every answer is 64 KiB."""

    protocol_version = "HTTP/1.1"
    connections: ClassVar[list[int]] = []
    closed: ClassVar[threading.Event] = threading.Event()

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(with_body=True)

    def _answer(self, *, with_body: bool) -> None:
        if getattr(self, "drop_next", False):  # read, and hung up on without an answer
            self.close_connection = True
            return
        self.drop_next = self.path == "/drop-next"
        body = b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        if self.path == "/close":
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        self.closed.set()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    CountingHandler.connections.clear()
    CountingHandler.closed.clear()
    running = ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{running.server_address[1]}"
    running.shutdown()
    running.server_close()


@pytest.fixture
def transport() -> Iterator[PooledTransport]:
    pooled = PooledTransport(Trust("127.0.0.1", None, verify=True))
    yield pooled
    pooled.close()


def get(transport: PooledTransport, url: str, *, read: bool = True) -> Response:
    response = transport.handle_request(Request("GET", url))
    if read:
        response.read()
    response.close()
    return response


@pytest.mark.integration
def test_a_connection_is_kept_alive_and_reused(server: str, transport: PooledTransport) -> None:
    for _ in range(5):
        assert get(transport, f"{server}/v2/").status_code == 200
    assert len(CountingHandler.connections) == 1


@pytest.mark.integration
@pytest.mark.parametrize("left", ["closed by the server", "with its answer unread"])
def test_a_connection_left_so_is_not_reused(
    server: str, transport: PooledTransport, left: str
) -> None:
    if left == "closed by the server":
        get(transport, f"{server}/close")
        assert CountingHandler.closed.wait(WAIT)
    else:
        get(transport, f"{server}/v2/", read=False)
    assert get(transport, f"{server}/v2/").content == b"x" * 65536
    assert len(CountingHandler.connections) == 2


@pytest.mark.integration
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_the_server_drops_on_a_kept_alive_connection_goes_again_on_a_new_one(
    server: str, transport: PooledTransport, method: str
) -> None:
    get(transport, f"{server}/drop-next")  # the next request on this connection is dropped
    answer = transport.handle_request(Request(method, f"{server}/v2/"))
    answer.read()
    assert (answer.status_code, len(CountingHandler.connections)) == (200, 2)


@pytest.mark.integration
def test_a_write_the_server_drops_is_not_sent_again(
    server: str, transport: PooledTransport
) -> None:
    """It may have run before the server hung up: whether to send it again is the caller's."""
    get(transport, f"{server}/drop-next")
    with pytest.raises(RemoteProtocolError, match="disconnected"):
        transport.handle_request(Request("PUT", f"{server}/v2/", content=b"{}"))
    assert len(CountingHandler.connections) == 1


@pytest.mark.integration
@pytest.mark.parametrize("port", ["", "server's"])
def test_a_url_neither_http_nor_https_is_not_sent(
    server: str, transport: PooledTransport, port: str
) -> None:
    """A redirect or a token realm may name any scheme; HTTP is spoken only where it was asked
    for (it was a KeyError without a port, and HTTP to the port given with one)."""
    netloc = server.removeprefix("http://") if port else "127.0.0.1"
    with pytest.raises(LocalProtocolError, match=f"not an http or https URL: ftp://{netloc}/x$"):
        transport.handle_request(Request("GET", f"ftp://{netloc}/x?signature=s"))
    assert CountingHandler.connections == []


def test_a_loopback_registry_is_first_tried_without_the_system_store() -> None:
    loopback = Trust("127.0.0.1:5000", None, verify=True)
    narrow = loopback.context()
    assert narrow.cert_store_stats()["x509_ca"] == 0
    assert loopback.widen(narrow) is True
    wide = loopback.context()
    assert wide.cert_store_stats()["x509_ca"] > 0
    assert loopback.widen(narrow) is True  # another connection widened it meanwhile: try again
    assert loopback.widen(wide) is False
    remote = Trust("registry.example", None, verify=True)
    assert remote.context().cert_store_stats()["x509_ca"] > 0


@pytest.mark.integration
def test_a_loopback_registry_the_system_store_trusts_is_reached(
    secure_registry: SecureRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its certs.d holds no CA (there is none): the first handshake fails, the second, with the
    system's store (here, the test CA as SSL_CERT_FILE), succeeds."""
    monkeypatch.setenv("SSL_CERT_FILE", str(secure_registry.ca_path))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    client = RegistryClient(secure_registry.address, RegistryOptions(), sleep=lambda _: None)
    try:
        assert client.connection().tls_verify is True
    finally:
        client.close()
