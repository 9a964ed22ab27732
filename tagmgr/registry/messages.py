"""HTTP messages as the registry client speaks them: URLs, header fields, requests, answers,
and the failures of getting an answer.

These were httpx's until a registry run showed where its time went: importing httpx took about
a third of tagmgr's start-up, and building its URL, request and response objects about half of
the client's CPU per request, where a plan is a thousand small requests (``make bench``). What
tagmgr needs of them fits here; the HTTP/1.1 itself is ``wire``'s and ``connections``'.

A ``URL`` keeps its host in ASCII as sent (a punycode name is never decoded), lower-cased, and
drops the port its scheme implies; characters a request target may not carry are
percent-encoded (UTF-8), as httpx and browsers encode them. A URL whose host is not ASCII, whose
port is not a port, or with control characters in it, is an ``InvalidURL``.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol, overload
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/%!$&'()*+,;=:@"
_QUERY_SAFE = _PATH_SAFE + "?"
_UNSENDABLE = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=%-]*|\[[0-9A-Fa-f:.]+\]")
_LINK = re.compile(r"\s*<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_LINK_PARAM = re.compile(r';\s*([^=;,\s]+)\s*=\s*"?([^";,]*)"?')


class InvalidURL(ValueError):
    """Text that is not a URL a request can go to."""


class URL:
    """An absolute (``scheme://host``) or relative URL, parts percent-encoded as sent."""

    __slots__ = ("host", "port", "query", "raw_path", "scheme", "userinfo")

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int | None,
        raw_path: str,
        query: str = "",
        *,
        userinfo: str = "",
    ) -> None:
        self.scheme = scheme
        self.userinfo = userinfo
        self.host = host
        """ASCII, lower case; an IPv6 address without its brackets."""
        self.port = None if port == DEFAULT_PORTS.get(scheme) else port
        self.raw_path = raw_path
        """The path, percent-encoded."""
        self.query = query

    @classmethod
    def parse(cls, text: str) -> URL:
        if _UNSENDABLE.search(text):
            raise InvalidURL("a control character in a URL")
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as error:
            raise InvalidURL(str(error)) from None
        userinfo, _, hostport = parts.netloc.rpartition("@")
        host = hostport
        if port is not None or hostport.endswith(":"):
            host = hostport.rpartition(":")[0]
        if not host.isascii() or not _HOST.fullmatch(host):
            raise InvalidURL(f"not a host: {host[:80]!r}")
        path = _encoded(parts.path, _PATH_SAFE)
        if parts.scheme and host and not path:
            path = "/"
        return cls(
            parts.scheme.lower(),
            host.strip("[]").lower(),
            port,
            path,
            _encoded(parts.query, _QUERY_SAFE),
            userinfo=userinfo,
        )

    @property
    def path(self) -> str:
        """The path, decoded."""
        return _decoded(self.raw_path)

    @property
    def target(self) -> str:
        """What a request line names: the path and the query, encoded."""
        return f"{self.raw_path}?{self.query}" if self.query else self.raw_path

    @property
    def netloc(self) -> str:
        """``host[:port]`` as a ``Host`` field carries it (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def effective_port(self) -> int | None:
        """The port a connection goes to: the one written, else the scheme's."""
        return DEFAULT_PORTS.get(self.scheme) if self.port is None else self.port

    @property
    def origin(self) -> tuple[str, str, int | None]:
        """Scheme, host as sent and the port a connection goes to: what one server is."""
        return self.scheme, self.host, self.effective_port

    @property
    def is_absolute(self) -> bool:
        return bool(self.scheme and self.host)

    @property
    def params(self) -> dict[str, str]:
        """The query's parameters, decoded; the first value of each name."""
        found: dict[str, str] = {}
        for name, value in parse_qsl(self.query, keep_blank_values=True):
            found.setdefault(name, value)
        return found

    def join(self, reference: str) -> URL:
        """``reference`` (absolute, or relative to this URL) resolved, as a browser resolves it."""
        return URL.parse(urljoin(str(self), reference))

    def with_target(self, target: str) -> URL:
        """This scheme, host and port with another path (and query): one encoding, no parse."""
        path, _, query = target.partition("?")
        return URL(
            self.scheme,
            self.host,
            self.port,
            _encoded(path, _PATH_SAFE),
            _encoded(query, _QUERY_SAFE),
            userinfo=self.userinfo,
        )

    def with_params(self, params: Mapping[str, str | int | Sequence[str]]) -> URL:
        """The query with ``params`` added (one of each name, a sequence giving several)."""
        kept = [(n, v) for n, v in parse_qsl(self.query, keep_blank_values=True) if n not in params]
        added = urlencode([*kept, *_pairs(params)], quote_via=quote)
        return URL(self.scheme, self.host, self.port, self.raw_path, added, userinfo=self.userinfo)

    def without_query(self) -> URL:
        """This URL as messages show it: a query may carry a signature."""
        return URL(self.scheme, self.host, self.port, self.raw_path, userinfo=self.userinfo)

    def _key(self) -> tuple[str, str, str, int | None, str, str]:
        return (self.scheme, self.userinfo, self.host, self.port, self.raw_path, self.query)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URL) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if not self.scheme:
            return self.target
        userinfo = f"{self.userinfo}@" if self.userinfo else ""
        return f"{self.scheme}://{userinfo}{self.netloc}{self.target}"

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"


