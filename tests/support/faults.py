"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a test registry.

``rule(method, path_and_query)`` is asked about every request and returns a ``Fault`` or None
(pass it through). The client's ``Host`` header is passed on, so the URLs the registry builds
(an upload's ``Location``) lead back through the proxy. Each fault is bounded by ``times``: a
test's faults stop by themselves.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TypedDict, Unpack
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from tests.support.serve import serving

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"}


@dataclass
class Fault:
    """What to do to a request: ``kind`` is drop, status, delay, alter, no-mount or lost (passed
    on, but the connection is closed before the answer goes back)."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    times: int = 1
    used: int = 0


Rule = Callable[[str, str], Fault | None]


class How(TypedDict, total=False):
    """A fault's details, as a rule's keyword arguments."""

    status: int
    headers: dict[str, str]
    seconds: float


@dataclass
class FaultProxy:
    address: str
    seen: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    puts: list[tuple[str, str]] = field(default_factory=list)
    """PUTs passed on to the registry, in the order they came: (path, sha256 of the body)."""


@contextmanager
def fault_proxy(upstream: str, rule: Rule) -> Iterator[FaultProxy]:
    """A proxy to ``upstream`` ("127.0.0.1:PORT", plain HTTP) applying ``rule``."""
    with (
        httpx.Client(base_url=f"http://{upstream}", timeout=30.0, trust_env=False) as client,
        serving(_Handler) as server,
    ):
        state = FaultProxy(f"127.0.0.1:{server.server_port}")
        server.proxy = (client, rule, state, threading.Lock())  # type: ignore[attr-defined]
        yield state


def every(n: int, kind: str, **how: Unpack[How]) -> Rule:
    """A rule: ``kind`` for every ``n``-th request, counted from 1 (bounded by the test's own
    requests)."""
    counter = itertools.count(1)

    def rule(method: str, target: str) -> Fault | None:
        return Fault(kind, **how) if next(counter) % n == 0 else None

    return rule


def first(n: int, kind: str, *, when: Callable[[str, str], bool], **how: Unpack[How]) -> Rule:
    """A rule: ``kind`` for the first ``n`` requests ``when`` accepts, then none."""
    fault = Fault(kind, times=n, **how)

    def rule(method: str, target: str) -> Fault | None:
        return fault if when(method, target) else None

    return rule


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm each answer on a kept-
    # alive connection waits out the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        client, rule, state, lock = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            state.seen.append(f"{self.command} {self.path}")
            fault = rule(self.command, self.path)
            if fault is not None and fault.used < fault.times:
                fault.used += 1
                state.faults.append(f"{fault.kind} {self.command} {self.path}")
            else:
                fault = None
            if self.command == "PUT" and (fault is None or fault.kind not in {"drop", "status"}):
                state.puts.append((self.path, "sha256:" + hashlib.sha256(body).hexdigest()))
        target = self.path
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if fault is not None and fault.kind == "status":
            self._write(fault.status, fault.headers, b"")
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "no-mount":
            parts = urlsplit(target)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {"mount", "from"}]
            target = parts._replace(query=urlencode(query)).geturl()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            answer = client.request(self.command, target, headers=headers, content=body)
        except (httpx.TransportError, RuntimeError):  # the registry or the proxy is down (a
            answer = None  # delayed request may outlive the test): so is the proxy, to its client
        if answer is None or (fault is not None and fault.kind == "lost"):
            self.close_connection = True
            self.connection.close()
            return
        content = answer.content
        if fault is not None and fault.kind == "alter" and content:
            middle = len(content) // 2
            content = content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]
        length_sent = answer.headers.get("Content-Length", "0") if self.command == "HEAD" else None
        self._write(answer.status_code, dict(answer.headers), content, length_sent)

    def _write(
        self, status: int, headers: dict[str, str], content: bytes, length: str | None = None
    ) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", length or str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass
