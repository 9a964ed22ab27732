"""A fault-injecting HTTP proxy in front of a real registry, on 127.0.0.1.

Every ``every``-th request from a client whose User-Agent begins with ``agent`` (counted from 1)
is answered 500 with a distribution error body instead of being passed on, as docker-registry
answers a transient storage race; the rest go to the registry unchanged (the ``Host`` header too,
so the upload locations it builds point back at the proxy). ``delay`` seconds are waited before
each request is passed on.

A ``rule(method, path_and_query)`` may instead name a ``Fault`` for each request (see ``first``):
drop the connection unanswered, answer a status (429 with ``Retry-After``, 500), pass it on late,
alter one byte of the answer, or pass a blob mount on as a plain upload (a registry that will not
mount). Each fault is bounded by its ``times``, so a test's faults stop by themselves. While the
registry is down, the proxy drops every connection, as the registry would refuse it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
FAULT_BODY = json.dumps(
    {"errors": [{"code": "UNKNOWN", "message": "injected fault", "detail": None}]}
).encode()


@dataclass
class Fault:
    """What to do to a request: ``kind`` is drop, status, delay, alter or no-mount."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    times: int = 1
    used: int = 0


Rule = Callable[[str, str], Fault | None]


def first(n: int, kind: str, *, when: Callable[[str, str], bool], **how: object) -> Rule:
    """A rule: ``kind`` for the first ``n`` requests ``when`` accepts, then none."""
    fault = Fault(kind, times=n, **how)  # type: ignore[arg-type]

    def rule(method: str, target: str) -> Fault | None:
        return fault if when(method, target) else None

    return rule


class FaultProxy:
    """``with FaultProxy(upstream, every=10) as proxy``: ``proxy.address`` while it runs.

    ``seen`` lists every request (``METHOD path``); ``applied`` every fault a rule named.
    """

    def __init__(
        self,
        upstream: str,
        *,
        every: int = 0,
        agent: str = "",
        delay: float = 0.0,
        rule: Rule | None = None,
    ) -> None:
        self.upstream = upstream
        self.every = every
        self.agent = agent
        self.delay = delay
        self.rule = rule
        self.requests = 0
        self.faults = 0
        self.seen: list[str] = []
        self.applied: list[str] = []
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

    def ruled(self, method: str, target: str) -> Fault | None:
        """Record one request; the fault the rule names for it, while that fault lasts."""
        with self._lock:
            self.seen.append(f"{method} {target}")
            fault = self.rule(method, target) if self.rule else None
            if fault is None or fault.used >= fault.times:
                return None
            fault.used += 1
            self.applied.append(f"{fault.kind} {method} {target}")
            return fault


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (skopeo between retries) is no news


def _without_mount(target: str) -> str:
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"mount", "from"}]
    return parts._replace(query=urlencode(query)).geturl()


def _altered(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: a test reads its own output

        def _forward(self) -> None:
            body = self._body()
            fault = proxy.ruled(self.command, self.path)
            if proxy.faulted(self.headers.get("User-Agent", "")):
                fault = Fault("status")
            kind = fault.kind if fault else ""
            if fault is not None and kind == "status":
                headers = [("Content-Type", "application/json"), *fault.headers.items()]
                self._answer(fault.status, headers, FAULT_BODY)
                return
            if kind == "drop":
                self._hang_up()
                return
            time.sleep(fault.seconds if fault and kind == "delay" else proxy.delay)
            target = _without_mount(self.path) if kind == "no-mount" else self.path
            upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
            try:
                upstream.putrequest(self.command, target, skip_host=True)
                for key, value in self.headers.items():  # repeated keys (Accept) kept apart
                    if key.lower() not in _HOP_BY_HOP:
                        upstream.putheader(key, value)
                if body is not None:
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body)
                response = upstream.getresponse()
                content = response.read()
            except OSError:  # the registry is down: so is the proxy, to its client
                self._hang_up()
                return
            finally:
                upstream.close()
            if kind == "alter" and content:
                content = _altered(content)
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self._answer(response.status, kept, content, length)

        def _hang_up(self) -> None:
            self.close_connection = True
            self.connection.close()

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
