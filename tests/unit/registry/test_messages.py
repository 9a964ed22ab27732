"""The registry client's own HTTP messages: URLs as sent, header fields, requests, answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tagmgr.registry.messages import URL, Headers, InvalidURL, Request, Response


@pytest.mark.parametrize(
    ("text", "scheme", "host", "port", "target"),
    [
        ("https://Registry.Example:443/v2/", "https", "registry.example", None, "/v2/"),
        ("http://127.0.0.1:5000/v2/a/tags/list?n=10", "http", "127.0.0.1", 5000, None),
        ("http://[::1]:5000/v2/", "http", "::1", 5000, "/v2/"),
        ("https://[2001:db8::1]/v2/", "https", "2001:db8::1", None, "/v2/"),
        ("https://xn--n3h.com", "https", "xn--n3h.com", None, "/"),
        ("https://r.example/a b/ü?q=x y", "https", "r.example", None, "/a%20b/%C3%BC?q=x%20y"),
    ],
)
def test_urls_keep_their_ascii_host_and_encode_what_a_request_line_cannot_carry(
    text: str, scheme: str, host: str, port: int | None, target: str | None
) -> None:
    url = URL.parse(text)
    assert (url.scheme, url.host, url.port) == (scheme, host, port)
    assert url.target == (target or text.partition(str(port))[2])
    assert URL.parse(str(url)) == url


@pytest.mark.parametrize(
    "text",
    [
        "https://r.example:99999/v2/",
        "https://r.example:x/v2/",
        "https://bücher.example/v2/",
        "https://r.example/v2/\r\nHost: evil",
        "https://r.exa mple/",
        "http://[::1/",
    ],
)
def test_what_is_no_url_a_request_can_go_to_is_refused(text: str) -> None:
    with pytest.raises(InvalidURL):
        URL.parse(text)


def test_url_parts_and_changes() -> None:
    url = URL.parse("http://user:pw@proxy.example:3128/v2/a%2Fb/?x=1&x=2&y=")
    assert (url.userinfo, url.netloc, url.path) == ("user:pw", "proxy.example:3128", "/v2/a/b/")
    assert url.params == {"x": "1", "y": ""}
    assert str(url.without_query()) == "http://user:pw@proxy.example:3128/v2/a%2Fb/"
    base = URL.parse("https://r.example/v2/")
    assert str(base.with_target("/v2/app/manifests/v1")) == "https://r.example/v2/app/manifests/v1"
    mount = base.with_params({"mount": "sha256:1", "from": "lib/app"})
    assert mount.target == "/v2/?mount=sha256%3A1&from=lib%2Fapp"
    assert mount.with_params({"from": "other"}).params == {"mount": "sha256:1", "from": "other"}
    assert str(base.join("/v2/app/blobs/uploads/1?state=x")) == (
        "https://r.example/v2/app/blobs/uploads/1?state=x"
    )
    assert str(base.join("https://storage.example/b?sig=s")) == "https://storage.example/b?sig=s"
    assert not URL.parse("/v2/app").is_absolute


def test_header_fields_are_found_without_case_and_sent_as_given() -> None:
    headers = Headers([(b"Content-Length", b"5"), (b"X-A", b"1"), (b"x-a", b"\xe9")])
    assert headers.get("content-length") == "5"
    assert headers.get("X-A") == "1, é"  # two lines of one field, joined; bytes kept by latin-1
    assert headers.get_list("x-a") == ["1", "é"]
    assert "CONTENT-LENGTH" in headers
    assert "Location" not in headers
    headers["x-a"] = "2"
    assert headers.items() == [("Content-Length", "5"), ("x-a", "2")]
    assert headers.pop("Missing", "default") == "default"
    assert headers.pop("content-length") == "5"
    assert headers.get("Content-Length") is None
    with pytest.raises(KeyError):
        headers["Content-Length"]
    assert "2" not in repr(Headers({"Authorization": "2"}))  # values may be secrets


def test_requests_carry_host_and_content_length_as_http_1_1_wants() -> None:
    get = Request("GET", "https://xn--n3h.com:5000/v2/")
    assert get.headers.items() == [("Host", "xn--n3h.com:5000")]
    assert Request("POST", "https://r.example/v2/a/blobs/uploads/").headers["Content-Length"] == "0"
    put = Request("PUT", "http://[::1]/v2/a/manifests/v1", content=b"{}")
    assert put.headers.items() == [("Host", "[::1]"), ("Content-Length", "2")]
    token = Request("GET", "https://auth.example/token", params={"scope": ["a", "b"]})
    assert token.url.target == "/token?scope=a&scope=b"


class Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks, self.closed = chunks, False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


def test_answers_are_read_whole_or_in_chunks_of_a_size_and_let_their_connection_go() -> None:
    stream = Chunks(b"abc", b"defg", b"h")
    chunks = list(Response(200, stream=stream).iter_bytes(3))
    assert (chunks, stream.closed) == ([b"abc", b"def", b"gh"], True)
    stream = Chunks(b"ab", b"c")
    answer = Response(200, stream=stream)
    with pytest.raises(RuntimeError):
        answer.content  # noqa: B018 - not read yet
    assert (answer.read(), answer.content, stream.closed) == (b"abc", b"abc", True)


def test_answer_links_statuses_and_reasons() -> None:
    link = '</v2/a/tags/list?last=b&n=2>; rel="next", <https://x.example/>; rel=prev'
    answer = Response(200, headers={"Link": link})
    assert answer.links["next"]["url"] == "/v2/a/tags/list?last=b&n=2"
    assert answer.links["prev"]["url"] == "https://x.example/"
    assert (Response(404).reason_phrase, Response(599).reason_phrase) == ("Not Found", "")
    assert Response(404, reason="Gone Away").reason_phrase == "Gone Away"
    assert Response(204).is_success
    assert not Response(301).is_success
    assert Response(200, json={"a": 1}).headers["Content-Type"] == "application/json"
