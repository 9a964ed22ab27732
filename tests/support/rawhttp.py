"""A scripted HTTP/1.1 server on 127.0.0.1 that sends whatever bytes its script gives: for
answers no well-behaved server library would send (a HEAD with a body, bytes past a body's
length). Each connection is served on a thread of its own, one request after another."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Script = Callable[[str, str, dict[str, str]], bytes]
"""(method, target, lower-cased header fields) -> the bytes to send back."""


@contextmanager
def raw_server(script: Script) -> Iterator[tuple[int, list[tuple[str, str, dict[str, str]]]]]:
    """The server's port and the requests it got; stopped when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[tuple[str, str, dict[str, str]]] = []

    def serve(connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reader:
            if reader.peek(1)[:1] == b"\x16":  # a TLS ClientHello (tagmgr tries HTTPS first)
                return  # plain HTTP only: hang up, as a plain-HTTP registry's TLS fails
            while line := reader.readline():
                method, target, _ = line.decode("latin-1").split(" ", 2)
                fields: dict[str, str] = {}
                while (field := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = field.decode("latin-1").partition(":")
                    fields[name.strip().lower()] = value.strip()
                reader.read(int(fields.get("content-length") or 0))
                requests.append((method, target, fields))
                connection.sendall(script(method, target, fields))

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the block ended
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], requests
    finally:
        listener.close()
