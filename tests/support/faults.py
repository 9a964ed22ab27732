"""A fault-injecting HTTP proxy in front of a real registry, on 127.0.0.1.

Every ``every``-th request from a client whose User-Agent begins with ``agent`` (counted from 1)
is answered 500 with a distribution error body instead of being passed on, as docker-registry
answers a transient storage race; the rest go to the registry unchanged (the ``Host`` header too,
so the upload locations it builds point back at the proxy). ``delay`` seconds are waited before
each request is passed on.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
FAULT_BODY = json.dumps(
    {"errors": [{"code": "UNKNOWN", "message": "injected fault", "detail": None}]}
).encode()


class FaultProxy:
    """``with FaultProxy(upstream, every=10) as proxy``: ``proxy.address`` while it runs."""

    def __init__(
        self, upstream: str, *, every: int = 0, agent: str = "", delay: float = 0.0
    ) -> None:
        self.upstream = upstream
        self.every = every
        self.agent = agent
        self.delay = delay
        self.requests = 0
        self.faults = 0
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def faulted(self, agent: str) -> bool:
        """Count one request from ``agent``; True if it is to be answered 500."""
        if not agent.startswith(self.agent):
            return False
        with self._lock:
            self.requests = next(self._count)
            fault = bool(self.every) and self.requests % self.every == 0
            self.faults += fault
            return fault


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (skopeo between retries) is no news


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: a test reads its own output

        def _forward(self) -> None:
            body = self._body()
            if proxy.faulted(self.headers.get("User-Agent", "")):
                self._answer(500, [("Content-Type", "application/json")], FAULT_BODY)
                return
            time.sleep(proxy.delay)
            upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
            try:
                upstream.putrequest(self.command, self.path, skip_host=True)
                for key, value in self.headers.items():  # repeated keys (Accept) kept apart
                    if key.lower() not in _HOP_BY_HOP:
                        upstream.putheader(key, value)
                if body is not None:
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body)
                response = upstream.getresponse()
                content = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self._answer(response.status, kept, content, length)
            finally:
                upstream.close()

        def _body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        def _answer(
            self,
            status: int,
            headers: list[tuple[str, str]],
            content: bytes,
            length: str | None = None,
        ) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", length or str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

    return Handler