def _encoded(text: str, safe: str) -> str:
    return quote(text, safe=safe) if text else text


def _decoded(text: str) -> str:
    return unquote(text) if "%" in text else text


def _pairs(params: Mapping[str, str | int | Sequence[str]]) -> Iterator[tuple[str, str]]:
    for name, value in params.items():
        if isinstance(value, str | int):
            yield name, str(value)
        else:
            yield from ((name, item) for item in value)


HeaderItems = Mapping[str, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]


class Headers:
    """Header fields in order; names compared without case, kept as given for sending. Fields
    given as bytes (as they came on the wire) are decoded as ISO-8859-1, which keeps every byte."""

    __slots__ = ("_items",)

    def __init__(self, items: HeaderItems | Headers | None = None) -> None:
        self._items: list[tuple[str, str]]
        if items is None:
            self._items = []
        elif isinstance(items, Headers):
            self._items = list(items._items)
        elif isinstance(items, Mapping):
            self._items = [(_text(name), _text(value)) for name, value in items.items()]
        else:
            self._items = [(_text(name), _text(value)) for name, value in items]

    def get_list(self, name: str) -> list[str]:
        key = name.lower()
        return [value for field, value in self._items if field.lower() == key]

    @overload
    def get(self, name: str) -> str | None: ...

    @overload
    def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """Every value of ``name``, joined by ``", "`` as RFC 9110 joins a field's lines."""
        values = self.get_list(name)
        return ", ".join(values) if values else default

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.pop(name)
        self._items.append((name, value))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_list(name))

    def pop(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        key = name.lower()
        self._items = [(field, v) for field, v in self._items if field.lower() != key]
        return value

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({[name for name, _ in self._items]!r})"  # names only: values are secrets


def _text(field: str | bytes) -> str:
    return field.decode("latin-1") if isinstance(field, bytes) else field


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Request:
    """A request: ``content`` (bytes) is its whole body; ``timeout`` the seconds each step
    (connecting, sending, each read) may take; ``extensions`` carry tagmgr's own settings
    through the transports (retry safety, bounds). ``Host`` and ``Content-Length`` are filled
    in as HTTP/1.1 wants them: the host in ASCII as sent (a punycode name is never decoded)."""

    __slots__ = ("content", "extensions", "headers", "method", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: URL | str,
        *,
        headers: HeaderItems | Headers | None = None,
        content: bytes | None = None,
        params: Mapping[str, str | int | Sequence[str]] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        self.method = method
        url = URL.parse(url) if isinstance(url, str) else url
        url = self.url = url.with_params(params) if params else url
        self.headers = Headers(headers)
        self.content = content or b""
        self.timeout: float | None = None
        self.extensions: dict[str, object] = {} if extensions is None else extensions
        if url.host and "Host" not in self.headers:
            self.headers["Host"] = url.netloc
        has_body = content is not None or method in _BODY_METHODS
        if has_body and "Content-Length" not in self.headers:
            self.headers["Content-Length"] = str(len(self.content))

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url.without_query()}>"


class Stream(Protocol):
    """An answer's body as it arrives."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class _Held:
    """A body already in memory."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        if self._content:
            yield self._content

    def close(self) -> None:
        pass


class Response:
    """An answer. Its body is read whole with ``read`` (then ``content``), or chunk by chunk with
    ``iter_bytes``; ``close`` lets its connection go (back to the pool once read whole)."""

    def __init__(
        self,
        status_code: int,
        *,
        headers: HeaderItems | Headers | None = None,
        content: bytes | None = None,
        text: str | None = None,
        json: object = None,
        stream: Stream | None = None,
        request: Request | None = None,
        reason: str = "",
    ) -> None:
        self.status_code = status_code
        self.headers = Headers(headers)
        self._reason = reason
        self._request = request
        self._content: bytes | None = None
        if json is not None:
            content = jsonlib.dumps(json).encode()
            self.headers["Content-Type"] = "application/json"
        elif text is not None:
            content = text.encode()
        if content is not None:
            self._content = content
            stream = _Held(content)
            if "Content-Length" not in self.headers:
                self.headers["Content-Length"] = str(len(content))
        self.stream: Stream = stream if stream is not None else _Held(b"")
        self._closed = False

    @property
    def request(self) -> Request:
        if self._request is None:
            raise RuntimeError("this answer has no request")
        return self._request

    @request.setter
    def request(self, request: Request) -> None:
        self._request = request

    @property
    def url(self) -> URL:
        return self.request.url

    @property
    def reason_phrase(self) -> str:
        """The reason the server gave, else the status code's standard one."""
        if self._reason:
            return self._reason
        from http import HTTPStatus  # noqa: PLC0415 (for error messages only)

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("the answer's body was not read")
        return self._content

    def read(self) -> bytes:
        if self._content is None:
            try:
                self._content = b"".join(self.stream)
            finally:
                self.close()
        return self._content

    def iter_bytes(self, size: int) -> Iterator[bytes]:
        """The body in chunks of ``size`` bytes (the last may be shorter)."""
        pending = bytearray()
        try:
            for chunk in self.stream:
                pending += chunk
                while len(pending) >= size:
                    yield bytes(pending[:size])
                    del pending[:size]
        finally:
            self.close()
        if pending:
            yield bytes(pending)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.stream.close()

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The ``Link`` field (RFC 8288) by ``rel``: each link's ``url`` and parameters."""
        found: dict[str, dict[str, str]] = {}
        for match in _LINK.finditer(self.headers.get("Link", "")):
            link = {"url": match.group(1)}
            link.update((k.lower(), v) for k, v in _LINK_PARAM.findall(match.group(2)))
            found.setdefault(link.get("rel", link["url"]), link)
        return found

    def __repr__(self) -> str:
        return f"<Response {self.status_code}>"


class Transport(Protocol):
    """Where a request goes to be answered: the wire, or a layer in front of it."""

    def handle_request(self, request: Request) -> Response: ...

    def close(self) -> None: ...


class RequestError(Exception):
    """No answer was had for a request."""

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class TransportError(RequestError):
    """The connection failed on the way."""


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class ConnectError(TransportError):
    pass


class ReadError(TransportError):
    pass


class WriteError(TransportError):
    pass


class ProxyError(TransportError):
    """The proxy refused to open a tunnel."""


class RemoteProtocolError(TransportError):
    """The answer was not HTTP/1.1."""


class LocalProtocolError(TransportError):
    """The request could not be sent as HTTP/1.1 (a field with a line break, say)."""


class TooManyRedirects(RequestError):
    pass
