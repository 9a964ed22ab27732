"""HTTP/1.1 messages as ``wire`` reads and writes them: bodies framed as RFC 9112 says, the
connection kept only when the next answer can be told from this one, and anything malformed
refused, in both directions."""

from __future__ import annotations

import io

import pytest

from tagmgr.registry.wire import (
    MAX_FIELDS,
    MAX_LINE,
    Body,
    ProtocolError,
    read_head,
    request_head,
)


def buffered(raw: bytes) -> io.BufferedReader:
    """``raw`` as a connection's reader gives it."""
    return io.BufferedReader(io.BytesIO(raw))


def answer(raw: bytes, method: str = "GET") -> tuple[bytes, bool, bytes]:
    """The body read, whether the connection may be reused, and what is left after it."""
    reader = buffered(raw)
    head = read_head(reader)
    body = Body(reader, head, method)
    content = b"".join(body.chunks(4))
    assert body.whole
    return content, body.reusable, reader.read()


def test_a_length_frames_the_body_and_the_connection_goes_on() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" + b"HTTP/1.1 200 OK\r\n"
    assert answer(raw) == (b"hello", True, b"HTTP/1.1 200 OK\r\n")


def test_chunks_are_decoded_with_their_extensions_and_trailers() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nnext"
    )
    assert answer(raw) == (b"hello world", True, b"next")


@pytest.mark.parametrize(
    ("raw", "method"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 527\r\n\r\n", "HEAD"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", "DELETE"),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 527\r\n\r\n", "GET"),
    ],
)
def test_a_head_204_and_304_have_no_body(raw: bytes, method: str) -> None:
    assert answer(raw + b"next", method) == (b"", True, b"next")


def test_a_body_without_length_ends_with_the_connection() -> None:
    assert answer(b"HTTP/1.1 200 OK\r\n\r\nuntil the end") == (b"until the end", False, b"")


def test_informational_answers_are_passed_over() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
    raw += b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    reader = buffered(raw)
    assert read_head(reader).status == 201


@pytest.mark.parametrize(
    ("version", "connection", "reusable"),
    [
        (b"1.1", b"", True),
        (b"1.1", b"Connection: close\r\n", False),
        (b"1.1", b"Connection: Keep-Alive, Close\r\n", False),
        (b"1.0", b"", False),
        (b"1.0", b"Connection: keep-alive\r\n", True),
    ],
)
@pytest.mark.parametrize(
    "framing", [b"Content-Length: 0\r\n\r\n", b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]
)
def test_the_connection_is_kept_as_the_answer_says(
    version: bytes, connection: bytes, reusable: bool, framing: bytes
) -> None:
    raw = b"HTTP/" + version + b" 200 OK\r\n" + connection + framing
    assert answer(raw)[1] is reusable


def test_a_chunked_body_that_also_has_a_length_is_read_chunked_on_a_connection_not_kept() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert answer(raw + b"2\r\nok\r\n0\r\n\r\n") == (b"ok", False, b"")


def test_fields_keep_their_case_and_lose_surrounding_blanks() -> None:
    raw = b"HTTP/1.1 200 OK\r\nDocker-Content-Digest:  sha256:1 \t\r\nX-Empty:\r\n\r\n"
    head = read_head(buffered(raw))
    assert head.fields == [(b"Docker-Content-Digest", b"sha256:1"), (b"X-Empty", b"")]
    assert (head.status, head.reason) == (200, b"OK")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "Server disconnected without sending a response."),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.1 status line: b'SSH-2.0-OpenSSH'"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.1 status line"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "not a header field: b'no colon'"),
        (b"HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "not a header field"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * MAX_LINE + b"\r\n\r\n", "a line longer than 65536"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_FIELDS + 1) + b"\r\n", "more than 100"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 Switching Protocols, which"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 9, "more than 8 informational answers"),
    ],
)
def test_a_malformed_head_is_a_protocol_error(raw: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        read_head(buffered(raw))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "Content-Length b'5,6'"),
        (b"Content-Length: -1\r\n\r\n", "Content-Length b'-1'"),
        (b"Content-Length: 10\r\n\r\nshort", "closed the answer with 5 bytes unsent"),
        (b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size: b'zz'"),
        (b"Transfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n0\r\n\r\n", "not ended by a line"),
        (b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel", "closed the answer with 2 bytes"),
        (b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "only chunked is read"),
        (b"Content-Length:\r\n\r\nhello", "Content-Length b''"),
    ],
)
def test_a_malformed_body_is_a_protocol_error(raw: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        answer(b"HTTP/1.1 200 OK\r\n" + raw)


def test_a_request_is_its_line_and_fields() -> None:
    head = request_head("GET", "/v2/", [(b"Host", b"r.example"), (b"Accept", b"a, b")])
    assert head == b"GET /v2/ HTTP/1.1\r\nHost: r.example\r\nAccept: a, b\r\n\r\n"


@pytest.mark.parametrize(
    ("name", "value"),
    [(b"Authorization", b"Bearer x\r\nX-Injected: 1"), (b"Bad Name", b"v"), (b"X", b"nul\x00")],
)
def test_a_field_that_would_break_the_request_is_refused(name: bytes, value: bytes) -> None:
    with pytest.raises(ProtocolError, match="refusing to send the header field"):
        request_head("GET", "/", [(name, value)])
