"""HTTP/1.1 messages on a connection (RFC 9112), as much of it as a registry client needs.

A request is written in one send: its head, then its body. An answer's head is read line by
line (informational 1xx answers skipped), and its body framed as the RFC says: none for a HEAD
or a 204 or 304, else chunked if the transfer coding says so, else ``Content-Length`` bytes,
else whatever comes until the server closes.

``http.client`` does the same, but parses each head with the ``email`` package, which costs about
ten times this reading, and a registry run reads a thousand small answers. Its limits are kept: a
line of at most ``MAX_LINE`` bytes, at most ``MAX_FIELDS`` header fields. Anything malformed is a
``ProtocolError``; a field that would break the request (a line break in a token a hostile token
service sent, say) is refused before anything is sent.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

MAX_LINE = 65536
MAX_FIELDS = 100
MAX_INFORMATIONAL = 8  # 1xx answers before the final one: a server sends one or two at most
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(rb"[^\x00-\x08\x0a-\x1f\x7f]*")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: (.*))?")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?")
_NO_BODY = frozenset({204, 304})

Fields = list[tuple[bytes, bytes]]


class LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class ProtocolError(Exception):
    """An answer that is not HTTP/1.1, or a request field that cannot be sent as one."""


class Disconnected(ProtocolError):
    """The server closed the connection before the first byte of an answer."""


def request_head(method: str, target: str, fields: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The request line and header fields, each checked, ending with the empty line."""
    lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
    for name, value in fields:
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ProtocolError(f"refusing to send the header field {name[:40]!r}: not a field")
        lines.append(name + b": " + value)
    lines += [b"", b""]
    return b"\r\n".join(lines)


class Head(NamedTuple):
    status: int
    reason: bytes
    fields: Fields
    keep_alive: bool
    """Whether the connection may carry another request once the body was read."""

    def values(self, name: bytes) -> list[bytes]:
        """Every value of the field ``name`` (lower case), in order."""
        return [value for field, value in self.fields if field.lower() == name]


def read_head(reader: LineReader) -> Head:
    """The next final answer's head; informational (1xx) answers before it are passed over, a
    few of them: a 101 (a protocol switch nothing asked for) is refused."""
    for _ in range(MAX_INFORMATIONAL + 1):
        line = _line(reader)
        if not line:
            raise Disconnected("Server disconnected without sending a response.")
        status = _STATUS.fullmatch(line)
        if status is None:
            raise ProtocolError(f"not an HTTP/1.1 status line: {line[:80]!r}")
        fields = _fields(reader)
        code = int(status.group(2))
        if code == 101:
            raise ProtocolError("101 Switching Protocols, which tagmgr never asks for")
        if 100 <= code < 200:
            continue
        connection = b",".join(v for f, v in fields if f.lower() == b"connection").lower()
        options = {option.strip() for option in connection.split(b",")}
        http10 = status.group(1) == b"0"
        keep_alive = b"close" not in options and (not http10 or b"keep-alive" in options)
        return Head(code, status.group(3) or b"", fields, keep_alive)
    raise ProtocolError(f"more than {MAX_INFORMATIONAL} informational answers before one")


def _line(reader: LineReader) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError(f"a line longer than {MAX_LINE} bytes")
    return line.rstrip(b"\r\n")


def _fields(reader: LineReader) -> Fields:
    fields: Fields = []
    while line := _line(reader):
        if len(fields) == MAX_FIELDS:
            raise ProtocolError(f"more than {MAX_FIELDS} header fields")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise ProtocolError(f"not a header field: {line[:80]!r}")
        fields.append((name, value.strip(b" \t")))
    return fields


class Body:
    """An answer's body on ``reader``: ``chunks`` reads it; ``whole`` once it was read to its
    end; ``reusable`` when the connection may then carry another request."""

    def __init__(self, reader: io.BufferedReader, head: Head, method: str) -> None:
        self._reader = reader
        self.whole = False
        self._left: int | None = None  # bytes left of a Content-Length body
        self._chunked = False
        self.reusable = head.keep_alive
        codings = b",".join(head.values(b"transfer-encoding")).lower()
        lengths = {value.strip() for value in b",".join(head.values(b"content-length")).split(b",")}
        if method == "HEAD" or head.status in _NO_BODY:
            self._left = 0
        elif codings:
            if codings.strip() != b"chunked":  # gzip, say: a coding nothing asked for
                raise ProtocolError(f"Transfer-Encoding {codings[:80]!r}: only chunked is read")
            self._chunked = True
            self.reusable &= not head.values(b"content-length")
        elif head.values(b"content-length"):
            length = b",".join(sorted(lengths))
            if not length.isdigit():  # one value, or several that differ or are not a length
                raise ProtocolError(f"Content-Length {length[:80]!r}")
            self._left = int(length)
        else:
            self.reusable = False  # the body ends when the server closes

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body, at most ``size`` bytes at a time."""
        if self._chunked:
            yield from self._decoded(size)
        elif self._left is None:
            while chunk := self._reader.read1(size):
                yield chunk
        else:
            yield from self._counted(self._left, size)
        self.whole = True

    def _counted(self, length: int, size: int) -> Iterator[bytes]:
        while length:
            chunk = self._reader.read1(min(length, size))
            if not chunk:
                raise ProtocolError(f"the server closed the answer with {length} bytes unsent")
            length -= len(chunk)
            yield chunk

    def _decoded(self, size: int) -> Iterator[bytes]:
        while True:
            line = _line(self._reader)
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise ProtocolError(f"not a chunk size: {line[:80]!r}")
            length = int(match.group(1), 16)
            if not length:
                _fields(self._reader)  # trailer fields, unused
                return
            yield from self._counted(length, size)
            if _line(self._reader):
                raise ProtocolError("a chunk not ended by a line break")
