"""Redirects, as ``Sender`` follows them: the method each status leaves, the body it keeps, and
the token that goes only where it came from."""

from __future__ import annotations

import pytest

from tagmgr.registry.messages import URL, Request, Response, TooManyRedirects
from tagmgr.registry.sender import MAX_REDIRECTS, NoAuth, Sender
from tests.support.transport import MockTransport

REGISTRY = URL.parse("https://registry.example/v2/app/blobs/sha256:1")
TOKEN = {"Authorization": "Bearer registry-token"}


class Redirecting:
    """Answers the first request with ``status`` to ``location``, the next with 200."""

    def __init__(self, status: int, location: str) -> None:
        self.status = status
        self.location = location
        self.seen: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.seen.append(request)
        if len(self.seen) == 1:
            return Response(self.status, headers={"Location": self.location})
        return Response(200, content=b"blob")


def send(registry: Redirecting, method: str = "GET", content: bytes | None = None) -> Response:
    sender = Sender(MockTransport(registry), NoAuth(), {"User-Agent": "tagmgr/test"})
    return sender.send(method, REGISTRY, {**TOKEN, "Host": "registry.example"}, content=content)


def test_a_redirect_to_another_host_goes_there_without_the_token() -> None:
    registry = Redirecting(307, "https://storage.example/blob?signature=s")
    assert send(registry).content == b"blob"
    followed = registry.seen[1]
    assert str(followed.url) == "https://storage.example/blob?signature=s"
    assert followed.headers["Host"] == "storage.example"
    assert "Authorization" not in followed.headers
    assert "Content-Length" not in followed.headers  # a GET has no body to measure
    assert followed.headers["User-Agent"] == "tagmgr/test"


def test_a_redirect_on_the_same_origin_keeps_the_token() -> None:
    registry = Redirecting(307, "/v2/app/blobs/sha256:2")
    send(registry)
    followed = registry.seen[1]
    assert followed.url == REGISTRY.with_target("/v2/app/blobs/sha256:2")
    assert followed.headers["Authorization"] == TOKEN["Authorization"]


@pytest.mark.parametrize(
    ("status", "method", "sent_as"),
    [(301, "POST", "GET"), (302, "PUT", "GET"), (303, "PATCH", "GET"), (303, "HEAD", "HEAD")],
)
def test_a_redirect_that_changes_the_method_drops_the_body(
    status: int, method: str, sent_as: str
) -> None:
    registry = Redirecting(status, "/elsewhere")
    send(registry, method, b"body" if method != "HEAD" else None)
    followed = registry.seen[1]
    assert followed.method == sent_as
    if sent_as != method:
        assert followed.content == b""
        assert "Content-Length" not in followed.headers


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_send_the_same_request_again(status: int) -> None:
    registry = Redirecting(status, "/elsewhere")
    send(registry, "PUT", b"manifest")
    followed = registry.seen[1]
    assert (followed.method, followed.content) == ("PUT", b"manifest")
    assert followed.headers["Content-Length"] == "8"


def test_redirects_stop_after_the_most_allowed() -> None:
    seen: list[Request] = []

    def loop(request: Request) -> Response:
        seen.append(request)
        return Response(302, headers={"Location": "/again"})

    sender = Sender(MockTransport(loop), NoAuth(), {})
    with pytest.raises(TooManyRedirects, match="more than 20 redirects"):
        sender.send("GET", REGISTRY, {})
    assert len(seen) == MAX_REDIRECTS + 1


def test_a_redirect_without_a_location_is_the_answer() -> None:
    sender = Sender(MockTransport(lambda _: Response(302)), NoAuth(), {})
    assert sender.send("GET", REGISTRY, {}).status_code == 302
